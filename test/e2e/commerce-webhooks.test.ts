/**
 * Provider webhooks: verified (sandbox and Stripe signatures with their timestamp tolerance, PayPal's
 * verify API on the fake) and applied once per event id, however often they are delivered. Deliveries
 * go over HTTP (the gateway's webhook route) and straight to `commercewebhooks.receive` (raw body and headers).
 */
import { randomUUID } from "node:crypto";
import { sign } from "../../services/commerce/providers/signature";
import { fakeProvidersEnv, startFakePayPal, type FakePayPal } from "../helpers/fake-paypal";
import { startFakeStripe, type FakeStripe } from "../helpers/fake-stripe";
import { startPlatform, type Platform } from "../helpers/platform";

describe("commerce: provider webhooks, verified and deduplicated", () => {
	let p: Platform;
	let stripe: FakeStripe;
	let paypal: FakePayPal;
	let member: string, admin: string;
	const tid = "tenant-webhooks";
	const sandboxSecret = "sandbox-webhook-secret-test";

	beforeAll(async () => {
		stripe = await startFakeStripe();
		paypal = await startFakePayPal();
		p = await startPlatform({
			services: ["payments", "sellerpayouts", "ledger", "orders", "commercewebhooks"],
			env: {
				SANDBOX_WEBHOOK_SECRET: sandboxSecret,
				...fakeProvidersEnv(stripe, paypal),
				WEBHOOK_TOLERANCE_S: "300",
			},
		});
		member = p.token({ sub: "wh-buyer", tid, roles: ["member"] });
		admin = p.token({ sub: "wh-admin", tid, roles: ["admin"] });
	});
	afterAll(async () => {
		await p.stop();
		await stripe.close();
		await paypal.close();
	});

	const post = (path: string, body: unknown, token = member) => p.http("POST", path, { token, body, headers: { "idempotency-key": randomUUID() } });
	const deliver = (provider: string, rawBody: string, headers: Record<string, string>) =>
		p.broker.call("commercewebhooks.receive", { provider, rawBody, headers }) as Promise<any>;
	const get = async (id: string) => (await p.http("GET", `/api/commerce/payments/${id}`, { token: member })).body;

	it("a sandbox settlement delivered twice (and twice at once) moves the payment once", async () => {
		const payment = (await post("/api/commerce/payments", { amount: 900, currency: "EUR", paymentMethod: "pm_sandbox_delayed" })).body;
		expect(payment.status).toBe("pending");
		const body = JSON.stringify({ id: `evt_${randomUUID()}`, type: "payment.succeeded", objectRef: payment.providerRef });
		const first = await deliver("sandbox", body, { "Sandbox-Signature": sign(body, sandboxSecret) });
		expect(first).toMatchObject({
			received: true,
			duplicate: false,
			result: { applied: true, payment: { status: "captured", capturedAmount: 900 } },
		});
		const second = await deliver("sandbox", body, { "Sandbox-Signature": sign(body, sandboxSecret) });
		expect(second).toMatchObject({ received: true, duplicate: true });
		expect((await get(payment.id)).status).toBe("captured");

		// a refund, then its event twice at once: one answers, the other is a duplicate or "in progress" (the provider retries)
		const refund = (await post(`/api/commerce/payments/${payment.id}/refunds`, { amount: 400 }, admin)).body;
		expect(refund.payment.status).toBe("partially_refunded");
		const late = JSON.stringify({ id: `evt_${randomUUID()}`, type: "payment.failed", objectRef: payment.providerRef });
		const both = await Promise.allSettled([1, 2].map(() => deliver("sandbox", late, { "sandbox-signature": sign(late, sandboxSecret) })));
		const ok = both.filter(r => r.status === "fulfilled").map(r => (r as PromiseFulfilledResult<any>).value);
		expect(ok.filter(v => !v.duplicate)).toHaveLength(1);
		// an event off the edges (failed after captured) changes nothing
		expect(ok[0].result).toMatchObject({ applied: false, status: "partially_refunded" });
		for (const r of both.filter(x => x.status === "rejected"))
			expect((r as PromiseRejectedResult).reason.type).toBe("IDEMPOTENCY_KEY_IN_PROGRESS");
		expect((await get(payment.id)).status).toBe("partially_refunded");
	});

	it("an order paid with a delayed payment becomes paid, and the seller credited, when the settlement arrives", async () => {
		const order = (
			await p.http("POST", "/api/commerce/orders", {
				token: member,
				body: { sellerId: "wh-seller-2", currency: "EUR", items: [{ description: "Chair", quantity: 1, unitPrice: 4000 }] },
			})
		).body;
		const paying = (await post(`/api/commerce/orders/${order.id}/pay`, { paymentMethod: "pm_sandbox_delayed" })).body;
		expect([paying.status, paying.payment.status]).toEqual(["pending_payment", "pending"]);
		const body = JSON.stringify({ id: `evt_${randomUUID()}`, type: "payment.succeeded", objectRef: paying.payment.providerRef });
		for (let i = 0; i < 2; i++) await deliver("sandbox", body, { "sandbox-signature": sign(body, sandboxSecret) });
		expect((await p.http("GET", `/api/commerce/orders/${order.id}`, { token: member })).body).toMatchObject({
			status: "paid",
			paymentId: paying.payment.id,
		});
		expect((await p.http("GET", "/api/commerce/balances/wh-seller-2", { token: admin })).body.balances).toEqual([
			{ currency: "EUR", available: 4000 },
		]);
	});

	it("over HTTP: POST /api/commerce/webhooks/:provider gets the exact bytes (pretty-printed JSON), no token needed", async () => {
		const payment = (await post("/api/commerce/payments", { amount: 700, currency: "EUR", paymentMethod: "pm_sandbox_delayed" })).body;
		const body = JSON.stringify({ id: `evt_${randomUUID()}`, type: "payment.succeeded", objectRef: payment.providerRef }, null, 2);
		const send = (signature: string) =>
			fetch(`${p.baseUrl}/api/commerce/webhooks/sandbox`, {
				method: "POST",
				headers: { "content-type": "application/json", "sandbox-signature": signature },
				body,
			});
		const forged = await send(sign(body, "forged-secret"));
		const refused = (await forged.json()) as any;
		expect([forged.status, refused.code, refused.detail]).toEqual([
			401,
			"INVALID_SIGNATURE",
			"The request signature is not valid: no signature matches.",
		]);
		const first = await send(sign(body, sandboxSecret));
		expect(first.status).toBe(200);
		expect(await first.json()).toMatchObject({ received: true, duplicate: false, result: { applied: true } });
		const again = await send(sign(body, sandboxSecret));
		expect(await again.json()).toMatchObject({ received: true, duplicate: true });
		expect((await get(payment.id)).status).toBe("captured");
		expect((await fetch(`${p.baseUrl}/api/commerce/webhooks/bitcoin`, { method: "POST", body: "{}" })).status).toBe(422);
	});

	it("refuses a bad signature, a changed body and a stale timestamp (401 INVALID_SIGNATURE, saying why), storing nothing", async () => {
		const payment = (await post("/api/commerce/payments", { amount: 500, currency: "EUR", paymentMethod: "pm_sandbox_delayed" })).body;
		const body = JSON.stringify({ id: `evt_${randomUUID()}`, type: "payment.succeeded", objectRef: payment.providerRef });
		const stale = sign(body, sandboxSecret, Math.floor(Date.now() / 1000) - 301);
		for (const [raw, header, why] of [
			[body, sign(body, "not-the-secret"), "no signature matches"],
			[body.replace("succeeded", "failed"), sign(body, sandboxSecret), "no signature matches"],
			[body, stale, "the timestamp is outside the tolerance"],
			[body, "", "the signature header is missing"],
		]) {
			await expect(deliver("sandbox", raw, header ? { "sandbox-signature": header } : {})).rejects.toMatchObject({
				code: 401,
				type: "INVALID_SIGNATURE",
				name: "InvalidSignatureError",
				message: `The request signature is not valid: ${why}.`,
			});
		}
		expect((await get(payment.id)).status).toBe("pending");
		// nothing was stored for that event id either: the genuine delivery is applied, not taken for a duplicate
		const genuine = await deliver("sandbox", body, { "sandbox-signature": sign(body, sandboxSecret) });
		expect(genuine).toMatchObject({ duplicate: false, result: { applied: true, payment: { status: "captured" } } });
	});

	it("Stripe: a signed payment_intent.succeeded completes a 3-D Secure payment once", async () => {
		const payment = (
			await post("/api/commerce/payments", {
				amount: 1200,
				currency: "EUR",
				provider: "stripe",
				paymentMethod: "pm_card_threeDSecure2Required",
			})
		).body;
		expect(payment.status).toBe("requires_action");
		const body = JSON.stringify(
			{
				id: "evt_stripe_1",
				type: "payment_intent.succeeded",
				data: { object: { id: payment.providerRef, object: "payment_intent", status: "succeeded" } },
			},
			null,
			2,
		);
		const headers = { "Stripe-Signature": sign(body, "whsec_test_fake") };
		expect((await deliver("stripe", body, headers)).result.payment.status).toBe("captured");
		expect((await deliver("stripe", body, headers)).duplicate).toBe(true);
		await expect(deliver("stripe", body, { "Stripe-Signature": sign(body, sandboxSecret) })).rejects.toMatchObject({ type: "INVALID_SIGNATURE" });
	});

	it("PayPal: a verified PAYMENT.PAYOUTSBATCH.SUCCESS marks the pending payout paid; an unverified one is refused", async () => {
		const order = (
			await p.http("POST", "/api/commerce/orders", {
				token: member,
				body: { sellerId: "wh-seller", currency: "EUR", items: [{ description: "Lamp", quantity: 1, unitPrice: 3000 }] },
			})
		).body;
		await post(`/api/commerce/orders/${order.id}/pay`, { paymentMethod: "pm_sandbox_visa" });
		const payout = (
			await post(
				"/api/commerce/payouts",
				{ ownerId: "wh-seller", amount: 3000, currency: "EUR", destination: "PAYPALID123", provider: "paypal" },
				admin,
			)
		).body;
		expect(payout.status).toBe("pending");
		const event = JSON.stringify({
			id: "WH-EVT-1",
			event_type: "PAYMENT.PAYOUTSBATCH.SUCCESS",
			resource: { batch_header: { payout_batch_id: payout.providerRef } },
		});
		const headers = (sig: string) => ({
			"PAYPAL-TRANSMISSION-ID": "t1",
			"PAYPAL-TRANSMISSION-TIME": new Date().toISOString(),
			"PAYPAL-TRANSMISSION-SIG": sig,
			"PAYPAL-CERT-URL": "https://api.paypal.invalid/cert",
			"PAYPAL-AUTH-ALGO": "SHA256withRSA",
		});
		await expect(deliver("paypal", event, headers("forged"))).rejects.toMatchObject({ type: "INVALID_SIGNATURE" });
		const res = await deliver("paypal", event, headers("valid-sig"));
		expect(res.result).toMatchObject({ applied: true, payout: { status: "paid" } });
		expect((await deliver("paypal", event, headers("valid-sig"))).duplicate).toBe(true);
	});
});
