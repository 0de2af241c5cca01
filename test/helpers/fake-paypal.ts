/**
 * A fake PayPal REST API on 127.0.0.1: OAuth2 client credentials (`expireTokens()` makes the next call
 * answer 401), Orders v2 (a `vault_id` is charged at once, `vault_declined` is refused with
 * INSTRUMENT_DECLINED, no payment source waits for the buyer's approval; `approve(orderId)` plays the
 * buyer), capture, refunds, Payouts, verify-webhook-signature (`transmission_sig: "valid-sig"`
 * verifies), PayPal-Request-Id replays, and the failure queue of fake-stripe.ts.
 */
import { randomBytes } from "node:crypto";
import http from "node:http";
import { FailureQueue, listen, readBody, type FakeStripe } from "./fake-stripe";

export interface FakePayPal {
	url: string;
	clientId: string;
	clientSecret: string;
	failures: FailureQueue;
	/** orders created (replays not counted) */
	created: number;
	tokensIssued: number;
	expireTokens(): void;
	approve(orderId: string): void;
	close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}${randomBytes(8).toString("hex").toUpperCase()}`;

export async function startFakePayPal(clientId = "fake-client", clientSecret = "fake-secret"): Promise<FakePayPal> {
	const failures = new FailureQueue();
	const tokens = new Set<string>();
	const orders = new Map<string, Record<string, any>>();
	const replays = new Map<string, { status: number; body: unknown }>();
	const fake: FakePayPal = {
		url: "",
		clientId,
		clientSecret,
		failures,
		created: 0,
		tokensIssued: 0,
		expireTokens: () => tokens.clear(),
		approve: orderId => {
			const o = orders.get(orderId);
			if (o) o.status = "APPROVED";
		},
		close: async () => undefined,
	};
	const completed = (order: Record<string, any>) =>
		Object.assign(order, {
			status: "COMPLETED",
			purchase_units: [{ ...order.purchase_units[0], payments: { captures: [{ id: id("CAP"), status: "COMPLETED" }] } }],
		});

	const handle = (path: string, body: any): { status: number; body: unknown } => {
		if (path === "/v2/checkout/orders") {
			fake.created++;
			const order: Record<string, any> = { id: id("ORD"), intent: body.intent, purchase_units: body.purchase_units };
			orders.set(order.id, order);
			const vault = body.payment_source?.paypal?.vault_id;
			if (vault === "vault_declined")
				return { status: 422, body: { name: "UNPROCESSABLE_ENTITY", details: [{ issue: "INSTRUMENT_DECLINED" }] } };
			if (vault) return { status: 201, body: completed(order) };
			order.status = "PAYER_ACTION_REQUIRED";
			order.links = [{ rel: "payer-action", href: `https://www.paypal.invalid/checkoutnow?token=${order.id}` }];
			return { status: 201, body: order };
		}
		const capture = /^\/v2\/checkout\/orders\/([^/]+)\/capture$/.exec(path);
		if (capture) {
			const order = orders.get(capture[1]);
			if (!order) return { status: 404, body: { name: "RESOURCE_NOT_FOUND" } };
			if (order.status !== "APPROVED")
				return { status: 422, body: { name: "UNPROCESSABLE_ENTITY", details: [{ issue: "ORDER_NOT_APPROVED" }] } };
			return { status: 201, body: completed(order) };
		}
		if (/^\/v2\/payments\/captures\/[^/]+\/refund$/.test(path)) return { status: 201, body: { id: id("REF"), status: "COMPLETED" } };
		if (path === "/v1/payments/payouts")
			return { status: 201, body: { batch_header: { payout_batch_id: id("BATCH"), batch_status: "PENDING" } } };
		if (path === "/v1/notifications/verify-webhook-signature")
			return { status: 200, body: { verification_status: body.transmission_sig === "valid-sig" && body.webhook_id ? "SUCCESS" : "FAILURE" } };
		return { status: 404, body: { name: "RESOURCE_NOT_FOUND" } };
	};

	const server = http.createServer(async (req, res) => {
		const raw = await readBody(req);
		const path = (req.url ?? "").split("?")[0];
		if (failures.take(res)) return;
		const json = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
		if (path === "/v1/oauth2/token") {
			const ok =
				req.headers.authorization === `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString("base64")}` &&
				raw === "grant_type=client_credentials";
			if (!ok) return json(401, { error: "invalid_client" });
			const token = `A21${randomBytes(12).toString("hex")}`;
			tokens.add(token);
			fake.tokensIssued++;
			return json(200, { access_token: token, token_type: "Bearer", expires_in: 32400 });
		}
		if (!tokens.has((req.headers.authorization ?? "").replace(/^Bearer /, ""))) return json(401, { error: "invalid_token" });
		const key = req.headers["paypal-request-id"] as string | undefined;
		const replay = key ? replays.get(key) : undefined;
		const answer = replay ?? handle(path, raw ? JSON.parse(raw) : {});
		if (key && !replay) replays.set(key, answer);
		json(answer.status, answer.body);
	});
	Object.assign(fake, await listen(server));
	return fake;
}

/** The environment that points a platform's Stripe and PayPal adapters at these fakes. */
export function fakeProvidersEnv(stripe: FakeStripe, paypal: FakePayPal): Record<string, string> {
	return {
		STRIPE_API_URL: stripe.url,
		STRIPE_SECRET_KEY: stripe.secretKey,
		STRIPE_WEBHOOK_SECRET: "whsec_test_fake",
		PAYPAL_API_URL: paypal.url,
		PAYPAL_CLIENT_ID: paypal.clientId,
		PAYPAL_CLIENT_SECRET: paypal.clientSecret,
		PAYPAL_WEBHOOK_ID: "WH-FAKE",
	};
}
