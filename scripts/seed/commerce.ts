/**
 * Commerce: invoices to the won customers, drafts finalised and numbered, some paid by a card payment of
 * the sandbox provider (the embedded default: offline, `pm_sandbox_visa` always succeeds), one partly refunded.
 * Money POSTs carry an Idempotency-Key derived from SEED; a second run finds the invoices and their payments.
 */
import { SeedError } from "./client";
import { allPages, user, type SeedContext } from "./context";
import { INVOICES, OWNER, SEED } from "./data";

export const commerceUnits = () => INVOICES.length;

interface Invoice {
	id: string;
	status: string;
	customerName: string;
	total: number;
	currency: string;
	paymentId?: string;
	lines: { description: string }[];
}

export async function seedCommerce(ctx: SeedContext): Promise<void> {
	const { api, progress, tally } = ctx;
	const admin = user(ctx, OWNER.key).token;
	const key = (what: string) => ({ "idempotency-key": `seed-${SEED}-${what}` });

	progress.begin("commerce: invoices and payments");
	const invoices = await allPages<Invoice>(ctx, "/api/commerce/invoices", admin);
	let payments: { id: string; invoiceId?: string; status: string; refundedAmount?: number }[] | undefined;
	for (const [i, want] of INVOICES.entries()) {
		let inv = invoices.find(x => x.customerName === want.customer && x.lines?.[0]?.description === want.lines[0].description);
		tally.add("invoices", !inv);
		inv ??= (await api.post("/api/commerce/invoices", admin, {
			currency: "EUR",
			customerName: want.customer,
			lines: want.lines,
			dueDate: want.dueDate,
			...(want.discountPercent && { discountPercent: want.discountPercent }),
		})) as Invoice;
		if (want.status !== "draft" && inv.status === "draft") {
			inv = (await api.post(`/api/commerce/invoices/${inv.id}/finalize`, admin)) as Invoice;
			tally.add("invoices finalised", true);
		}
		if (want.status === "paid" && inv.status === "open") {
			payments ??= await allPages(ctx, "/api/commerce/payments", admin);
			let payment = payments.find(p => p.invoiceId === inv!.id && p.status === "captured");
			tally.add("payments", !payment);
			payment ??= await api.post(
				"/api/commerce/payments",
				admin,
				{
					amount: inv.total,
					currency: inv.currency,
					paymentMethod: "pm_sandbox_visa",
					provider: "sandbox",
					invoiceId: inv.id,
					description: `Invoice for ${want.customer}`,
				},
				key(`invoice-${i + 1}-payment`),
			);
			if (payment!.status !== "captured")
				throw new SeedError(`the sandbox payment of ${want.customer}'s invoice is '${payment!.status}', not captured`);
			inv = (await api.post(`/api/commerce/invoices/${inv.id}/pay`, admin, { paymentId: payment!.id })) as Invoice;
		}
		if (want.refund && inv.status === "paid" && inv.paymentId) {
			const payment = await api.get(`/api/commerce/payments/${inv.paymentId}`, admin);
			const had = (payment.refundedAmount ?? 0) > 0;
			if (!had)
				await api.post(
					`/api/commerce/payments/${payment.id}/refunds`,
					admin,
					{ amount: want.refund, reason: "Two seats cancelled" },
					key(`invoice-${i + 1}-refund`),
				);
			tally.add("refunds", !had);
		}
		progress.tick();
	}
}
