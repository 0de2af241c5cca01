/**
 * Meta app secrets and access tokens at rest: AES-256-GCM with MESSAGING_SECRET_KEY. Outside production a
 * missing key is generated into DATA_DIR/keys/messaging-secret.key on first start (as the JWT dev keys
 * are: lib/keys.ts), shared by every node that shares DATA_DIR. A sealed value is
 * `v1.<iv>.<tag>.<ciphertext>` (base64url): the tag makes a tampered value fail to open.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { dataPath, type Config } from "../../lib/config";

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

export function seal(key: Buffer, plain: string): string {
	const iv = randomBytes(12);
	const cipher = createCipheriv("aes-256-gcm", key, iv);
	const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
	return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), data.toString("base64url")].join(".");
}

export function open(key: Buffer, sealed: string): string {
	const [version, iv, tag, data] = sealed.split(".");
	if (version !== "v1" || !iv || !tag || data === undefined) throw new Error("not a sealed value");
	const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
	decipher.setAuthTag(Buffer.from(tag, "base64url"));
	return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
}

/** What the API shows of a secret once saved: that one is set, and its last 4 characters. */
export function hint(plain: string): { set: true; last4: string } {
	return { set: true, last4: plain.slice(-4) };
}
