/**
 * The OAuth 2.0 endpoints for API clients (README, "API clients"): `POST /oauth/token` with
 * `grant_type=client_credentials` (RFC 6749 §4.4), `POST /oauth/revoke` (RFC 7009) and
 * `POST /oauth/introspect` (RFC 7662). Every one authenticates the client (RFC 6749 §2.3.1: HTTP Basic,
 * or `client_id` + `client_secret` in the form, never both); introspection answers only for tokens of
 * the caller's own tenant.
 */
import { timingSafeEqual } from "node:crypto";
import jwt from "jsonwebtoken";
import { asSystem } from "../../../lib/context";
import { OAuthInvalidClientError, OAuthInvalidRequestError, OAuthInvalidScopeError, OAuthUnsupportedGrantTypeError } from "../../../lib/errors";
import { sha256 } from "../sessions";
import type { ClientRow, OAuthMethodsOf } from "./types";

/** RFC 6749 §2.3.1: the Basic credentials are form-urlencoded before they are joined. */
const formDecode = (s: string) => {
	try {
		return decodeURIComponent(s.replace(/\+/g, " "));
	} catch {
		return null;
	}
};

function basicCredentials(header: string | undefined): { id: string; secret: string } | null {
	if (!header) return null;
	const [scheme, value] = header.split(" ");
	if (scheme?.toLowerCase() !== "basic" || !value) throw new OAuthInvalidClientError();
	const decoded = Buffer.from(value, "base64").toString("utf8");
	const colon = decoded.indexOf(":");
	const id = colon > 0 ? formDecode(decoded.slice(0, colon)) : null;
	const secret = colon > 0 ? formDecode(decoded.slice(colon + 1)) : null;
	if (!id || secret == null) throw new OAuthInvalidClientError();
	return { id, secret };
}

const sameHash = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export const tokenEndpointMethods: OAuthMethodsOf<"authenticateClient" | "issueToken" | "revokeToken" | "introspect" | "activeClientToken"> = {
	async authenticateClient(ctx) {
		const header = ctx.meta.headers?.authorization;
		const basic = basicCredentials(typeof header === "string" ? header : undefined);
		const { client_id: bodyId, client_secret: bodySecret } = ctx.params;
		if (basic && bodySecret !== undefined) throw new OAuthInvalidRequestError("Use one way of client authentication, not two.");
		const creds = basic ?? (bodyId && bodySecret ? { id: bodyId, secret: bodySecret } : null);
		if (!creds) throw new OAuthInvalidClientError();
		if (basic && bodyId !== undefined && bodyId !== basic.id)
			throw new OAuthInvalidRequestError("client_id does not match the authenticated client.");
		// Before any tenant is known: the client id names it (the deliberate cross-tenant lookup).
		const row = await this.unscopedFindOne<ClientRow>({ clientId: creds.id });
		const presented = sha256(creds.secret);
		if (!row || !sameHash(presented, row.secretHash) || row.revokedAt) throw new OAuthInvalidClientError();
		return row;
	},

	async issueToken(ctx) {
		const { grant_type: grant, scope } = ctx.params;
		if (!grant) throw new OAuthInvalidRequestError("grant_type is required.");
		const client = await this.authenticateClient(ctx);
		if (grant !== "client_credentials") throw new OAuthUnsupportedGrantTypeError();
		const requested = scope === undefined ? client.scopes : [...new Set(scope.split(" ").filter(Boolean))];
		for (const s of requested) if (!client.scopes.includes(s)) throw new OAuthInvalidScopeError(s);
		if (!requested.length) throw new OAuthInvalidScopeError("");
		const issued = (await ctx.call("auth.signClientToken", { clientId: client.clientId, tenantId: client.tenantId, scopes: requested })) as {
			accessToken: string;
			expiresIn: number;
		};
		return { access_token: issued.accessToken, token_type: "Bearer", expires_in: issued.expiresIn, scope: requested.join(" ") };
	},

	/** RFC 7009: 200 whatever the token was; only a token issued to this very client is revoked. */
	async revokeToken(ctx) {
		if (!ctx.params.token) throw new OAuthInvalidRequestError("token is required.");
		const client = await this.authenticateClient(ctx);
		const active = await this.activeClientToken(ctx.params.token);
		if (active && active.clientId === client.clientId) {
			await ctx.call("auth.revokeTokens", { kind: "session", id: active.tokenId });
			// known here at once; other nodes hear auth's broadcast
			this.revocations.add([
				{ kind: "session", id: active.tokenId, until: new Date(((active.claims.exp as number) + 10) * 1000).toISOString() },
			]);
		}
		return {};
	},

	/** RFC 7662, for the caller's own tenant: anything else (another tenant's, a user's, an invalid token) is `{ active: false }`. */
	async introspect(ctx) {
		if (!ctx.params.token) throw new OAuthInvalidRequestError("token is required.");
		const client = await this.authenticateClient(ctx);
		const active = await this.activeClientToken(ctx.params.token);
		if (!active || active.tenantId !== client.tenantId) return { active: false };
		const c = active.claims;
		return {
			active: true,
			scope: c.scope,
			client_id: c.sub,
			sub: c.sub,
			token_type: "Bearer",
			exp: c.exp,
			iat: c.iat,
			iss: c.iss,
			aud: c.aud,
			jti: c.jti,
		};
	},

	async activeClientToken(token) {
		const user = await this.verifier.verify(token).catch(() => null);
		if (!user?.scopes || !user.tenantId || !user.sessionId) return null;
		const tokenId = user.sessionId;
		if (this.tokenRevoked(user)) return null;
		const client = await this.scopedFindOne<ClientRow & { tenantId: string }>(asSystem(user.tenantId), { clientId: user.id });
		if (!client || client.revokedAt) return null;
		return { claims: jwt.decode(token) as Record<string, unknown>, tenantId: user.tenantId, clientId: user.id, tokenId };
	},
};
