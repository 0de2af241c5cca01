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
		[
			"alg none",
			() => jwt.sign({ typ: "access", sub: "u1" }, "", { algorithm: "none", keyid: keys.current.kid } as jwt.SignOptions),
			"INVALID_TOKEN",
		],
		[
			"HS256 signed with the public key",
			() => {
				const header = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT", kid: keys.current.kid })).toString("base64url");
				const body = Buffer.from(
					JSON.stringify({ sub: "u1", typ: "access", aud: cfg.JWT_AUDIENCE, iss: cfg.JWT_ISSUER, exp: 9999999999 }),
				).toString("base64url");
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
		const fresh = new TokenVerifier({
			fetchJwks: async () => toJwks(published),
			issuer: cfg.JWT_ISSUER,
			audience: cfg.JWT_AUDIENCE,
			refetchIntervalMs: 0,
		});
		await expect(fresh.verify(signAccessToken(rotated, cfg, { sub: "new", sid: "s-new" }))).resolves.toMatchObject({ id: "new" });
		await expect(fresh.verify(signAccessToken(keys, cfg, { sub: "old", sid: "s-old" }))).resolves.toMatchObject({ id: "old" });
	});
});

describe("verified-token cache", () => {
	const keys = ring();
	let published: KeyRing = keys;
	let clock = Date.now();
	const make = (o: { cacheSize?: number } = {}) =>
		new TokenVerifier({
			fetchJwks: async () => toJwks(published),
			issuer: cfg.JWT_ISSUER,
			audience: cfg.JWT_AUDIENCE,
			refetchIntervalMs: 0,
			now: () => clock,
			...o,
		});
	const sign = (claims: object = {}, opts: jwt.SignOptions = {}, with_: KeyRing = keys) =>
		jwt.sign({ typ: "access", tid: "t1", roles: ["member"], sid: "s1", iat: Math.floor(clock / 1000), ...claims }, with_.current.privateKey, {
			algorithm: "RS256",
			keyid: with_.current.kid,
			issuer: cfg.JWT_ISSUER,
			audience: cfg.JWT_AUDIENCE,
			subject: "u1",
			...opts,
		});
	/** the same token with one character of its signature changed */
	const tamper = (token: string) => {
		const i = token.length - 5;
		return token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);
	};
	let verifySpy: jest.SpyInstance;
	beforeEach(() => {
		published = keys;
		clock = Date.now();
		verifySpy = jest.spyOn(jwt, "verify");
	});
	afterEach(() => verifySpy.mockRestore());

	it("checks the signature of a token once, then answers from the cache", async () => {
		const v = make();
		const token = sign({ exp: Math.floor(clock / 1000) + 60 });
		await expect(v.verify(token)).resolves.toEqual({ id: "u1", tenantId: "t1", roles: ["member"], sessionId: "s1" });
		await expect(v.verify(token)).resolves.toEqual({ id: "u1", tenantId: "t1", roles: ["member"], sessionId: "s1" });
		expect(verifySpy).toHaveBeenCalledTimes(1);
		expect(v.cached).toBe(1);
	});

	it("gives every caller its own copy of the user", async () => {
		const v = make();
		const token = sign({ exp: Math.floor(clock / 1000) + 60 });
		const first = await v.verify(token);
		first.roles.push("owner");
		first.id = "someone-else";
		await expect(v.verify(token)).resolves.toEqual({ id: "u1", tenantId: "t1", roles: ["member"], sessionId: "s1" });
	});

	it("still refuses a tampered token right after a cache hit for the genuine one", async () => {
		const v = make();
		const token = sign({ exp: Math.floor(clock / 1000) + 60 });
		await v.verify(token);
		await v.verify(token);
		await expect(v.verify(tamper(token))).rejects.toMatchObject({ code: 401, type: "INVALID_TOKEN" });
		// a token whose payload was swapped for another user's, with the genuine signature
		const [h, , sig] = token.split(".");
		const forgedBody = Buffer.from(JSON.stringify({ ...(jwt.decode(token) as object), sub: "admin", roles: ["owner"] })).toString("base64url");
		await expect(v.verify(`${h}.${forgedBody}.${sig}`)).rejects.toMatchObject({ code: 401, type: "INVALID_TOKEN" });
		// and the genuine token is still answered from the cache: the forged one evicted nothing
		verifySpy.mockClear();
		await expect(v.verify(token)).resolves.toMatchObject({ id: "u1" });
		expect(verifySpy).not.toHaveBeenCalled();
	});

	it("still refuses an expired token right after a cache hit for a valid one", async () => {
		const v = make();
		const valid = sign({ exp: Math.floor(clock / 1000) + 60 });
		await v.verify(valid);
		await v.verify(valid);
		await expect(v.verify(sign({ exp: Math.floor(clock / 1000) - 60 }))).rejects.toMatchObject({ code: 401, type: "TOKEN_EXPIRED" });
	});

	it("stops answering a cached token when it expires, exactly when the full check would", async () => {
		const exp = Math.floor(clock / 1000) + 60;
		const token = sign({ exp });
		const cachedV = make();
		await cachedV.verify(token);
		// at every instant around exp + the 5 s tolerance the cache agrees with a verifier that never saw the token
		for (const at of [exp * 1000 + 4000, exp * 1000 + 4999, exp * 1000 + 5000, exp * 1000 + 5001, exp * 1000 + 60_000]) {
			clock = at;
			const fresh = await make({ cacheSize: 0 })
				.verify(token)
				.then(
					() => "ok",
					(e: { type: string }) => e.type,
				);
			const cached = await cachedV.verify(token).then(
				() => "ok",
				(e: { type: string }) => e.type,
			);
			expect({ at: at - exp * 1000, cached }).toEqual({ at: at - exp * 1000, cached: fresh });
		}
		expect(cachedV.cached).toBe(0);
	});

	it("refuses a cached token once its key is no longer published, and a token of a revoked kid after a hit for another", async () => {
		const v = make();
		const oldToken = sign({ exp: Math.floor(clock / 1000) + 600 });
		await v.verify(oldToken);
		await v.verify(oldToken);
		// the old key is revoked: a new ring without it; a token of the new key makes the verifier refetch the JWKS
		const rotated = ring();
		published = rotated;
		const newToken = sign({ exp: Math.floor(clock / 1000) + 600 }, {}, rotated);
		await expect(v.verify(newToken)).resolves.toMatchObject({ id: "u1" });
		await expect(v.verify(newToken)).resolves.toMatchObject({ id: "u1" });
		await expect(v.verify(oldToken)).rejects.toMatchObject({ code: 401, type: "INVALID_TOKEN" });
		await expect(v.verify(sign({ exp: Math.floor(clock / 1000) + 600, sid: "s2" }))).rejects.toMatchObject({ code: 401, type: "INVALID_TOKEN" });
	});

	it("re-checks a cached token after the JWKS was refetched, and keeps accepting it while its key is still published", async () => {
		const v = make();
		const token = sign({ exp: Math.floor(clock / 1000) + 600 });
		await v.verify(token);
		// a rotation that keeps the old key as a previous one
		const rotated: KeyRing = { ...ring(), previous: [{ kid: keys.current.kid, key: keys.current.key }] };
		published = rotated;
		await v.verify(sign({ exp: Math.floor(clock / 1000) + 600 }, {}, rotated));
		verifySpy.mockClear();
		await expect(v.verify(token)).resolves.toMatchObject({ id: "u1" });
		expect(verifySpy).toHaveBeenCalledTimes(1);
	});

	it("refuses a token without exp (it would never expire)", async () => {
		await expect(make().verify(sign({}))).rejects.toMatchObject({ code: 401, type: "INVALID_TOKEN" });
	});

	it("never caches what it refuses", async () => {
		const v = make();
		for (const bad of [
			sign({ exp: Math.floor(clock / 1000) - 60 }),
			sign({ exp: Math.floor(clock / 1000) + 60, typ: "refresh" }),
			sign({ exp: Math.floor(clock / 1000) + 60 }, { audience: "other" }),
		])
			await expect(v.verify(bad)).rejects.toMatchObject({ code: 401 });
		expect(v.cached).toBe(0);
	});

	it("is bounded in size, the oldest entry going first", async () => {
		const v = make({ cacheSize: 2 });
		const tokens = ["a", "b", "c"].map(sid => sign({ exp: Math.floor(clock / 1000) + 60, sid }));
		for (const t of tokens) await v.verify(t);
		expect(v.cached).toBe(2);
		verifySpy.mockClear();
		await v.verify(tokens[2]);
		expect(verifySpy).not.toHaveBeenCalled();
		await v.verify(tokens[0]);
		expect(verifySpy).toHaveBeenCalledTimes(1);
		expect(v.cached).toBe(2);
	});
});
