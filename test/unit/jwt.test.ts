import { createHmac, generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { loadConfig } from "../../lib/config";
import { thumbprint, toJwks, type KeyRing } from "../../lib/keys";
import { TokenVerifier } from "../../lib/jwt";
import { signAccessToken } from "../../lib/tokens";

const cfg = loadConfig({ NODE_ENV: "test" });

function ring(): KeyRing {
	const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
	return { current: { kid: thumbprint(publicKey), key: publicKey, privateKey }, previous: [], generated: true };
}

describe("access token verification", () => {
	const keys = ring();
	let fetches = 0;
	let published = keys;
	const verifier = new TokenVerifier({
		fetchJwks: async () => {
			fetches++;
			return toJwks(published);
		},
		issuer: cfg.JWT_ISSUER,
		audience: cfg.JWT_AUDIENCE,
	});
	const publicPem = keys.current.key.export({ type: "spki", format: "pem" }) as string;
	const sign = (claims: object, opts: jwt.SignOptions = {}) =>
		jwt.sign({ typ: "access", tid: "t1", roles: ["member"], sid: "s1", ...claims }, keys.current.privateKey, {
			algorithm: "RS256",
			keyid: keys.current.kid,
			issuer: cfg.JWT_ISSUER,
			audience: cfg.JWT_AUDIENCE,
			subject: "u1",
			expiresIn: 60,
			...opts,
		});

	it("accepts a valid token and returns the small user object", async () => {
		const user = await verifier.verify(signAccessToken(keys, cfg, { sub: "u1", tid: "t1", roles: ["admin"], sid: "s1" }));
		expect(user).toEqual({ id: "u1", tenantId: "t1", roles: ["admin"], sessionId: "s1" });
		await expect(verifier.verify(sign({}))).resolves.toMatchObject({ id: "u1", sessionId: "s1" });
	});

	it.each([
		["expired", () => sign({}, { expiresIn: -60 }), "TOKEN_EXPIRED"],
		["wrong audience", () => sign({}, { audience: "someone-else" }), "INVALID_TOKEN"],
		["wrong issuer", () => sign({}, { issuer: "evil" }), "INVALID_TOKEN"],
		["refresh-type token", () => sign({ typ: "refresh" }), "INVALID_TOKEN"],
		// every token auth issues names its session (so ending it can revoke the token): one without is not ours
		["no session id", () => sign({ sid: undefined }), "INVALID_TOKEN"],
		["an empty session id", () => sign({ sid: "" }), "INVALID_TOKEN"],
		["alg none", () => jwt.sign({ typ: "access", sub: "u1" }, "", { algorithm: "none", keyid: keys.current.kid } as jwt.SignOptions), "INVALID_TOKEN"],
		[
			"HS256 signed with the public key",
			() => {
				const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT", kid: keys.current.kid })).toString("base64url");
				const body = Buffer.from(JSON.stringify({ sub: "u1", typ: "access", aud: cfg.JWT_AUDIENCE, iss: cfg.JWT_ISSUER, exp: 9999999999 })).toString("base64url");
				const sig = createHmac("sha256", publicPem).update(`${header}.${body}`).digest("base64url");
				return `${header}.${body}.${sig}`;
			},
			"INVALID_TOKEN",
		],
		["garbage", () => "not-a-token", "INVALID_TOKEN"],
	])("rejects %s with 401", async (_name, make, code) => {
		await expect(verifier.verify(make())).rejects.toMatchObject({ code: 401, type: code });
	});

	it("refetches the JWKS for an unknown kid at most once per interval", async () => {
		const other = ring();
		const forged = jwt.sign({ typ: "access" }, other.current.privateKey, {
			algorithm: "RS256",
			keyid: other.current.kid,
			issuer: cfg.JWT_ISSUER,
			audience: cfg.JWT_AUDIENCE,
			subject: "u1",
		});
		const before = fetches;
		await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 401 });
		await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 401 });
		await expect(verifier.verify(forged)).rejects.toMatchObject({ code: 401 });
		expect(fetches - before).toBeLessThanOrEqual(1);
	});

	it("finds a new signing key after rotation, and still accepts the previous one", async () => {
		const rotated: KeyRing = { ...ring(), previous: [{ kid: keys.current.kid, key: keys.current.key }] };
		published = rotated;
		const fresh = new TokenVerifier({ fetchJwks: async () => toJwks(published), issuer: cfg.JWT_ISSUER, audience: cfg.JWT_AUDIENCE, refetchIntervalMs: 0 });
		await expect(fresh.verify(signAccessToken(rotated, cfg, { sub: "new", sid: "s-new" }))).resolves.toMatchObject({ id: "new" });
		await expect(fresh.verify(signAccessToken(keys, cfg, { sub: "old", sid: "s-old" }))).resolves.toMatchObject({ id: "old" });
	});
});
