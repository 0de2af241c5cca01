/** Customers and their payment methods: provider tokens only; card numbers are refused and never stored. */
import { startPlatform, type Platform } from "../helpers/platform";

describe("commerce: customers and payment methods", () => {
	let p: Platform;
	let member: string, other: string;

	beforeAll(async () => {
		p = await startPlatform({ services: ["customers", "paymentmethods"] });
		member = p.token({ sub: "pm-member", tid: "tenant-pm", roles: ["member"] });
		other = p.token({ sub: "pm-other", tid: "tenant-pm-b", roles: ["member"] });
	});
	afterAll(() => p.stop());

	it("attaches provider tokens to a customer of the tenant; card numbers are 422, not stored, not echoed", async () => {
		const customer = (await p.http("POST", "/api/commerce/customers", { token: member, body: { name: "Grace", email: "grace@example.com" } }))
			.body;
		const attach = (token: string, body: Record<string, unknown>) =>
			p.http("POST", "/api/commerce/payment-methods", { token, body: { customerId: customer.id, provider: "stripe", ...body } });
		const ok = await attach(member, { token: "pm_1QxYz", label: "Visa" });
		expect(ok.status).toBe(201);
		for (const card of ["4242424242424242", "4242 4242 4242 4242", "5555-5555-5555-4444", "378282246310005"]) {
			const res = await attach(member, { token: card });
			expect([res.status, res.body.errors]).toEqual([422, [{ field: "token", message: expect.any(String) }]]);
			expect(JSON.stringify(res.body)).not.toContain(card.slice(-4) + '"');
			expect(JSON.stringify(res.body)).not.toContain(card);
		}
		expect((await attach(member, { token: "pm_x", label: "my card 4111 1111 1111 1111" })).status).toBe(422);
		expect((await attach(member, { token: "not a token!" })).status).toBe(422);
		// not a card number (fails the Luhn check): an ordinary token
		expect((await attach(member, { token: "tok_1234567890123456" })).status).toBe(201);
		const list = await p.http("GET", `/api/commerce/payment-methods?customerId=${customer.id}`, { token: member });
		expect(list.body.rows.map((r: any) => r.token).sort()).toEqual(["pm_1QxYz", "tok_1234567890123456"]);
		expect(JSON.stringify(list.body)).not.toMatch(/4242|5555|3782|4111/);
		// another tenant's customer answers like a missing one
		expect((await attach(other, { token: "pm_theirs" })).status).toBe(404);
		expect((await p.http("GET", `/api/commerce/customers/${customer.id}`, { token: other })).status).toBe(404);
	});
});
