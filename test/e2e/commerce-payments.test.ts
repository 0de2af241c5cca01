/**
 * Commerce payments over HTTP with the sandbox provider: charges, declines, capture, refunds racing,
 * card data refused, and the Idempotency-Key rules (keys in Redis, as every node sees them).
 */
import { randomUUID } from "node:crypto";
import { startPlatform, type Platform } from "../helpers/platform";

describe("commerce: payments and idempotency (sandbox)", () => {
	let p: Platform;
	let member: string, admin: string, otherTenant: string;
	const tid = "tenant-pay-a";

	beforeAll(async () => {
		p = await startPlatform({ services: ["payments"], env: { REDIS_URL: "redis://127.0.0.1:6379" } });
		member = p.token({ sub: "buyer-1", tid, roles: ["member"] });
		admin = p.token({ sub: "admin-1", tid, roles: ["admin"] });
		otherTenant = p.token({ sub: "admin-b", tid: "tenant-pay-b", roles: ["admin"] });
	});
	afterAll(() => p.stop());

	const post = (path: string, body: unknown, token = member, key: string | null = randomUUID()) =>
		p.http("POST", path, { token, body, headers: key === null ? {} : { "idempotency-key": key } });
	const pay = (body: Record<string, unknown>, key?: string) =>
		post("/api/commerce/payments", { amount: 1999, currency: "EUR", paymentMethod: "pm_sandbox_visa", ...body }, member, key);

	it("charges a sandbox card: 201 captured, Location, readable by the tenant only", async () => {
		const res = await pay({});
		expect(res.status).toBe(201);
		expect(res.body).toMatchObject({
			status: "captured",
			amount: 1999,
			currency: "EUR",
			capturedAmount: 1999,
			refundedAmount: 0,
			provider: "sandbox",
		});
		expect(res.headers.get("location")).toBe(`/api/commerce/payments/${res.body.id}`);
		expect((await p.http("GET", `/api/commerce/payments/${res.body.id}`, { token: member })).body.status).toBe("captured");
		expect((await p.http("GET", `/api/commerce/payments/${res.body.id}`, { token: otherTenant })).status).toBe(404);
		expect(res.body.idempotencyKey).toBeUndefined();
	});

	it("a declined card is 402 PAYMENT_DECLINED and the payment is stored as failed", async () => {
		const res = await pay({ paymentMethod: "pm_sandbox_declined" });
		expect(res.status).toBe(402);
		expect(res.body.code).toBe("PAYMENT_DECLINED");
		const failed = await p.http("GET", "/api/commerce/payments?status=failed", { token: member });
		expect(failed.body.rows.some((r: any) => r.declineCode === "card_declined")).toBe(true);
	});

	it("exact money: floats, strings, negatives, zero and unknown currencies are 422; JPY and KWD take their own scale", async () => {
		for (const body of [
			{ amount: 19.99 },
			{ amount: "1999" },
			{ amount: -5 },
			{ amount: 0 },
			{ currency: "EUX" },
			{ currency: "eur" },
			{ currency: "XAU" },
		]) {
			const res = await pay(body);
			expect([res.status, body]).toEqual([422, body]);
		}
		expect((await pay({ amount: 500, currency: "JPY" })).status).toBe(201);
		expect((await pay({ amount: 1234, currency: "KWD" })).status).toBe(201);
	});

	it("refuses anything shaped like a card number (422, the value not echoed)", async () => {
		const res = await pay({ paymentMethod: "4242 4242 4242 4242" });
		expect(res.status).toBe(422);
		expect(JSON.stringify(res.body)).not.toContain("4242");
		const inDescription = await pay({ description: "card 4000-0566-5566-5556 thanks" });
		expect(inDescription.status).toBe(422);
		expect(inDescription.body.errors).toEqual([{ field: "description", message: expect.any(String) }]);
	});

	it("manual capture: authorized, then captured; a second capture and capturing a failed payment are 409", async () => {
		const auth = await pay({ captureMethod: "manual" });
		expect(auth.body.status).toBe("authorized");
		const cap = await post(`/api/commerce/payments/${auth.body.id}/capture`, {});
		expect(cap.status).toBe(200);
		expect(cap.body).toMatchObject({ status: "captured", capturedAmount: 1999 });
		expect((await post(`/api/commerce/payments/${auth.body.id}/capture`, {})).status).toBe(409);
		const cancel = await post(`/api/commerce/payments/${auth.body.id}/cancel`, {});
		expect([cancel.status, cancel.body.code]).toEqual([409, "INVALID_TRANSITION"]);
	});

	it("3-D Secure leaves the payment requires_action with the next step", async () => {
		const res = await pay({ paymentMethod: "pm_sandbox_3ds" });
		expect(res.body).toMatchObject({ status: "requires_action", nextAction: { type: "3ds_redirect" } });
	});

	it("partial refunds racing never add up to more than was captured", async () => {
		const payment = (await pay({ amount: 1000 })).body;
		const results = await Promise.all(
			Array.from({ length: 8 }, () => post(`/api/commerce/payments/${payment.id}/refunds`, { amount: 300 }, admin)),
		);
		const ok = results.filter(r => r.status === 201);
		expect(ok).toHaveLength(3);
		expect(ok.every(r => r.headers.get("location") === `/api/commerce/payments/${payment.id}`)).toBe(true);
		expect(results.filter(r => r.status === 409).every(r => r.body.code === "REFUND_EXCEEDS_CAPTURED")).toBe(true);
		const after = (await p.http("GET", `/api/commerce/payments/${payment.id}`, { token: admin })).body;
		expect(after).toMatchObject({ status: "partially_refunded", refundedAmount: 900 });
		const rest = await post(`/api/commerce/payments/${payment.id}/refunds`, {}, admin);
		expect(rest.body).toMatchObject({ amount: 100, status: "succeeded", payment: { status: "refunded", refundedAmount: 1000 } });
		expect((await post(`/api/commerce/payments/${payment.id}/refunds`, { amount: 1 }, admin)).status).toBe(409);
		expect((await post(`/api/commerce/payments/${payment.id}/refunds`, { amount: 1 }, member)).status).toBe(403);
	});

	describe("Idempotency-Key", () => {
		it("is required on a POST that moves money (400)", async () => {
			const res = await post("/api/commerce/payments", { amount: 100, currency: "EUR", paymentMethod: "pm_sandbox_visa" }, member, null);
			expect([res.status, res.body.code]).toEqual([400, "IDEMPOTENCY_KEY_REQUIRED"]);
		});

		it("the same key and request replays the first answer and says so; another request with it is 422", async () => {
			const key = `"${randomUUID()}"`;
			const first = await pay({ amount: 4200 }, key);
			const again = await pay({ amount: 4200 }, key);
			expect(again.status).toBe(201);
			expect(again.body).toEqual(first.body);
			expect(again.headers.get("idempotent-replayed")).toBe("true");
			expect(first.headers.get("idempotent-replayed")).toBeNull();
			expect(again.headers.get("location")).toBe(first.headers.get("location"));
			const other = await pay({ amount: 4300 }, key);
			expect([other.status, other.body.errors]).toEqual([
				422,
				[{ field: "Idempotency-Key", message: "was already used for a different request" }],
			]);
			// another user's same key is another key
			const someoneElse = await post("/api/commerce/payments", { amount: 4300, currency: "EUR", paymentMethod: "pm_sandbox_visa" }, admin, key);
			expect(someoneElse.status).toBe(201);
		});

		it("a declined first answer is replayed too (no second attempt at the card)", async () => {
			const key = randomUUID();
			const marker = `declined ${key}`;
			const first = await pay({ paymentMethod: "pm_sandbox_declined", description: marker }, key);
			const again = await pay({ paymentMethod: "pm_sandbox_declined", description: marker }, key);
			expect([first.status, again.status]).toEqual([402, 402]);
			expect(again.body.code).toBe("PAYMENT_DECLINED");
			const all = await p.http("GET", "/api/commerce/payments?status=failed&pageSize=100", { token: member });
			expect(all.body.rows.filter((r: any) => r.description === marker)).toHaveLength(1);
		});

		it("20 concurrent sends of one key make one charge; the rest are 409 while it runs or replays", async () => {
			const key = randomUUID();
			const marker = `concurrent ${key}`;
			const results = await Promise.all(Array.from({ length: 20 }, () => pay({ amount: 777, description: marker }, key)));
			for (const r of results) expect([201, 409]).toContain(r.status);
			const created = results.filter(r => r.status === 201);
			expect(created.length).toBeGreaterThanOrEqual(1);
			expect(new Set(created.map(r => r.body.id)).size).toBe(1);
			expect(created.filter(r => r.headers.get("idempotent-replayed") !== "true")).toHaveLength(1);
			for (const r of results.filter(x => x.status === 409)) expect(r.body.code).toBe("IDEMPOTENCY_KEY_IN_PROGRESS");
			const all = await p.http("GET", "/api/commerce/payments?pageSize=100", { token: member });
			expect(all.body.rows.filter((r: any) => r.description === marker)).toHaveLength(1);
			// after the first answered, a retry replays it
			const later = await pay({ amount: 777, description: marker }, key);
			expect([later.status, later.body.id, later.headers.get("idempotent-replayed")]).toEqual([201, created[0].body.id, "true"]);
		});
	});
});
