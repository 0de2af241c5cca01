/** Meta app secrets at rest (services/messaging/secret-box.ts): AES-256-GCM, a dev key made once, none in production. */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConfigError, loadConfig } from "../../lib/config";
import { loadSecretKey, open, seal } from "../../services/messaging/secret-box";

describe("messaging secret box", () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-secret-box-"));
	afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

	it("opens what it sealed, and refuses a tampered value", () => {
		const { key, generated } = loadSecretKey(loadConfig({ NODE_ENV: "test", DATA_DIR: dir }));
		expect(generated).toBe(true); // a new DATA_DIR: the dev key is made now (the service says so in its log)
		const sealed = seal(key, "app-secret-1234");
		expect(sealed).not.toContain("app-secret");
		expect(seal(key, "app-secret-1234")).not.toBe(sealed); // a fresh IV each time
		expect(open(key, sealed)).toBe("app-secret-1234");
		const [v, iv, tag, data] = sealed.split(".");
		const flipped = Buffer.from(data, "base64url");
		flipped[0] ^= 1;
		expect(() => open(key, [v, iv, tag, flipped.toString("base64url")].join("."))).toThrow();
		expect(() =>
			open(loadSecretKey(loadConfig({ NODE_ENV: "test", MESSAGING_SECRET_KEY: Buffer.alloc(32, 7).toString("base64") })).key, sealed),
		).toThrow();
	});

	it("makes the dev key once and keeps it; production needs MESSAGING_SECRET_KEY", () => {
		const a = loadSecretKey(loadConfig({ NODE_ENV: "development", DATA_DIR: dir }));
		expect(loadSecretKey(loadConfig({ NODE_ENV: "development", DATA_DIR: dir }))).toEqual({ key: a.key, generated: false });
		expect(fs.statSync(path.join(dir, "keys", "messaging-secret.key")).mode & 0o777).toBe(0o600);
		expect(() => loadSecretKey(loadConfig({ NODE_ENV: "production", DATA_DIR: dir }))).toThrow(/MESSAGING_SECRET_KEY: required in production/);
		expect(() => loadConfig({ MESSAGING_SECRET_KEY: "short" })).toThrow(ConfigError);
		expect(() => loadConfig({ GRAPH_API_URL: "ftp://graph" })).toThrow(/GRAPH_API_URL/);
	});
});
