/**
 * The gateway's token checks against the keys the real `auth` service publishes, and the JWKS endpoint.
 */
import { createHmac, generateKeyPairSync } from "node:crypto";
import jwt from "jsonwebtoken";
import { startPlatform, type Platform } from "../helpers/platform";

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString("base64url");

describe("auth: JWKS and token checks at the gateway", () => {
	let p: Platform;
	const claims = () => {
		const now = Math.floor(Date.now() / 1000);
		return { sub: "user-1", tid: null, roles: [], typ: "access", iss: "valence", aud: "valence-api", iat: now, exp: now + 300 };
	};

	beforeAll(async () => {
		p = await startPlatform({ services: ["auth"], env: { PASSWORD_SCRYPT_N: "1024" } });
	});
	afterAll(() => p.stop());

	it("publishes the public signing keys at /.well-known/jwks.json, and only the public half", async () => {
		const res = await p.http("GET", "/.well-known/jwks.json");
		expect(res.status).toBe(200);
		expect(res.body.keys.map((k: { kid: string }) => k.kid)).toContain(p.keys.current.kid);
		expect(res.headers.get("cache-control")).toBe("public, max-age=300");
		for (const k of res.body.keys) {
			expect(k).toMatchObject({ kty: "RSA", alg: "RS256", use: "sig", n: expect.any(String), e: "AQAB" });
			for (const secret of ["d", "p", "q", "dp", "dq", "qi"]) expect(k).not.toHaveProperty(secret);
		}
		// not routed under /api
		expect((await p.http("GET", "/api/auth/jwks")).status).toBe(404);
	});

	it("accepts a valid token", async () => {
		const res = await p.http("GET", "/api/auth/sessions", { token: p.token({ sub: "user-1" }) });
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ rows: [], total: 0 });
	});

	it("rejects an expired token: 401 TOKEN_EXPIRED", async () => {
		const res = await p.http("GET", "/api/auth/sessions", { token: p.token({ sub: "user-1", ttlSec: -60 }) });
		expect(res.status).toBe(401);
		expect(res.body.code).toBe("TOKEN_EXPIRED");
	});

	const forged: [string, () => string][] = [
		["alg: none", () => `${b64({ alg: "none", typ: "JWT", kid: p.keys.current.kid })}.${b64(claims())}.`],
		[
			"HS256 signed with the public key as the secret",
			() => {
				const pem = p.keys.current.key.export({ type: "spki", format: "pem" }) as string;
				const head = `${b64({ alg: "HS256", typ: "JWT", kid: p.keys.current.kid })}.${b64(claims())}`;
				return `${head}.${createHmac("sha256", pem).update(head).digest("base64url")}`;
			},
		],
		[
			"the wrong audience",
			() => jwt.sign({ ...claims(), aud: "someone-else" }, p.keys.current.privateKey, { algorithm: "RS256", keyid: p.keys.current.kid }),
		],
		[
			"the wrong issuer",
			() => jwt.sign({ ...claims(), iss: "evil" }, p.keys.current.privateKey, { algorithm: "RS256", keyid: p.keys.current.kid }),
		],
		[
			"an unknown kid (a key we never published)",
			() => {
				const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
				return jwt.sign(claims(), privateKey, { algorithm: "RS256", keyid: "not-a-key-of-ours" });
			},
		],
		[
			"a known kid but another key's signature",
			() => {
				const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
				return jwt.sign(claims(), privateKey, { algorithm: "RS256", keyid: p.keys.current.kid });
			},
		],
		[
			"a refresh-like token type",
			() => jwt.sign({ ...claims(), typ: "refresh" }, p.keys.current.privateKey, { algorithm: "RS256", keyid: p.keys.current.kid }),
		],
		["garbage", () => "not.a.jwt"],
	];

	it.each(forged)("rejects a token with %s: 401", async (_name, make) => {
		const res = await p.http("GET", "/api/auth/sessions", { token: make() });
		expect(res.status).toBe(401);
		expect(res.body.code).toBe("INVALID_TOKEN");
		expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
	});

	it("asks for a token on a protected route without one", async () => {
		const res = await p.http("GET", "/api/auth/sessions");
		expect(res.status).toBe(401);
	});
});
