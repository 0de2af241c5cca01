/**
 * The Stripe and PayPal adapters against local fakes: paying orders, declines, 3-D Secure / buyer
 * approval, capture and refunds, and the failure modes (5xx, 429, timeouts: retried with the
 * provider's idempotency key, so one charge; the circuit breaker failing fast, then recovering).
 */
import { randomUUID } from "node:crypto";
import { fakeProvidersEnv, startFakePayPal, type FakePayPal } from "../helpers/fake-paypal";
import { startFakeStripe, type FakeStripe } from "../helpers/fake-stripe";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

describe("commerce: Stripe and PayPal adapters (local fakes)", () => {
	let p: Platform;
	let stripe: FakeStripe;
	let paypal: FakePayPal;
	let buyer: string, admin: string;
	const tid = "tenant-providers";

	beforeAll(async () => {
		stripe = await startFakeStripe();
		paypal = await startFakePayPal();
		p = await startPlatform({
			services: ["payments", "orders", "ledger"],
			env: {
				...fakeProvidersEnv(stripe, paypal),
				PROVIDER_TIMEOUT_MS: "300",
				PROVIDER_RETRIES: "2",
				PROVIDER_BREAKER_THRESHOLD: "6",
				PROVIDER_BREAKER_COOLDOWN_MS: "500",
				REQUEST_TIMEOUT_MS: "10000",
			},
		});
		buyer = p.token({ sub: "buyer-p", tid, roles: ["member"] });
		admin = p.token({ sub: "admin-p", tid, roles: ["admin"] });
	});
	afterAll(async () => {
		await p.stop();
		await stripe.close();
		await paypal.close();
	});

	const post = (path: string, body: unknown, token = buyer, key = randomUUID()) =>
		p.http("POST", path, { token, body, headers: { "idempotency-key": key } });
	const pay = (provider: string, paymentMethod: string, extra: Record<string, unknown> = {}) =>
		post("/api/commerce/payments", { amount: 2500, currency: "EUR", provider, paymentMethod, ...extra });
	const order = async () =>
		(
			await p.http("POST", "/api/commerce/orders", {
				token: buyer,
				body: { sellerId: "seller-p", currency: "EUR", items: [{ description: "Mug", quantity: 1, unitPrice: 1500 }] },
			})
		).body;

	it("pays an order with Stripe and with PayPal (vaulted source): both paid, the seller credited", async () => {
		for (const [provider, paymentMethod] of [
			["stripe", "pm_card_visa"],
			["paypal", "vault_buyer_1"],
		]) {
			const o = await order();
			const res = await post(`/api/commerce/orders/${o.id}/pay`, { provider, paymentMethod });
			expect([res.status, res.body.status, res.body.payment.provider, res.body.payment.status]).toEqual([200, "paid", provider, "captured"]);
		}
		const balance = await p.http("GET", "/api/commerce/balances/seller-p", { token: admin });
		expect(balance.body.balances).toEqual([{ currency: "EUR", available: 3000 }]);
		expect(paypal.tokensIssued).toBe(1);
	});

	it("declines: Stripe's 402 card_error and PayPal's INSTRUMENT_DECLINED are 402 PAYMENT_DECLINED", async () => {
		const s = await pay("stripe", "pm_card_chargeDeclined");
		expect([s.status, s.body.code]).toEqual([402, "PAYMENT_DECLINED"]);
		const pp = await pay("paypal", "vault_declined");
		expect([pp.status, pp.body.code]).toEqual([402, "PAYMENT_DECLINED"]);
	});

	it("Stripe: 3-D Secure is requires_action; manual capture then partial refunds", async () => {
		expect((await pay("stripe", "pm_card_threeDSecure2Required")).body).toMatchObject({
			status: "requires_action",
			nextAction: { type: "redirect_to_url", url: expect.stringContaining("3ds") },
		});
		const auth = await pay("stripe", "pm_card_visa", { captureMethod: "manual" });
		expect(auth.body.status).toBe("authorized");
		const cap = await post(`/api/commerce/payments/${auth.body.id}/capture`, {}, admin);
		expect(cap.body).toMatchObject({ status: "captured", capturedAmount: 2500 });
		const r1 = await post(`/api/commerce/payments/${auth.body.id}/refunds`, { amount: 1000 }, admin);
		expect(r1.body).toMatchObject({ status: "succeeded", providerRef: expect.stringMatching(/^re_/), payment: { status: "partially_refunded" } });
	});

	it("PayPal: the buyer approves, then capture and a refund of the capture", async () => {
		const created = await pay("paypal", "paypal");
		expect(created.body).toMatchObject({
			status: "requires_action",
			nextAction: { type: "paypal_approval", url: expect.stringContaining("paypal") },
		});
		expect((await post(`/api/commerce/payments/${created.body.id}/capture`, {}, admin)).status).toBe(409); // not approved yet
		paypal.approve(created.body.providerRef);
		// the approval arrives as CHECKOUT.ORDER.APPROVED (webhooks test); here the payment is moved as that event would
		await p.broker.call(
			"payments.applyEvent",
			{ providerRef: created.body.providerRef, provider: "paypal", type: "payment.authorized" },
			{ meta: {} },
		);
		const cap = await post(`/api/commerce/payments/${created.body.id}/capture`, {}, admin);
		expect(cap.body).toMatchObject({ status: "captured" });
		const refund = await post(`/api/commerce/payments/${created.body.id}/refunds`, {}, admin);
		expect(refund.body).toMatchObject({ amount: 2500, status: "succeeded", payment: { status: "refunded" } });
	});

	const authorizationOf = (orderId: string) => [...paypal.authorizations.entries()].find(([, a]) => a.orderId === orderId)!;

	it("PayPal manual capture (vaulted): intent AUTHORIZE, then a partial capture of the authorization, then a refund", async () => {
		const auth = await pay("paypal", "vault_buyer_m", { captureMethod: "manual" });
		expect([auth.status, auth.body.status, auth.body.captureMethod]).toEqual([201, "authorized", "manual"]);
		const [authId, authorization] = authorizationOf(auth.body.providerRef);
		expect(authorization).toMatchObject({ status: "CREATED", amount: 2500, currency: "EUR" });
		const cap = await post(`/api/commerce/payments/${auth.body.id}/capture`, { amount: 2000 }, admin);
		expect([cap.status, cap.body.status, cap.body.capturedAmount]).toEqual([200, "captured", 2000]);
		expect(paypal.authorizations.get(authId)).toMatchObject({ status: "CAPTURED", captured: 2000 });
		const sent = paypal.requests.filter(r => r.path === `/v2/payments/authorizations/${authId}/capture`);
		expect(sent).toEqual([{ path: expect.any(String), requestId: expect.stringContaining("capture:") }]);
		const refund = await post(`/api/commerce/payments/${auth.body.id}/refunds`, { amount: 500 }, admin);
		expect(refund.body).toMatchObject({ status: "succeeded", payment: { status: "partially_refunded", refundedAmount: 500 } });
	});

	it("PayPal manual capture with the buyer's approval: the order is authorised, then its authorization captured", async () => {
		const created = await pay("paypal", "paypal", { captureMethod: "manual" });
		expect(created.body).toMatchObject({ status: "requires_action", nextAction: { type: "paypal_approval" } });
		paypal.approve(created.body.providerRef);
		await p.broker.call(
			"payments.applyEvent",
			{ providerRef: created.body.providerRef, provider: "paypal", type: "payment.authorized" },
			{ meta: {} },
		);
		const cap = await post(`/api/commerce/payments/${created.body.id}/capture`, {}, admin);
		expect([cap.status, cap.body.status, cap.body.capturedAmount]).toEqual([200, "captured", 2500]);
		const [authId, authorization] = authorizationOf(created.body.providerRef);
		expect(authorization).toMatchObject({ status: "CAPTURED", captured: 2500 });
		const paths = paypal.requests.filter(r => r.path.includes(created.body.providerRef) || r.path.includes(authId));
		expect(paths.map(r => r.path)).toEqual([
			`/v2/checkout/orders/${created.body.providerRef}/authorize`,
			`/v2/payments/authorizations/${authId}/capture`,
		]);
		expect(paths.every(r => r.requestId)).toBe(true);
		expect((await post(`/api/commerce/payments/${created.body.id}/refunds`, {}, admin)).body.payment.status).toBe("refunded");
	});

	it("PayPal manual capture: a capture that failed after the authorisation is retried (another amount) on the same authorization", async () => {
		const created = await pay("paypal", "paypal", { captureMethod: "manual" });
		paypal.approve(created.body.providerRef);
		await p.broker.call(
			"payments.applyEvent",
			{ providerRef: created.body.providerRef, provider: "paypal", type: "payment.authorized" },
			{ meta: {} },
		);
		paypal.failAuthorizationCaptures = 3; // every attempt of the first capture (PROVIDER_RETRIES 2)
		const failed = await post(`/api/commerce/payments/${created.body.id}/capture`, {}, admin);
		expect(failed.status).toBe(503);
		expect((await p.http("GET", `/api/commerce/payments/${created.body.id}`, { token: buyer })).body.status).toBe("authorized");
		const [authId] = authorizationOf(created.body.providerRef);
		const cap = await post(`/api/commerce/payments/${created.body.id}/capture`, { amount: 1800 }, admin);
		expect([cap.status, cap.body.status, cap.body.capturedAmount]).toEqual([200, "captured", 1800]);
		expect([...paypal.authorizations.values()].filter(a => a.orderId === created.body.providerRef)).toHaveLength(1);
		expect(paypal.authorizations.get(authId)).toMatchObject({ status: "CAPTURED", captured: 1800 });
	});

	it("PayPal manual capture: cancel voids the authorization; a capture of one voided at PayPal is 409 and changes nothing", async () => {
		const a = await pay("paypal", "vault_buyer_v", { captureMethod: "manual" });
		const [authA] = authorizationOf(a.body.providerRef);
		expect((await post(`/api/commerce/payments/${a.body.id}/cancel`, {}, buyer)).body.status).toBe("cancelled");
		expect(paypal.authorizations.get(authA)!.status).toBe("VOIDED");
		// one the buyer never approved has no authorization: cancelled without a void
		const unapproved = await pay("paypal", "paypal", { captureMethod: "manual" });
		const voids = paypal.requests.filter(r => r.path.endsWith("/void")).length;
		expect((await post(`/api/commerce/payments/${unapproved.body.id}/cancel`, {}, buyer)).body.status).toBe("cancelled");
		expect(paypal.requests.filter(r => r.path.endsWith("/void"))).toHaveLength(voids);

		const b = await pay("paypal", "vault_buyer_v", { captureMethod: "manual" });
		const [authB] = authorizationOf(b.body.providerRef);
		paypal.voidAuthorization(authB); // voided at PayPal (the dashboard, an expiry) and not yet told to us
		const cap = await post(`/api/commerce/payments/${b.body.id}/capture`, {}, admin);
		expect([cap.status, cap.body.code]).toEqual([409, "PROVIDER_REFUSED"]);
		expect(cap.body.detail).toContain("AUTHORIZATION_VOIDED");
		const after = (await p.http("GET", `/api/commerce/payments/${b.body.id}`, { token: buyer })).body;
		expect([after.status, after.capturedAmount]).toEqual(["authorized", 0]);
		expect(paypal.authorizations.get(authB)).toMatchObject({ status: "VOIDED", captured: 0 });
		// more than was authorised never reaches PayPal
		const over = await post(`/api/commerce/payments/${b.body.id}/capture`, { amount: 2501 }, admin);
		expect(over.status).toBe(409);
	});

	it("an expired PayPal token is fetched again once", async () => {
		const before = paypal.tokensIssued;
		paypal.expireTokens();
		expect((await pay("paypal", "vault_buyer_2")).status).toBe(201);
		expect(paypal.tokensIssued).toBe(before + 1);
	});

	it("5xx, 429 and timeouts are retried with the same idempotency key: one charge", async () => {
		for (const mode of [500, 429, "hang"] as const) {
			const before = stripe.created;
			stripe.failures.failNext(2, mode);
			const res = await pay("stripe", "pm_card_visa");
			expect([mode, res.status]).toEqual([mode, 201]);
			expect(stripe.created).toBe(before + 1);
			const keys = stripe.requests.slice(-3).map(r => r.idempotencyKey);
			expect(new Set(keys).size).toBe(1);
		}
	});

	it("a provider down: 503 PROVIDER_UNAVAILABLE, then the breaker fails fast, then it recovers", async () => {
		stripe.failures.failNext(100, 503);
		const first = await pay("stripe", "pm_card_visa");
		expect([first.status, first.body.code]).toEqual([503, "SERVICE_UNAVAILABLE"]);
		await pay("stripe", "pm_card_visa"); // 3 more failures: the breaker opens (threshold 6)
		const hits = stripe.failures.hits;
		const fast = await pay("stripe", "pm_card_visa");
		expect(fast.status).toBe(503);
		expect(stripe.failures.hits).toBe(hits); // not even sent
		stripe.failures.clear();
		await waitFor(async () => (await pay("stripe", "pm_card_visa")).status === 201, {
			what: "the breaker to close",
			timeoutMs: 5000,
			intervalMs: 200,
		});
	});
});
