/**
 * JWT signing keys. The current key signs; previous keys stay published in the JWKS so tokens they
 * signed verify until they expire. Keys come from PEM files in JWT_KEYS_DIR (`current.pem`,
 * `previous*.pem`) or from JWT_PRIVATE_KEY / JWT_PREVIOUS_KEYS (PEM text). Outside production a
 * missing key is generated into ./data/keys/ on first start: a dev key, and said to be one.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { Config } from "./config";
import { dataPath } from "./config";

export interface PublicKey {
	kid: string;
	key: KeyObject;
}
export interface KeyRing {
	current: PublicKey & { privateKey: KeyObject };
	previous: PublicKey[];
	/** true when the key was generated here for development */
	generated: boolean;
}
export interface Jwk extends JsonWebKey {
	kid: string;
	alg: "RS256";
	use: "sig";
}

/** RFC 7638 thumbprint: a kid that names the key itself, stable across restarts and nodes. */
export function thumbprint(key: KeyObject): string {
	const { e, kty, n } = key.export({ format: "jwk" });
	return createHash("sha256").update(JSON.stringify({ e, kty, n })).digest("base64url");
}

function publicOf(pem: string): PublicKey {
	const key = createPublicKey(pem);
	return { kid: thumbprint(key), key };
}

export function keysDir(cfg: Config): string {
	return cfg.JWT_KEYS_DIR ? path.resolve(cfg.JWT_KEYS_DIR) : dataPath(cfg, "keys");
}

function generatePem(): string {
	const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
	return privateKey.export({ type: "pkcs8", format: "pem" }) as string;
}

/** Makes `current.pem` the new signing key and keeps the old one as `previous-<time>.pem`. */
export function rotateKeys(dir: string): void {
	fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
	const current = path.join(dir, "current.pem");
	if (fs.existsSync(current)) fs.renameSync(current, path.join(dir, `previous-${Date.now()}.pem`));
	fs.writeFileSync(current, generatePem(), { mode: 0o600 });
}

export function loadKeyRing(cfg: Config, env: NodeJS.ProcessEnv = process.env): KeyRing {
	if (env.JWT_PRIVATE_KEY) {
		const privateKey = createPrivateKey(env.JWT_PRIVATE_KEY);
		const previous = (env.JWT_PREVIOUS_KEYS ?? "")
			.split(/(?=-----BEGIN)/)
			.filter(p => p.trim())
			.map(publicOf);
		return { current: { ...publicOf(privateKey.export({ type: "pkcs8", format: "pem" }) as string), privateKey }, previous, generated: false };
	}
	const dir = keysDir(cfg);
	const currentFile = path.join(dir, "current.pem");
	let generated = false;
	if (!fs.existsSync(currentFile)) {
		if (cfg.NODE_ENV === "production")
			throw new Error(`JWT_KEYS_DIR: no signing key at ${currentFile}; set JWT_PRIVATE_KEY or provide the PEM file`);
		rotateKeys(dir);
		generated = true;
	}
	const pem = fs.readFileSync(currentFile, "utf8");
	const previous = fs
		.readdirSync(dir)
		.filter(f => /^previous.*\.pem$/.test(f))
		.sort()
		.reverse()
		.map(f => publicOf(fs.readFileSync(path.join(dir, f), "utf8")));
	return { current: { ...publicOf(pem), privateKey: createPrivateKey(pem) }, previous, generated };
}

/** The public half of every key, as a JWKS document. */
export function toJwks(ring: KeyRing): { keys: Jwk[] } {
	return {
		keys: [ring.current, ...ring.previous].map(({ kid, key }) => ({ ...key.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" })),
	};
}
