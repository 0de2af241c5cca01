/**
 * A fake PayPal REST API on 127.0.0.1: OAuth2 client credentials (`expireTokens()` makes the next call
 * answer 401), Orders v2 (a `vault_id` is charged at once, `vault_declined` is refused with
 * INSTRUMENT_DECLINED, no payment source waits for the buyer's approval; `approve(orderId)` plays the
 * buyer), capture, manual capture (`intent: AUTHORIZE`: a vaulted order is authorised at once, an
 * approved one by `/authorize`; authorizations captured once for at most the authorised amount in its
 * currency, or voided; `voidAuthorization(id)` plays one voided at PayPal), refunds, Payouts,
 * verify-webhook-signature (`transmission_sig: "valid-sig"` verifies), and the failure queue of
 * fake-stripe.ts; `GET /v2/checkout/orders/{id}` reads an order. Like PayPal it wants a live Bearer token on every call and a `PayPal-Request-Id` on
 * every POST that moves money (400 otherwise), and answers a repeated request id with the first answer.
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
	/** authorizations by id: `{ status: CREATED | CAPTURED | VOIDED, amount, currency, captured }` */
	authorizations: Map<string, { status: string; amount: number; digits: number; currency: string; captured: number; orderId: string }>;
	voidAuthorization(id: string): void;
	/** the next this many authorization captures answer 500 (nothing captured, nothing kept for their request id) */
	failAuthorizationCaptures: number;
	/** every money POST: its path and PayPal-Request-Id (replays included) */
	requests: { path: string; requestId?: string }[];
	close(): Promise<void>;
}

const id = (prefix: string) => `${prefix}${randomBytes(8).toString("hex").toUpperCase()}`;

