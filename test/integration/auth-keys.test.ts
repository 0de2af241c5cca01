/**
 * Signing-key rotation: after the key files are rotated and auth reloads (or restarts), new tokens
 * are signed with the new key while tokens signed with the previous key still verify.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import jwt from "jsonwebtoken";
import { config, resetConfig } from "../../lib/config";
import { TokenVerifier } from "../../lib/jwt";
import { loadKeyRing, rotateKeys } from "../../lib/keys";
import { signAccessToken } from "../../lib/tokens";
import { FakeUsers } from "../helpers/fake-users";
import { startPlatform, type Platform } from "../helpers/platform";

describe("auth: signing key rotation", () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-keys-"));
	const env = { JWT_KEYS_DIR: dir, PASSWORD_SCRYPT_N: "1024" };
	let p: Platform | undefined;

	const verifierFor = (platform: Platform) => {
		const cfg = config();
		return new TokenVerifier({
			fetchJwks: () => platform.broker.call("auth.jwks", {}) as Promise<{ keys: [] }>,
			issuer: cfg.JWT_ISSUER,
			audience: cfg.JWT_AUDIENCE,
			refetchIntervalMs: 0,
		});
	};

	afterAll(async () => {
		await p?.stop();
		delete process.env.JWT_KEYS_DIR;
		resetConfig();
		fs.rmSync(dir, { recursive: true, force: true });
	});

	it("keeps verifying tokens of the previous key after a rotation and a reload", async () => {
		p = await startPlatform({ services: ["auth"], extra: [FakeUsers], gateway: false, env });
		const cfg = config();
		const ringA = loadKeyRing(cfg);
		const oldToken = signAccessToken(ringA, cfg, { sub: "u-old", tid: "t1", roles: ["member"], sid: "s-old" });

		rotateKeys(dir);
		const reloaded = (await p.broker.call("auth.reloadKeys", {})) as { kid: string; previous: string[] };
		expect(reloaded.kid).not.toBe(ringA.current.kid);
		expect(reloaded.previous).toContain(ringA.current.kid);

		const verifier = verifierFor(p);
		await expect(verifier.verify(oldToken)).resolves.toEqual({ id: "u-old", tenantId: "t1", roles: ["member"], sessionId: "s-old" });

		// new tokens are signed with the new key, and verify too
		const issued = (await p.broker.call("auth.register", { email: "rotate@example.com", password: "correct-horse-42", name: "R" })) as {
			accessToken: string;
		};
		expect(jwt.decode(issued.accessToken, { complete: true })?.header.kid).toBe(reloaded.kid);
		await expect(verifier.verify(issued.accessToken)).resolves.toMatchObject({
			id: expect.any(String),
			tenantId: null,
			sessionId: expect.any(String),
		});
	});

	it("serves both keys after a restart, from the files alone", async () => {
		const before = loadKeyRing(config());
		await p!.stop();
		p = await startPlatform({ services: ["auth"], extra: [FakeUsers], gateway: false, env });
		const jwks = (await p.broker.call("auth.jwks", {})) as { keys: { kid: string }[] };
		expect(jwks.keys.map(k => k.kid)).toEqual([before.current.kid, ...before.previous.map(k => k.kid)]);
		expect(before.previous).toHaveLength(1);
	});
});
