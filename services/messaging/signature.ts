/** Meta's webhook signature: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the raw body with the app secret>`. */
import { createHmac, timingSafeEqual } from "node:crypto";

export function sign(rawBody: Buffer, appSecret: string): string {
	return `sha256=${createHmac("sha256", appSecret).update(rawBody).digest("hex")}`;
}

/** Compared in constant time; a missing or malformed header is simply wrong. */
export function signatureMatches(rawBody: Buffer, header: string | undefined, appSecret: string): boolean {
	if (typeof header !== "string" || !/^sha256=[0-9a-f]{64}$/i.test(header)) return false;
	const expected = Buffer.from(sign(rawBody, appSecret));
	const given = Buffer.from(header.toLowerCase());
	return given.length === expected.length && timingSafeEqual(given, expected);
}