export async function startFakePayPal(clientId = "fake-client", clientSecret = "fake-secret"): Promise<FakePayPal> {
	const failures = new FailureQueue();
	const tokens = new Set<string>();
	const orders = new Map<string, Record<string, any>>();
	const replays = new Map<string, { status: number; body: unknown }>();
	const authorizations: FakePayPal["authorizations"] = new Map();
	const fake: FakePayPal = {
		authorizations,
		failAuthorizationCaptures: 0,
		requests: [],
		voidAuthorization: authId => {
			const a = authorizations.get(authId);
			if (a) a.status = "VOIDED";
		},
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

	const unprocessable = (issue: string) => ({ status: 422, body: { name: "UNPROCESSABLE_ENTITY", details: [{ issue }] } });
	// PayPal's amounts are decimal strings in the currency's unit: compared here in minor units (no float)
	const minor = (value: string, digits: number) => {
		const [whole, frac = ""] = String(value).split(".");
		return frac.length > digits ? Number.NaN : Number(whole + frac.padEnd(digits, "0"));
	};
	const authorized = (order: Record<string, any>) => {
		const amount = order.purchase_units[0].amount;
		const digits = (String(amount.value).split(".")[1] ?? "").length;
		const auth = { id: id("AUTH"), digits, amount: minor(amount.value, digits), currency: amount.currency_code };
		authorizations.set(auth.id, { status: "CREATED", amount: auth.amount, digits, currency: auth.currency, captured: 0, orderId: order.id });
		return Object.assign(order, {
			status: "COMPLETED",
			purchase_units: [{ ...order.purchase_units[0], payments: { authorizations: [{ id: auth.id, status: "CREATED", amount }] } }],
		});
	};

	const handle = (path: string, body: any): { status: number; body: unknown } => {
		if (path === "/v2/checkout/orders") {
			if (body.intent !== "CAPTURE" && body.intent !== "AUTHORIZE") return { status: 400, body: { name: "INVALID_REQUEST" } };
			fake.created++;
			const order: Record<string, any> = { id: id("ORD"), intent: body.intent, purchase_units: body.purchase_units };
			orders.set(order.id, order);
			const vault = body.payment_source?.paypal?.vault_id;
			if (vault === "vault_declined") return unprocessable("INSTRUMENT_DECLINED");
			if (vault) return { status: 201, body: body.intent === "AUTHORIZE" ? authorized(order) : completed(order) };
			order.status = "PAYER_ACTION_REQUIRED";
			order.links = [{ rel: "payer-action", href: `https://www.paypal.invalid/checkoutnow?token=${order.id}` }];
			return { status: 201, body: order };
		}
		const capture = /^\/v2\/checkout\/orders\/([^/]+)\/capture$/.exec(path);
		if (capture) {
			const order = orders.get(capture[1]);
			if (!order) return { status: 404, body: { name: "RESOURCE_NOT_FOUND" } };
			if (order.intent !== "CAPTURE") return unprocessable("ACTION_DOES_NOT_MATCH_INTENT");
			if (order.status !== "APPROVED") return unprocessable("ORDER_NOT_APPROVED");
			return { status: 201, body: completed(order) };
		}
		const authorize = /^\/v2\/checkout\/orders\/([^/]+)\/authorize$/.exec(path);
		if (authorize) {
			const order = orders.get(authorize[1]);
			if (!order) return { status: 404, body: { name: "RESOURCE_NOT_FOUND" } };
			if (order.intent !== "AUTHORIZE") return unprocessable("ACTION_DOES_NOT_MATCH_INTENT");
			if (order.status === "COMPLETED") return unprocessable("ORDER_ALREADY_AUTHORIZED");
			if (order.status !== "APPROVED") return unprocessable("ORDER_NOT_APPROVED");
			return { status: 201, body: authorized(order) };
		}
		const authCapture = /^\/v2\/payments\/authorizations\/([^/]+)\/capture$/.exec(path);
		if (authCapture) {
			const auth = authorizations.get(authCapture[1]);
			if (!auth) return { status: 404, body: { name: "RESOURCE_NOT_FOUND" } };
			if (auth.status === "VOIDED") return unprocessable("AUTHORIZATION_VOIDED");
			if (auth.status === "CAPTURED") return unprocessable("AUTHORIZATION_ALREADY_CAPTURED");
			const amount = body.amount ? minor(body.amount.value, auth.digits) : auth.amount - auth.captured;
			if (body.amount && body.amount.currency_code !== auth.currency) return unprocessable("CURRENCY_MISMATCH");
			if (!(amount > 0) || auth.captured + amount > auth.amount) return unprocessable("MAX_CAPTURE_AMOUNT_EXCEEDED");
			auth.captured += amount;
			if (body.final_capture !== false || auth.captured === auth.amount) auth.status = "CAPTURED";
			return { status: 201, body: { id: id("CAP"), status: "COMPLETED", amount: body.amount } };
		}
		const authVoid = /^\/v2\/payments\/authorizations\/([^/]+)\/void$/.exec(path);
		if (authVoid) {
			const auth = authorizations.get(authVoid[1]);
			if (!auth) return { status: 404, body: { name: "RESOURCE_NOT_FOUND" } };
			if (auth.status === "CAPTURED") return unprocessable("PREVIOUSLY_CAPTURED");
			if (auth.status === "VOIDED") return unprocessable("AUTHORIZATION_ALREADY_VOIDED");
			auth.status = "VOIDED";
			return { status: 204, body: undefined };
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
		if (req.method === "GET") {
			const order = orders.get(/^\/v2\/checkout\/orders\/([^/]+)$/.exec(path)?.[1] ?? "");
			return order ? json(200, order) : json(404, { name: "RESOURCE_NOT_FOUND" });
		}
		const key = req.headers["paypal-request-id"] as string | undefined;
		if (path !== "/v1/notifications/verify-webhook-signature") {
			fake.requests.push({ path, requestId: key });
			if (!key) return json(400, { name: "INVALID_REQUEST", details: [{ issue: "PAYPAL_REQUEST_ID_REQUIRED" }] });
		}
		if (fake.failAuthorizationCaptures > 0 && /^\/v2\/payments\/authorizations\/[^/]+\/capture$/.test(path)) {
			fake.failAuthorizationCaptures--;
			return json(500, { name: "INTERNAL_SERVER_ERROR" });
		}
		const replay = key ? replays.get(key) : undefined;
		const answer = replay ?? handle(path, raw ? JSON.parse(raw) : {});
		if (key && !replay) replays.set(key, answer);
		if (answer.status === 204) return res.writeHead(204).end();
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
