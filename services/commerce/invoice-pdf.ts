/** An invoice as a one-page PDF (pdfkit, its built-in Helvetica: no font files to ship). */
import PDFDocument from "pdfkit";
import { formatAmount } from "./money";
import type { Line, Totals } from "./invoice-math";

export interface PdfInvoice extends Totals {
	number?: string;
	status: string;
	currency: string;
	customerName?: string;
	lines: Line[];
	discountPercent?: string;
	finalizedAt?: string;
	dueDate?: string;
	updatedAt: string;
}

export function renderInvoicePdf(invoice: PdfInvoice): Promise<Buffer> {
	return new Promise((resolve, reject) => {
		// dated by the invoice, not the clock: the same invoice renders the same bytes
		const doc = new PDFDocument({
			size: "A4",
			margin: 50,
			info: { Title: invoice.number ?? "Draft invoice", CreationDate: new Date(invoice.finalizedAt ?? invoice.updatedAt) },
		});
		const chunks: Buffer[] = [];
		doc.on("data", (c: Buffer) => chunks.push(c));
		doc.on("end", () => resolve(Buffer.concat(chunks)));
		doc.on("error", reject);
		const money = (n: number) => `${formatAmount(n, invoice.currency)} ${invoice.currency}`;

		doc.fontSize(20).text(invoice.number ? `Invoice ${invoice.number}` : "Draft invoice");
		doc.moveDown(0.5).fontSize(10).text(`Status: ${invoice.status}`);
		if (invoice.finalizedAt) doc.text(`Issued: ${invoice.finalizedAt.slice(0, 10)}`);
		if (invoice.dueDate) doc.text(`Due: ${invoice.dueDate}`);
		if (invoice.customerName) doc.text(`Bill to: ${invoice.customerName}`);
		doc.moveDown();
		for (const l of invoice.lines) {
			const discount = l.discount ? `, -${money(l.discount)}` : "";
			doc.text(`${l.quantity} × ${l.description} @ ${money(l.unitPrice)} (tax ${l.taxRate} %${discount})`, { continued: true }).text(
				money(l.amount),
				{ align: "right" },
			);
		}
		doc.moveDown();
		doc.text(`Subtotal: ${money(invoice.subtotal)}`, { align: "right" });
		if (invoice.discount)
			doc.text(
				`Discount${invoice.discountPercent && invoice.discountPercent !== "0" ? ` (${invoice.discountPercent} %)` : ""}: -${money(invoice.discount)}`,
				{ align: "right" },
			);
		doc.text(`Tax: ${money(invoice.tax)}`, { align: "right" });
		doc.fontSize(12).text(`Total: ${money(invoice.total)}`, { align: "right" });
		doc.end();
	});
}
