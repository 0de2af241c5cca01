/**
 * An API client's access token (README, "API clients"): RS256 by the same key ring, issuer and audience
 * as a user's access token (lib/tokens.ts), so gateways verify both alike (lib/jwt.ts); `typ: "client"`,
 * `sub` the client id, `tid` its tenant, `scope` what it was granted, and `sid` an id of this token alone,
 * so that revoking it (RFC 7009) is an ordinary session revocation (lib/revocations.ts).
 */
import { randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import type { Config } from "../../../lib/config";
import type { KeyRing } from "../../../lib/keys";

export interface ClientTokenInput {
	clientId: string;
	tenantId: string;
	scopes: string[];
}

export interface ClientToken {
	accessToken: string;
	/** the token's own id (its `sid` and `jti`) */
	tokenId: string;
	expiresIn: number;
}

export function signClientToken(ring: KeyRing, cfg: Config, input: ClientTokenInput): ClientToken {
	const tokenId = `ct_${randomUUID()}`;
	const accessToken = jwt.sign(
		{ tid: input.tenantId, roles: [], typ: "client", sid: tokenId, scope: input.scopes.join(" ") },
		ring.current.privateKey,
		{
			algorithm: "RS256",
			keyid: ring.current.kid,
			issuer: cfg.JWT_ISSUER,
			audience: cfg.JWT_AUDIENCE,
			subject: input.clientId,
			jwtid: tokenId,
			expiresIn: cfg.JWT_ACCESS_TTL_S,
		},
	);
	return { accessToken, tokenId, expiresIn: cfg.JWT_ACCESS_TTL_S };
}
