/**
 * Web Push (RFC 8030 delivery, RFC 8291 aes128gcm encryption, RFC 8292 VAPID), README "Platform:
 * notifications" → "Web Push".
 *
 * - VAPID keys from VAPID_PUBLIC_KEY / VAPID_PRIVATE_KEY; outside production a missing pair is generated
 *   into DATA_DIR/keys/vapid.json at first start and announced as dev keys (as the JWT keys are). In
 *   production without keys push is off.
 * - A subscription is checked before it is stored: an https endpoint (http only with PUSH_ALLOW_HTTP, dev)
 *   on an allowed push-service host (PUSH_ALLOWED_HOSTS: the server makes requests to this URL, so it must
 *   not be able to point at our own network), a P-256 public key that is a point on the curve, a 16-byte
 *   auth secret.
 * - Sending: the `web-push` library encrypts and signs (`generateRequestDetails`); the request itself is
 *   ours, with a timeout (PUSH_TIMEOUT_MS) and no redirects. The answer decides: 2xx sent, 404/410 gone
 *   (the subscription is removed), 429/5xx/network temporary (retried with backoff), other 4xx final.
 */
import { createECDH } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import webpush from "web-push";
import { dataPath, splitList, type Config } from "./config";

export interface VapidKeys {
	publicKey: string;
	privateKey: string;
	subject: string;
	/** generated here for development */
	generated: boolean;
}

export interface PushSubscriptionInput {
	endpoint: string;
	keys: { p256dh: string; auth: string };
}

/** The VAPID key pair, generated (dev) when none is configured; null in production without keys. */
export function loadVapidKeys(cfg: Config): VapidKeys | null {
	if (cfg.VAPID_PUBLIC_KEY && cfg.VAPID_PRIVATE_KEY)
		return { publicKey: cfg.VAPID_PUBLIC_KEY, privateKey: cfg.VAPID_PRIVATE_KEY, subject: cfg.VAPID_SUBJECT, generated: false };
	if (cfg.NODE_ENV === "production") return null;
	const file = path.join(dataPath(cfg, "keys"), "vapid.json");
	if (fs.existsSync(file)) {
		const stored = JSON.parse(fs.readFileSync(file, "utf8")) as { publicKey: string; privateKey: string };
		return { ...stored, subject: cfg.VAPID_SUBJECT, generated: true };
	}
	const keys = webpush.generateVAPIDKeys();
	fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
	try {
		fs.writeFileSync(file, JSON.stringify(keys), { mode: 0o600, flag: "wx" });
	} catch (err) {
		// another process sharing this DATA_DIR wrote its pair first: use that one
		if ((err as { code?: string }).code !== "EEXIST") throw err;
		return loadVapidKeys(cfg);
	}
	return { ...keys, subject: cfg.VAPID_SUBJECT, generated: true };
}

const B64URL = /^[A-Za-z0-9_-]+={0,2}$/;
const decode = (value: string) => (B64URL.test(value) ? Buffer.from(value.replace(/=+$/, ""), "base64url") : Buffer.alloc(0));

/** Whether `host` is one of the allowed push-service hosts or a subdomain of one. */
export function hostAllowed(host: string, allowed: string[]): boolean {
	const h = host.toLowerCase();
	return allowed.some(a => a === "*" || h === a.toLowerCase() || h.endsWith(`.${a.toLowerCase()}`));
}

/** Problems with a subscription (empty when it may be stored), one per field. */
export function checkSubscription(sub: PushSubscriptionInput, cfg: Config): { field: string; message: string }[] {
	const issues: { field: string; message: string }[] = [];
	let url: URL | undefined;
	try {
		url = new URL(sub.endpoint);
	} catch {
		issues.push({ field: "endpoint", message: "must be a URL" });
	}
	if (url) {
		const httpOk = cfg.PUSH_ALLOW_HTTP && cfg.NODE_ENV !== "production";
		if (url.protocol !== "https:" && !(httpOk && url.protocol === "http:"))
			issues.push({ field: "endpoint", message: "must be an https:// URL" });
		else if (url.username || url.password) issues.push({ field: "endpoint", message: "must not carry credentials" });
		else if (!hostAllowed(url.hostname, splitList(cfg.PUSH_ALLOWED_HOSTS)))
			issues.push({ field: "endpoint", message: `must be on a known push service (not ${url.hostname})` });
	}
	const p256dh = decode(sub.keys.p256dh);
	let pointOk = p256dh.length === 65 && p256dh[0] === 0x04;
	if (pointOk) {
		try {
			const ecdh = createECDH("prime256v1");
			ecdh.generateKeys();
			ecdh.computeSecret(p256dh);
		} catch {
			pointOk = false;
		}
	}
	if (!pointOk) issues.push({ field: "keys.p256dh", message: "must be a P-256 public key (65 bytes, base64url)" });
	if (decode(sub.keys.auth).length !== 16) issues.push({ field: "keys.auth", message: "must be a 16-byte secret (base64url)" });
	return issues;
}

export type PushOutcome =
	| { kind: "sent"; status: number }
	| { kind: "gone"; status: number }
	| { kind: "retry"; status?: number; reason: string }
	| { kind: "rejected"; status: number; reason: string };

export interface PushOptions {
	vapid: VapidKeys;
	ttlSec: number;
	timeoutMs: number;
	/** replaces an undelivered push with the same topic at the push service (≤ 32 base64url characters) */
	topic?: string;
	urgency?: "very-low" | "low" | "normal" | "high";
}

/** Encrypts and sends one push; never throws for an answer of the push service, only reports it. */
export async function sendWebPush(sub: PushSubscriptionInput, payload: string, opts: PushOptions): Promise<PushOutcome> {
	const details = webpush.generateRequestDetails(sub, payload, {
		vapidDetails: { subject: opts.vapid.subject, publicKey: opts.vapid.publicKey, privateKey: opts.vapid.privateKey },
		TTL: opts.ttlSec,
		contentEncoding: "aes128gcm",
		urgency: opts.urgency ?? "normal",
		...(opts.topic && { topic: opts.topic }),
	});
	const headers: Record<string, string> = {};
	for (const [k, v] of Object.entries(details.headers)) if (k.toLowerCase() !== "content-length") headers[k] = String(v);
	let res: Response;
	try {
		res = await fetch(details.endpoint, {
			method: details.method,
			headers,
			body: details.body ?? undefined,
			redirect: "manual",
			signal: AbortSignal.timeout(opts.timeoutMs),
		});
	} catch (err) {
		const e = err as Error & { cause?: { code?: string } };
		return { kind: "retry", reason: e.name === "TimeoutError" ? `no answer within ${opts.timeoutMs} ms` : (e.cause?.code ?? e.message) };
	}
	await res.arrayBuffer().catch(() => undefined);
	if (res.status >= 200 && res.status < 300) return { kind: "sent", status: res.status };
	if (res.status === 404 || res.status === 410) return { kind: "gone", status: res.status };
	if (res.status === 429 || res.status >= 500) return { kind: "retry", status: res.status, reason: `HTTP ${res.status}` };
	return { kind: "rejected", status: res.status, reason: `HTTP ${res.status}` };
}
