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

/** An encryption key's setting: its variable, the dev key's file in DATA_DIR/keys/, and how the value is written. */
export interface KeySetting {
	name: "SECRETS_KEY" | "MESSAGING_SECRET_KEY";
	file: string;
	encoding: "base64url" | "base64";
	/** how to make one, for the production error */
	howTo: string;
}

/**
 * A 32-byte key from its setting, else (not in production) the dev key in DATA_DIR/keys/<file>, made on first
 * use; `generated` says this process made it (for the "dev key" line in the log).
 */
export function loadKey(cfg: Config, setting: KeySetting): { key: Buffer; generated: boolean } {
	const given = cfg[setting.name];
	if (given) return { key: Buffer.from(given, setting.encoding), generated: false };
	if (cfg.NODE_ENV === "production") throw new Error(`${setting.name}: required in production (${setting.howTo})`);
	const file = dataPath(cfg, "keys", setting.file);
	fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
	let generated = false;
	try {
		// wx: of processes starting at once on one DATA_DIR, one writes the key and the others read it
		fs.writeFileSync(file, randomBytes(32).toString(setting.encoding), { mode: 0o600, flag: "wx" });
		generated = true;
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
	}
	const key = Buffer.from(fs.readFileSync(file, "utf8").trim(), setting.encoding);
	if (key.length !== 32) throw new Error(`${file}: not a 32-byte key in ${setting.encoding}`);
	return { key, generated };
}

/** SECRETS_KEY (third-party tokens of integrations), else its dev key in DATA_DIR/keys/secrets.key. */
export function loadSecretKey(cfg: Config): { key: Buffer; generated: boolean } {
	return loadKey(cfg, { name: "SECRETS_KEY", file: "secrets.key", encoding: "base64url", howTo: "32 random bytes, base64url" });
}
