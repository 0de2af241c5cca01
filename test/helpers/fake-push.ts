/**
 * A push service in the test process (HTTP on 127.0.0.1), standing in for FCM / Mozilla autopush: it
 * hands out subscriptions whose keys it holds, and for each push it receives checks the VAPID header
 * (an ES256 JWT for this origin, signed by the key it names) and decrypts the aes128gcm body with
 * http_ece, as a browser would, to record what the user would see. Answers can be scripted per
 * subscription: 410 Gone, 5xx for a while.
 */
import { createECDH, createPublicKey, randomBytes, randomUUID, verify, type ECDH } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import * as ece from "http_ece";

export interface ReceivedPush {
	subscription: string;
	status: number;
	headers: http.IncomingHttpHeaders;
	/** the decrypted payload, parsed as JSON (what the service worker would get) */
	payload: any;
	vapid: { aud: string; sub: string; publicKey: string };
}

export interface FakeSubscription {
	id: string;
	endpoint: string;
	keys: { p256dh: string; auth: string };
}

export interface FakePush {
	baseUrl: string;
	received: ReceivedPush[];
	/** problems seen (bad VAPID, undecryptable body): a correct sender makes none */
	errors: string[];
	subscription(): FakeSubscription;
	/** answer pushes to this subscription with `status`, `times` times (Infinity: always) */
	respond(id: string, status: number, times?: number): void;
	close(): Promise<void>;
}

function checkVapid(header: string | undefined, origin: string): { aud: string; sub: string; publicKey: string } {
	const m = /^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/.exec(header ?? "");
	if (!m) throw new Error(`no VAPID authorization: ${header}`);
	const [headerB64, claimsB64, sigB64] = m[1].split(".");
	const key = Buffer.from(m[2], "base64url");
	const jwk = { kty: "EC", crv: "P-256", x: key.subarray(1, 33).toString("base64url"), y: key.subarray(33, 65).toString("base64url") };
	const ok = verify(
		"sha256",
		Buffer.from(`${headerB64}.${claimsB64}`),
		{ key: createPublicKey({ key: jwk, format: "jwk" }), dsaEncoding: "ieee-p1363" },
		Buffer.from(sigB64, "base64url"),
	);
	if (!ok) throw new Error("VAPID signature does not verify");
	const claims = JSON.parse(Buffer.from(claimsB64, "base64url").toString()) as { aud: string; sub: string; exp: number };
	if (claims.aud !== origin) throw new Error(`VAPID aud ${claims.aud} is not ${origin}`);
	if (!(claims.exp * 1000 > Date.now())) throw new Error("VAPID token expired");
	return { aud: claims.aud, sub: claims.sub, publicKey: m[2] };
}

export async function startFakePush(): Promise<FakePush> {
	const subs = new Map<string, { ecdh: ECDH; auth: Buffer }>();
	const scripted = new Map<string, { status: number; times: number }>();
	const received: ReceivedPush[] = [];
	const errors: string[] = [];
	let origin = "";
	const server = http.createServer((req, res) => {
		const chunks: Buffer[] = [];
		req.on("data", c => chunks.push(c));
		req.on("end", () => {
			const id = /^\/push\/([\w-]+)$/.exec(req.url ?? "")?.[1] ?? "";
			const sub = subs.get(id);
			if (req.method !== "POST" || !sub) {
				res.writeHead(404).end();
				return;
			}
			const script = scripted.get(id);
			let status = 201;
			if (script && script.times > 0) {
				status = script.status;
				script.times--;
			}
			try {
				const vapid = checkVapid(req.headers.authorization, origin);
				if (req.headers["content-encoding"] !== "aes128gcm") throw new Error(`content-encoding ${req.headers["content-encoding"]}`);
				const plain = ece.decrypt(Buffer.concat(chunks), {
					version: "aes128gcm",
					privateKey: sub.ecdh,
					authSecret: sub.auth.toString("base64url"),
				});
				received.push({ subscription: id, status, headers: req.headers, payload: JSON.parse(plain.toString("utf8")), vapid });
			} catch (err) {
				errors.push((err as Error).message);
				res.writeHead(400).end();
				return;
			}
			res.writeHead(status, { location: `${origin}/messages/${randomUUID()}` }).end();
		});
	});
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return {
		baseUrl: origin,
		received,
		errors,
		subscription() {
			const id = randomUUID();
			const ecdh = createECDH("prime256v1");
			ecdh.generateKeys();
			const auth = randomBytes(16);
			subs.set(id, { ecdh, auth });
			return {
				id,
				endpoint: `${origin}/push/${id}`,
				keys: { p256dh: ecdh.getPublicKey().toString("base64url"), auth: auth.toString("base64url") },
			};
		},
		respond(id, status, times = Infinity) {
			scripted.set(id, { status, times });
		},
		close: () => new Promise<void>(resolve => server.close(() => resolve())),
	};
}
