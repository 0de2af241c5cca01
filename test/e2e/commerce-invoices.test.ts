/**
 * Invoices over HTTP: exact totals, states, gap-free numbers under concurrent finalisations (Redis
 * numbering, and the store's own in embedded mode), the PDF, and paying an invoice with a payment.
 */
import { randomUUID } from "node:crypto";
import { startPlatform, type Platform } from "../helpers/platform";

const draft = {
	currency: "EUR",
	discountPercent: "10",
	customerName: "Ada Lovelace",
	lines: [
		{ description: "Consulting hour", quantity: 3, unitPrice: 1999, taxRate: "19" },
		{ description: "Book", quantity: 1, unitPrice: 1000, taxRate: "7", discount: 100 },
	],
};

for (const numbering of ["redis", "store"] as const) {
	describe(`commerce: invoices (${numbering} numbering)`, () => {
		let p: Platform;
		let admin: string, member: string, otherTenant: string;
		const tid = `tenant-inv-${numbering}`;
		const year = new Date().getUTCFullYear();

		beforeAll(async () => {
			p = await startPlatform({
				services: ["invoices", "payments"],
				env: { REDIS_URL: numbering === "redis" ? "redis://127.0.0.1:6379" : "" },
			});
			admin = p.token({ sub: "inv-admin", tid, roles: ["admin"] });
			member = p.token({ sub: "inv-member", tid, roles: ["member"] });
			otherTenant = p.token({ sub: "inv-admin-b", tid: `${tid}-b`, roles: ["admin"] });
		});
		afterAll(() => p.stop());

		const create = async (body: unknown = draft, token = admin) => {
			const res = await p.http("POST", "/api/commerce/invoices", { token, body });
			expect(res.status).toBe(201);
			return res.body;
		};
		const finalize = (id: string, token = admin) => p.http("POST", `/api/commerce/invoices/${id}/finalize`, { token });

		it("a draft has exact totals: one rounding of the discount and of the tax, half away from zero", async () => {
			const inv = await create();
			expect(inv).toMatchObject({ status: "draft", subtotal: 6997, discount: 790, tax: 1082, total: 7289, currency: "EUR" });
			expect(inv.number).toBeUndefined();
			const yen = await create({ currency: "JPY", lines: [{ description: "Tea", quantity: 1, unitPrice: 105, taxRate: "10" }] });
			expect(yen).toMatchObject({ tax: 11, total: 116 });
			for (const bad of [
				{ ...draft, currency: "EURO" },
				{ ...draft, lines: [{ description: "x", quantity: 1, unitPrice: 9.99 }] },
				{ ...draft, lines: [{ description: "x", quantity: 1, unitPrice: 10, taxRate: "0.12345" }] },
				{ ...draft, lines: [{ description: "x", quantity: 1, unitPrice: -1 }] },
			])
				expect((await p.http("POST", "/api/commerce/invoices", { token: admin, body: bad })).status).toBe(422);
			expect((await p.http("POST", "/api/commerce/invoices", { token: member, body: draft })).status).toBe(403);
		});

		it("finalising numbers it INV-<year>-000001…; a second finalise and editing an open invoice are 409", async () => {
			const inv = await create();
			const open = await finalize(inv.id);
			expect(open.status).toBe(200);
			expect(open.body).toMatchObject({ status: "open", number: `INV-${year}-000001` });
			expect((await finalize(inv.id)).status).toBe(409);
			expect((await p.http("PUT", `/api/commerce/invoices/${inv.id}`, { token: admin, body: draft })).status).toBe(409);
			expect((await finalize(inv.id, otherTenant)).status).toBe(404);
		});

		it("concurrent finalisations: every number once, no gap", async () => {
			const drafts = await Promise.all(Array.from({ length: 20 }, () => create()));
			// the same invoice finalised twice at once, too
			const results = await Promise.all([...drafts, drafts[0]].map(d => finalize(d.id)));
			expect(results.filter(r => r.status === 200)).toHaveLength(20);
			expect(results.filter(r => r.status === 409)).toHaveLength(1);
			const numbers = results
				.filter(r => r.status === 200)
				.map(r => r.body.number as string)
				.sort();
			expect(numbers).toEqual(Array.from({ length: 20 }, (_, i) => `INV-${year}-${String(i + 2).padStart(6, "0")}`));
			// another tenant counts from 1
			const theirs = await create(draft, otherTenant);
			expect((await finalize(theirs.id, otherTenant)).body.number).toBe(`INV-${year}-000001`);
		});

		it("renders a PDF", async () => {
			const inv = await create();
			await finalize(inv.id);
			const res = await fetch(`${p.baseUrl}/api/commerce/invoices/${inv.id}/pdf`, { headers: { authorization: `Bearer ${member}` } });
			expect(res.status).toBe(200);
			expect(res.headers.get("content-type")).toContain("application/pdf");
			const bytes = Buffer.from(await res.arrayBuffer());
			expect(bytes.subarray(0, 5).toString()).toBe("%PDF-");
			expect(bytes.length).toBeGreaterThan(500);
			expect(
				(await fetch(`${p.baseUrl}/api/commerce/invoices/${inv.id}/pdf`, { headers: { authorization: `Bearer ${otherTenant}` } })).status,
			).toBe(404);
		});

		it("is paid by a captured payment made for it; then void is 409; an open one can be voided", async () => {
			const inv = await create();
			await finalize(inv.id);
			const other = await create();
			await finalize(other.id);
			const pay = (invoiceId: string, amount: number) =>
				p.http("POST", "/api/commerce/payments", {
					token: admin,
					body: { amount, currency: "EUR", paymentMethod: "pm_sandbox_visa", invoiceId },
					headers: { "idempotency-key": randomUUID() },
				});
			const short = (await pay(inv.id, 7000)).body;
			expect((await p.http("POST", `/api/commerce/invoices/${inv.id}/pay`, { token: admin, body: { paymentId: short.id } })).status).toBe(422);
			const wrongInvoice = (await pay(other.id, 7289)).body;
			expect(
				(await p.http("POST", `/api/commerce/invoices/${inv.id}/pay`, { token: admin, body: { paymentId: wrongInvoice.id } })).status,
			).toBe(422);
			const payment = (await pay(inv.id, 7289)).body;
			const paid = await p.http("POST", `/api/commerce/invoices/${inv.id}/pay`, { token: admin, body: { paymentId: payment.id } });
			expect(paid.body).toMatchObject({ status: "paid", paymentId: payment.id });
			expect((await p.http("POST", `/api/commerce/invoices/${inv.id}/void`, { token: admin })).status).toBe(409);
			expect((await p.http("POST", `/api/commerce/invoices/${other.id}/mark-uncollectible`, { token: admin })).body.status).toBe(
				"uncollectible",
			);
			expect((await p.http("POST", `/api/commerce/invoices/${other.id}/void`, { token: admin })).body.status).toBe("void");
			const draftOne = await create();
			expect(
				(await p.http("POST", `/api/commerce/invoices/${draftOne.id}/pay`, { token: admin, body: { paymentId: payment.id } })).status,
			).toBe(409);
		});
	});
}
