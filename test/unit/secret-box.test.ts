import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Config } from "../../lib/config";
import { loadSecretKey, SecretBox } from "../../lib/secret-box";

describe("SecretBox (AES-256-GCM)", () => {
	const box = new SecretBox(randomBytes(32));

	it("opens what it sealed; the same text seals differently each time", () => {
		const a = box.seal("gho_token");
		expect(box.open(a)).toBe("gho_token");
		expect(box.seal("gho_token")).not.toBe(a);
		expect(a).not.toContain("gho_token");
	});

	it("refuses a changed value and another key's value", () => {
		const sealed = box.seal("secret");
		const [v, iv, tag, data] = sealed.split(".");
		const flipped = Buffer.from(data, "base64url");
		flipped[0] ^= 1;
		expect(() => box.open([v, iv, tag, flipped.toString("base64url")].join("."))).toThrow();
		expect(() => new SecretBox(randomBytes(32)).open(sealed)).toThrow();
		expect(() => box.open("not sealed")).toThrow();
	});

	it("uses SECRETS_KEY, else generates one dev key and keeps it; production needs SECRETS_KEY", () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sb-"));
		const cfg = { DATA_DIR: dir, NODE_ENV: "development" } as Config;
		const first = loadSecretKey(cfg);
		expect(first.generated).toBe(true);
		expect(loadSecretKey(cfg)).toEqual({ key: first.key, generated: false });
		const given = randomBytes(32);
		expect(loadSecretKey({ ...cfg, SECRETS_KEY: given.toString("base64url") }).key.equals(given)).toBe(true);
		expect(() => loadSecretKey({ ...cfg, NODE_ENV: "production" })).toThrow(/SECRETS_KEY/);
	});
});
