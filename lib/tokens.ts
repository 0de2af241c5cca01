/** Access tokens: RS256, signed by the key ring's current key, with the claims the gateway checks. */
import jwt from "jsonwebtoken";
import type { Config } from "./config";
import type { KeyRing } from "./keys";

export interface AccessTokenInput {
	sub: string;
	tid?: string | null;
	roles?: string[];
	/** the session that issued the token: required, the gateway refuses a token without (lib/jwt.ts) */
	sid: string;
	/** seconds; defaults to JWT_ACCESS_TTL_S */
	ttlSec?: number;
}

export function signAccessToken(ring: KeyRing, cfg: Config, input: AccessTokenInput): string {
	return jwt.sign({ tid: input.tid ?? null, roles: input.roles ?? [], typ: "access", sid: input.sid }, ring.current.privateKey, {
		algorithm: "RS256",
		keyid: ring.current.kid,
		issuer: cfg.JWT_ISSUER,
		audience: cfg.JWT_AUDIENCE,
		subject: input.sub,
		expiresIn: input.ttlSec ?? cfg.JWT_ACCESS_TTL_S,
	});
}
