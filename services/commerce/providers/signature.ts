/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` signatures, as Stripe signs its webhooks
 * (the sandbox uses the same scheme): checked in constant time, several v1 entries allowed (secret
 * rotation), and refused outside the timestamp tolerance so a captured delivery cannot be replayed later.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { InvalidSignatureError } from "../../../lib/errors";

export function sign(body: string, secret: string, timestamp = Math.floor(Date.now() / 1000)): string {
	return `t=${timestamp},v1=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

export function verifySignature(body: string, header: string | undefined, secret: string, toleranceS: number, now = Date.now()): void {
	if (!header) throw new InvalidSignatureError("the signature header is missing");
	const parts = header.split(",").map(p => p.trim().split("="));
	const t = Number(parts.find(([k]) => k === "t")?.[1]);
	const given = parts.filter(([k, v]) => k === "v1" && v).map(([, v]) => v);
	if (!Number.isInteger(t) || !given.length) throw new InvalidSignatureError("the signature header is malformed");
	if (Math.abs(now / 1000 - t) > toleranceS) throw new InvalidSignatureError("the timestamp is outside the tolerance");
	const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
	const ok = given.some(v => {
		const b = Buffer.from(v, "hex");
		return b.length === expected.length && timingSafeEqual(b, expected);
	});
	if (!ok) throw new InvalidSignatureError("no signature matches");
}
