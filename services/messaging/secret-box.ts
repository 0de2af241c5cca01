/**
 * Meta app secrets and access tokens at rest: AES-256-GCM with MESSAGING_SECRET_KEY. Outside production a
 * missing key is generated into DATA_DIR/keys/messaging-secret.key on first start (as the JWT dev keys
 * are: lib/keys.ts), shared by every node that shares DATA_DIR. A sealed value is
 * `v1.<iv>.<tag>.<ciphertext>` (base64url): the tag makes a tampered value fail to open.
 */
import type { Config } from "../../lib/config";
import { loadKey, SecretBox } from "../../lib/secret-box";

/** MESSAGING_SECRET_KEY, else its dev key in DATA_DIR/keys/messaging-secret.key (lib/secret-box.ts `loadKey`). */
export function loadSecretKey(cfg: Config): { key: Buffer; generated: boolean } {
	return loadKey(cfg, { name: "MESSAGING_SECRET_KEY", file: "messaging-secret.key", encoding: "base64", howTo: "openssl rand -base64 32" });
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
