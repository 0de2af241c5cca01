/**
 * Orders, seller balances and payouts over HTTP (sandbox provider), and the CRM's approved commission
 * payouts paid through the same payouts path and marked paid in the CRM.
 */
import { randomUUID } from "node:crypto";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

describe("commerce: orders, balances and payouts (sandbox)", () => {
	let p: Platform;
	let buyer: string, seller: string, admin: string, stranger: string, agent: string;
	const tid = "tenant-orders";

	beforeAll(async () => {
		p = await startPlatform({
			services: ["orders", "payments", "ledger", "sellerpayouts", "leads", "activities", "commission", "calculations", "payouts"],
		});
		buyer = p.token({ sub: "buyer-o", tid, roles: ["member"] });
		seller = p.token({ sub: "seller-o", tid, roles: ["member"] });
		stranger = p.token({ sub: "stranger-o", tid, roles: ["member"] });
		agent = p.token({ sub: "agent-o", tid, roles: ["member"] });
		admin = p.token({ sub: "admin-o", tid, roles: ["admin"] });
	});
	afterAll(() => p.stop());

	const post = (path: string, body: unknown, token: string, key = randomUUID()) =>
		p.http("POST", path, { token, body, headers: { "idempotency-key": key } });
	const order = async (sellerId = "seller-o") => {
		const res = await p.http("POST", "/api/commerce/orders", {
			token: buyer,
			body: { sellerId, currency: "EUR", items: [{ description: "Print", quantity: 2, unitPrice: 1250 }] },
		});
		expect(res.status).toBe(201);
		return res.body;
	};
	const balance = async (ownerId = "seller-o", token = seller) =>
		(await p.http("GET", `/api/commerce/balances/${ownerId}`, { token })).body.balances;

	it("a buyer pays an order: paid, the seller credited once (a replayed pay changes nothing)", async () => {
		const o = await order();
		expect(o).toMatchObject({ status: "pending_payment", total: 2500, buyerId: "buyer-o" });
		expect((await p.http("GET", `/api/commerce/orders/${o.id}`, { token: stranger })).status).toBe(404);
		expect((await post(`/api/commerce/orders/${o.id}/pay`, { paymentMethod: "pm_sandbox_visa" }, seller)).status).toBe(404);
		const key = randomUUID();
		const paid = await post(`/api/commerce/orders/${o.id}/pay`, { paymentMethod: "pm_sandbox_visa" }, buyer, key);
		expect(paid.status).toBe(200);
		expect(paid.body).toMatchObject({ status: "paid", payment: { status: "captured", amount: 2500, orderId: o.id } });
		expect(paid.headers.get("location")).toBeNull();
		const again = await post(`/api/commerce/orders/${o.id}/pay`, { paymentMethod: "pm_sandbox_visa" }, buyer, key);
		expect([again.status, again.headers.get("idempotent-replayed")]).toEqual([200, "true"]);
		expect((await post(`/api/commerce/orders/${o.id}/pay`, { paymentMethod: "pm_sandbox_visa" }, buyer)).status).toBe(409);
		expect(await balance()).toEqual([{ currency: "EUR", available: 2500 }]);
		expect((await p.http("GET", "/api/commerce/balances/seller-o", { token: stranger })).status).toBe(404);
		expect((await p.http("GET", "/api/commerce/orders?as=seller", { token: seller })).body.rows.map((r: any) => r.id)).toContain(o.id);
	});

	it("a declined card leaves the order unpaid and the balance untouched; another card then pays it", async () => {
		const o = await order("seller-o2");
		const res = await post(`/api/commerce/orders/${o.id}/pay`, { paymentMethod: "pm_sandbox_declined" }, buyer);
		expect([res.status, res.body.code]).toEqual([402, "PAYMENT_DECLINED"]);
		expect((await p.http("GET", `/api/commerce/orders/${o.id}`, { token: buyer })).body.status).toBe("pending_payment");
		expect(await balance("seller-o2", admin)).toEqual([]);
		// a failed payment is not live: a new one may start
		const paid = await post(`/api/commerce/orders/${o.id}/pay`, { paymentMethod: "pm_sandbox_visa" }, buyer);
		expect([paid.status, paid.body.status]).toEqual([200, "paid"]);
		expect(await balance("seller-o2", admin)).toEqual([{ currency: "EUR", available: 2500 }]);
	});

	const paymentsOf = async (orderId: string) =>
		((await p.http("GET", "/api/commerce/payments?pageSize=100", { token: admin })).body.rows as any[]).filter(r => r.orderId === orderId);

	it("an order with a live payment cannot be paid again with another key (409 ORDER_PAYMENT_EXISTS); once cancelled it can", async () => {
		const o = await order("seller-o2");
		const first = await post(`/api/commerce/orders/${o.id}/pay`, { paymentMethod: "pm_sandbox_3ds" }, buyer);
		expect([first.status, first.body.status, first.body.payment.status]).toEqual([200, "pending_payment", "requires_action"]);
		const paymentId = first.body.payment.id;
		const again = await post(`/api/commerce/orders/${o.id}/pay`, { paymentMethod: "pm_sandbox_visa" }, buyer);
		expect([again.status, again.body.code]).toEqual([409, "ORDER_PAYMENT_EXISTS"]);
		expect(again.body.detail).toContain(paymentId);
		expect(again.body.detail).toContain("requires_action");
		// the payments route with the order's id is held to the same rule
		const direct = await post(
			"/api/commerce/payments",
			{ amount: 2500, currency: "EUR", paymentMethod: "pm_sandbox_visa", orderId: o.id },
			buyer,
		);
		expect([direct.status, direct.body.code]).toEqual([409, "ORDER_PAYMENT_EXISTS"]);
		expect((await paymentsOf(o.id)).map(r => r.id)).toEqual([paymentId]);

		expect((await post(`/api/commerce/payments/${paymentId}/cancel`, {}, buyer)).body.status).toBe("cancelled");
		const paid = await post(`/api/commerce/orders/${o.id}/pay`, { paymentMethod: "pm_sandbox_visa" }, buyer);
		expect([paid.status, paid.body.status, paid.body.payment.status]).toEqual([200, "paid", "captured"]);
		expect((await paymentsOf(o.id)).map(r => r.status).sort()).toEqual(["cancelled", "captured"]);
	});

	it("20 concurrent pays of one order with 20 different keys make exactly one payment", async () => {
		const o = await order("seller-o2");
		const answers = await Promise.all(
			Array.from({ length: 20 }, () => post(`/api/commerce/orders/${o.id}/pay`, { paymentMethod: "pm_sandbox_delayed" }, buyer)),
		);
		const ok = answers.filter(r => r.status === 200);
		expect(ok).toHaveLength(1);
		const paymentId = ok[0].body.payment.id;
		expect(ok[0].body.payment.status).toBe("pending");
		const refused = answers.filter(r => r.status !== 200);
		expect(refused.map(r => [r.status, r.body.code])).toEqual(Array.from({ length: 19 }, () => [409, "ORDER_PAYMENT_EXISTS"]));
		expect(refused.every(r => r.body.detail.includes(paymentId))).toBe(true);
		expect((await paymentsOf(o.id)).map(r => r.id)).toEqual([paymentId]);
	});

	it("payouts debit the balance; racing payouts never overdraw it; a failed payout gives the amount back", async () => {
		const o = await order();
		await post(`/api/commerce/orders/${o.id}/pay`, { paymentMethod: "pm_sandbox_visa" }, buyer);
		const available = (await balance())[0].available as number; // 5000
		const payouts = await Promise.all(
			Array.from({ length: 6 }, () =>
				post("/api/commerce/payouts", { ownerId: "seller-o", amount: 1000, currency: "EUR", destination: "acct_sandbox_seller" }, admin),
			),
		);
		const paid = payouts.filter(r => r.status === 201);
		expect(paid).toHaveLength(Math.floor(available / 1000));
		expect(paid.every(r => r.body.status === "paid")).toBe(true);
		expect(payouts.filter(r => r.status === 409).every(r => r.body.code === "INSUFFICIENT_BALANCE")).toBe(true);
		expect(await balance()).toEqual([{ currency: "EUR", available: available % 1000 }]);

		const o2 = await order();
		await post(`/api/commerce/orders/${o2.id}/pay`, { paymentMethod: "pm_sandbox_visa" }, buyer);
		const failed = await post(
			"/api/commerce/payouts",
			{ ownerId: "seller-o", amount: 2500, currency: "EUR", destination: "acct_sandbox_fail" },
			admin,
		);
		expect(failed.body.status).toBe("failed");
		expect(await balance()).toEqual([{ currency: "EUR", available: (available % 1000) + 2500 }]);
		expect((await post("/api/commerce/payouts", { ownerId: "seller-o", amount: 1, currency: "EUR", destination: "acct" }, seller)).status).toBe(
			403,
		);
	});

	it("pays an approved CRM commission payout through the provider and marks it paid in the CRM", async () => {
		const plan = await p.http("POST", "/api/commission/plans", {
			token: admin,
			body: { name: "Flat", type: "flat", currency: "EUR", amount: 4200, effectiveFrom: "2020-01-01" },
		});
		await p.http("POST", `/api/commission/plans/${plan.body.id}/members`, { token: admin, body: { userId: "agent-o" } });
		const lead = (await p.http("POST", "/api/leads", { token: agent, body: { name: "Deal" } })).body;
		await p.http("POST", `/api/leads/${lead.id}/assign`, { token: admin, body: { userId: "agent-o" } });
		for (const status of ["contacted", "qualified", "won"]) await p.http("PATCH", `/api/leads/${lead.id}`, { token: agent, body: { status } });
		const period = new Date().toISOString().slice(0, 7);
		const crm = await waitFor(
			async () => {
				const res = await p.http("POST", "/api/commission/payouts", { token: admin, body: { userId: "agent-o", period } });
				if (res.status === 201 && res.body.count === 1) return res.body;
				if (res.status === 201) await p.http("DELETE", `/api/commission/payouts/${res.body.id}`, { token: admin });
				return undefined;
			},
			{ what: "the win's commission" },
		);
		expect(crm.totals).toEqual([{ currency: "EUR", amount: 4200 }]);
		const early = await post(`/api/commerce/payouts/commission/${crm.id}`, { destination: "acct_sandbox_agent" }, admin);
		expect([early.status, early.body.code]).toEqual([409, "INVALID_TRANSITION"]);
		await p.http("POST", `/api/commission/payouts/${crm.id}/approve`, { token: admin });
		const res = await post(`/api/commerce/payouts/commission/${crm.id}`, { destination: "acct_sandbox_agent" }, admin);
		expect(res.status).toBe(201);
		expect(res.body.payouts).toEqual([
			expect.objectContaining({ kind: "commission", ownerId: "agent-o", amount: 4200, currency: "EUR", status: "paid" }),
		]);
		expect(res.headers.get("location")).toBe(`/api/commerce/payouts/${res.body.payouts[0].id}`);
		expect((await p.http("GET", `/api/commission/payouts/${crm.id}`, { token: admin })).body).toMatchObject({ status: "paid", paidBy: "system" });
		const twice = await post(`/api/commerce/payouts/commission/${crm.id}`, { destination: "acct_sandbox_agent" }, admin);
		expect(twice.status).toBe(409);
	});
});
