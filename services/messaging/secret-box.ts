/**
 * Meta app secrets and access tokens at rest: AES-256-GCM with MESSAGING_SECRET_KEY. Outside production a
 * missing key is generated into DATA_DIR/keys/messaging-secret.key on first start (as the JWT dev keys
 * are: lib/keys.ts), shared by every node that shares DATA_DIR. A sealed value is
 * `v1.<iv>.<tag>.<ciphertext>` (base64url): the tag makes a tampered value fail to open.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { dataPath, type Config } from "../../lib/config";
import { SecretBox } from "../../lib/secret-box";

export function loadSecretKey(cfg: Config): Buffer {
	if (cfg.MESSAGING_SECRET_KEY) return Buffer.from(cfg.MESSAGING_SECRET_KEY, "base64");
	if (cfg.NODE_ENV === "production") throw new Error("MESSAGING_SECRET_KEY: required in production (openssl rand -base64 32)");
	const file = dataPath(cfg, "keys", "messaging-secret.key");
	fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
	try {
		// "wx": of nodes starting together on one DATA_DIR, one writes the key and the others read it.
		fs.writeFileSync(file, randomBytes(32).toString("base64"), { mode: 0o600, flag: "wx" });
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
	}
	const key = Buffer.from(fs.readFileSync(file, "utf8").trim(), "base64");
	if (key.length !== 32) throw new Error(`${file}: not a 32-byte key in base64`);
	return key;
}

// The cipher is lib/secret-box.ts's (one AES-256-GCM implementation); messaging keeps its own key.
export function seal(key: Buffer, plain: string): string {
	return new SecretBox(key).seal(plain);
}

export function open(key: Buffer, sealed: string): string {
	return new SecretBox(key).open(sealed);
}

/** What the API shows of a secret once saved: that one is set, and its last 4 characters. */
export function hint(plain: string): { set: true; last4: string } {
	return { set: true, last4: plain.slice(-4) };
}
