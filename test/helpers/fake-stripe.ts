/**
 * A fake Stripe API on 127.0.0.1 for the adapter's tests: PaymentIntents (test payment methods as
 * Stripe's: `pm_card_visa`, `pm_card_chargeDeclined`, `pm_card_threeDSecure2Required`), capture,
 * cancel, refunds, transfers, Idempotency-Key replays as Stripe does them, and failure modes queued by
 * the test (`failNext(n, 500 | 429 | "hang")`). `created` counts the intents really made (charges).
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export type Failure = 500 | 503 | 429 | "hang";

/** Failures the next requests get, in order; shared by the fakes. */
export class FailureQueue {
	private queue: Failure[] = [];
	hits = 0;
	clear() {
		this.queue = [];
	}
	failNext(n: number, mode: Failure) {
		for (let i = 0; i < n; i++) this.queue.push(mode);
	}
	/** true when the request was answered (or left hanging) by a failure */
	take(res: http.ServerResponse): boolean {
		const mode = this.queue.shift();
		if (mode === undefined) return false;
		this.hits++;
		if (mode === "hang") return true; // never answered: the client's timeout must end it
		res.writeHead(mode, { "content-type": "application/json", ...(mode === 429 && { "retry-after": "0" }) });
		res.end(JSON.stringify({ error: { type: "api_error", message: "fake failure" } }));
		return true;
	}
}

/** A fake's server on an ephemeral 127.0.0.1 port: its URL, and a close that drops hanging requests too. */
export async function listen(server: http.Server): Promise<{ url: string; close(): Promise<void> }> {
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	return {
		url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		close: () =>
			new Promise(resolve => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

export async function readBody(req: http.IncomingMessage): Promise<string> {
	let body = "";
	for await (const chunk of req) body += chunk;
	return body;
}

export interface FakeStripe {
	url: string;
	secretKey: string;
	failures: FailureQueue;
	/** PaymentIntents created (idempotent replays not counted) */
	created: number;
	requests: { method: string; path: string; idempotencyKey?: string }[];
	close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}_${randomBytes(8).toString("hex")}`;

export async function startFakeStripe(secretKey = "sk_test_fake"): Promise<FakeStripe> {
	const failures = new FailureQueue();
	const intents = new Map<string, Record<string, unknown>>();
	const replays = new Map<string, { status: number; body: unknown }>();
	const fake: FakeStripe = { url: "", secretKey, failures, created: 0, requests: [], close: async () => undefined };

	const handle = (method: string, path: string, f: URLSearchParams): { status: number; body: unknown } => {
		if (method === "POST" && path === "/v1/payment_intents") {
			fake.created++;
			const pm = f.get("payment_method");
			const intent: Record<string, unknown> = {
				id: id("pi"),
				object: "payment_intent",
				amount: Number(f.get("amount")),
				currency: f.get("currency"),
				capture_method: f.get("capture_method"),
			};
			intents.set(intent.id as string, intent);
			if (pm === "pm_card_chargeDeclined") {
				Object.assign(intent, {
					status: "requires_payment_method",
					last_payment_error: { code: "card_declined", decline_code: "generic_decline" },
				});
				return {
					status: 402,
					body: { error: { type: "card_error", code: "card_declined", decline_code: "generic_decline", payment_intent: intent } },
				};
			}
			if (pm === "pm_card_threeDSecure2Required") intent.status = "requires_action";
			else intent.status = f.get("capture_method") === "manual" ? "requires_capture" : "succeeded";
			if (intent.status === "requires_action")
				intent.next_action = { type: "redirect_to_url", redirect_to_url: { url: "https://hooks.stripe.invalid/3ds" } };
			return { status: 200, body: intent };
		}
		const m = /^\/v1\/payment_intents\/([^/]+)\/(capture|cancel)$/.exec(path);
		if (method === "POST" && m) {
			const intent = intents.get(m[1]);
			if (!intent) return { status: 404, body: { error: { type: "invalid_request_error", code: "resource_missing" } } };
			if (m[2] === "capture" && intent.status !== "requires_capture")
				return { status: 400, body: { error: { type: "invalid_request_error", code: "payment_intent_unexpected_state" } } };
			intent.status = m[2] === "capture" ? "succeeded" : "canceled";
			return { status: 200, body: intent };
		}
		if (method === "POST" && path === "/v1/refunds") {
			if (!intents.has(f.get("payment_intent") ?? "")) return { status: 404, body: { error: { code: "resource_missing" } } };
			return { status: 200, body: { id: id("re"), object: "refund", status: "succeeded", amount: Number(f.get("amount")) } };
		}
		if (method === "POST" && path === "/v1/transfers")
			return { status: 200, body: { id: id("tr"), object: "transfer", amount: Number(f.get("amount")) } };
		return { status: 404, body: { error: { type: "invalid_request_error", message: "unknown path" } } };
	};

	const server = http.createServer(async (req, res) => {
		const body = await readBody(req);
		const path = (req.url ?? "").split("?")[0];
		const key = req.headers["idempotency-key"] as string | undefined;
		fake.requests.push({ method: req.method ?? "", path, idempotencyKey: key });
		if (failures.take(res)) return;
		if (req.headers.authorization !== `Bearer ${secretKey}`) {
			res.writeHead(401, { "content-type": "application/json" }).end(
				JSON.stringify({ error: { type: "invalid_request_error", message: "Invalid API Key" } }),
			);
			return;
		}
		const replay = key ? replays.get(key) : undefined;
		const answer = replay ?? handle(req.method ?? "", path, new URLSearchParams(body));
		if (key && !replay) replays.set(key, answer);
		res.writeHead(answer.status, { "content-type": "application/json", ...(replay && { "idempotent-replayed": "true" }) }).end(
			JSON.stringify(answer.body),
		);
	});
	Object.assign(fake, await listen(server));
	return fake;
}
