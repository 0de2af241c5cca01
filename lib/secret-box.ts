/**
 * Secrets at rest (third-party tokens): AES-256-GCM, a fresh 96-bit IV per value, the auth tag checked on
 * open. The key is SECRETS_KEY (32 bytes, base64url). Outside production a missing key is generated into
 * DATA_DIR/keys/secrets.key on first start, like the JWT dev keys (lib/keys.ts); in production it is required.
 * Sealed values read `v1.<iv>.<tag>.<ciphertext>` (base64url), so a later key scheme can be told apart.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { dataPath, type Config } from "./config";

export class SecretBox {
	constructor(private readonly key: Buffer) {
		if (key.length !== 32) throw new Error("SecretBox: the key must be 32 bytes");
	}

	seal(plain: string): string {
		const iv = randomBytes(12);
		const cipher = createCipheriv("aes-256-gcm", this.key, iv);
		const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
		return ["v1", iv.toString("base64url"), cipher.getAuthTag().toString("base64url"), data.toString("base64url")].join(".");
	}

	/** The plain text; throws when the value was not sealed with this key or was changed. */
	open(sealed: string): string {
		const [version, iv, tag, data] = sealed.split(".");
		if (version !== "v1" || !iv || !tag || data === undefined) throw new Error("SecretBox: not a sealed value");
		const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"));
		decipher.setAuthTag(Buffer.from(tag, "base64url"));
		return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString("utf8");
	}
}

/** The key from SECRETS_KEY, else (not in production) the dev key in DATA_DIR/keys/secrets.key, made on first use. */
export function loadSecretKey(cfg: Config): { key: Buffer; generated: boolean } {
	if (cfg.SECRETS_KEY) return { key: Buffer.from(cfg.SECRETS_KEY, "base64url"), generated: false };
	if (cfg.NODE_ENV === "production") throw new Error("SECRETS_KEY: required in production (32 random bytes, base64url)");
	const file = path.join(dataPath(cfg, "keys"), "secrets.key");
	if (!fs.existsSync(file)) {
		fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
		// wx: of two processes starting at once, the second reads the first one's key
		try {
			fs.writeFileSync(file, randomBytes(32).toString("base64url"), { mode: 0o600, flag: "wx" });
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
		}
		return { key: Buffer.from(fs.readFileSync(file, "utf8").trim(), "base64url"), generated: true };
	}
	return { key: Buffer.from(fs.readFileSync(file, "utf8").trim(), "base64url"), generated: false };
}
