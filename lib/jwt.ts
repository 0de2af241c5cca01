/**
 * Access-token verification without a call per request: RS256 only; issuer, audience, expiry,
 * token type and a session id checked; the key found by `kid` in a cached JWKS. An unknown kid refetches the JWKS,
 * at most once per `refetchIntervalMs`, so forged kids cannot make us hammer the auth service.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from "node:crypto";
import jwt from "jsonwebtoken";
import { UnauthorizedError, type AuthUser } from "./access";

export interface AccessClaims {
	sub: string;
	tid?: string | null;
	roles?: string[];
	typ: string;
	sid: string;
}

export interface VerifierOptions {
	fetchJwks: () => Promise<{ keys: (JsonWebKey & { kid?: string })[] }>;
	issuer: string;
	audience: string;
	refetchIntervalMs?: number;
}

export class TokenVerifier {
	private keys = new Map<string, KeyObject>();
	private lastFetch = 0;
	private inflight?: Promise<void>;

	constructor(private readonly opts: VerifierOptions) {}

	private refresh(): Promise<void> {
		this.inflight ??= this.opts
			.fetchJwks()
			.then(({ keys }) => {
				this.keys = new Map(keys.filter(k => k.kid && k.kty === "RSA").map(k => [k.kid!, createPublicKey({ key: k, format: "jwk" })]));
			})
			.finally(() => {
				this.lastFetch = Date.now();
				this.inflight = undefined;
			});
		return this.inflight;
	}

	private async keyFor(kid: string): Promise<KeyObject | undefined> {
		if (!this.keys.has(kid) && Date.now() - this.lastFetch >= (this.opts.refetchIntervalMs ?? 30_000)) {
			await this.refresh().catch(() => undefined);
		}
		return this.keys.get(kid);
	}

	/** The user in a valid access token; 401 for anything else. */
	async verify(token: string): Promise<AuthUser> {
		const decoded = jwt.decode(token, { complete: true });
		if (!decoded || typeof decoded.payload === "string") throw invalid();
		const { alg, kid } = decoded.header;
		if (alg !== "RS256" || !kid) throw invalid();
		const key = await this.keyFor(kid);
		if (!key) throw invalid();
		let claims: AccessClaims;
		try {
			claims = jwt.verify(token, key, {
				algorithms: ["RS256"],
				issuer: this.opts.issuer,
				audience: this.opts.audience,
				clockTolerance: 5,
			}) as AccessClaims;
		} catch (err) {
			if (err instanceof jwt.TokenExpiredError) throw new UnauthorizedError("The access token has expired.", "TOKEN_EXPIRED");
			throw invalid();
		}
		// Every access token names the session auth started for it (`sid`), so that ending the session can
		// revoke the token (lib/revocations.ts); only auth holds the key that signs one. A token without is refused.
		if (claims.typ !== "access" || typeof claims.sub !== "string" || typeof claims.sid !== "string" || !claims.sid) throw invalid();
		return { id: claims.sub, tenantId: claims.tid ?? null, roles: Array.isArray(claims.roles) ? claims.roles : [], sessionId: claims.sid };
	}
}

const invalid = () => new UnauthorizedError("The access token is invalid.", "INVALID_TOKEN");
