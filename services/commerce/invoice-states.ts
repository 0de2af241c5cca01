/** Invoice states: `draft -> open -> paid | void | uncollectible` (an uncollectible one may still be paid or voided). */
import { InvalidTransitionError } from "../../lib/errors";

export const INVOICE_STATUSES = ["draft", "open", "paid", "void", "uncollectible"] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];

const EDGES: Record<InvoiceStatus, readonly InvoiceStatus[]> = {
	draft: ["open"],
	open: ["paid", "void", "uncollectible"],
	uncollectible: ["paid", "void"],
	paid: [],
	void: [],
};

export function assertInvoiceMove(from: InvoiceStatus, to: InvoiceStatus): void {
	if (!EDGES[from].includes(to)) throw new InvalidTransitionError("invoice", from, to);
}
