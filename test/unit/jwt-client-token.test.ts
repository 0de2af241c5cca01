/** API clients' tokens (typ "client") verify like user tokens and carry their scopes; without a scope claim they are refused. */
import { generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { loadConfig } from "../../lib/config";
import { TokenVerifier } from "../../lib/jwt";
import { thumbprint, toJwks, type KeyRing } from "../../lib/keys";
import { signClientToken } from "../../services/identity/oauth/client-token";

const cfg = loadConfig({ NODE_ENV: "test" });
const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
const keys: KeyRing = { current: { kid: thumbprint(publicKey), key: publicKey, privateKey }, previous: [], generated: true };
const verifier = new TokenVerifier({ fetchJwks: async () => toJwks(keys), issuer: cfg.JWT_ISSUER, audience: cfg.JWT_AUDIENCE });

describe("client tokens", () => {
	it("verify into a user with the client id, its tenant, no roles and its scopes", async () => {
		const issued = signClientToken(keys, cfg, { clientId: "vc_1", tenantId: "t1", scopes: ["leads:read", "leads:write"] });
		const user = await verifier.verify(issued.accessToken);
		expect(user).toEqual({ id: "vc_1", tenantId: "t1", roles: [], sessionId: issued.tokenId, scopes: ["leads:read", "leads:write"] });
		// a cache hit answers the same (a copy)
		user.scopes!.push("admin:all");
		expect((await verifier.verify(issued.accessToken)).scopes).toEqual(["leads:read", "leads:write"]);
	});

	it("refuse a client token without a scope claim, and a user token never gets scopes", async () => {
		const sign = (claims: object) =>
			jwt.sign({ tid: "t1", roles: [], sid: "s1", ...claims }, privateKey, {
				algorithm: "RS256",
				keyid: keys.current.kid,
				issuer: cfg.JWT_ISSUER,
				audience: cfg.JWT_AUDIENCE,
				subject: "vc_1",
				expiresIn: 60,
			});
		await expect(verifier.verify(sign({ typ: "client" }))).rejects.toMatchObject({ code: 401 });
		expect((await verifier.verify(sign({ typ: "access", scope: "leads:read" }))).scopes).toBeUndefined();
	});
});
