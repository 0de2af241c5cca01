/**
 * Password-reset tokens that never sit anywhere at rest (README, "Identity: authentication and tenants"
 * → "Password reset").
 *
 * A reset row (`password_resets`) keeps only the SHA-256 of its token, as before. The token itself is
 * not random but derived: HMAC-SHA256 of the row id under a key derived (HKDF) from the current JWT
 * signing key, so an auth node can produce it again from the id when the mailer asks for it
 * (`auth.passwordResetLink`), and the outbox event carries the row id instead of the token. Whoever can
 * compute a token holds the signing key, i.e. could already sign in as anyone.
 *
 * After a key rotation, links of resets made under the old key can no longer be produced (the mailer
 * gets `null`; the user asks again); tokens already mailed keep working until they expire, since
 * checking one needs only its hash.
 */
import { createHmac, hkdfSync, type KeyObject } from "node:crypto";

const INFO = "valence password-reset tokens v1";

/** The HMAC key for reset tokens, derived from a signing key's private half. */
export function resetTokenKey(privateKey: KeyObject): Buffer {
	const der = privateKey.export({ type: "pkcs8", format: "der" });
	return Buffer.from(hkdfSync("sha256", der, Buffer.alloc(0), INFO, 32));
}

/** The token of one reset row: 32 bytes, base64url (43 characters), like other opaque tokens. */
export function resetToken(key: Buffer, resetId: string): string {
	return createHmac("sha256", key).update(`password-reset:${resetId}`).digest("base64url");
}
