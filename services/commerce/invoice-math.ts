/**
 * Invoice totals in integers: line amounts (quantity × unit price), line discounts in minor units, an
 * invoice-wide percentage discount and per-line tax rates (percent strings, kept as parts per million).
 * Everything is summed exactly as BigInt and each total is rounded ONCE, half away from zero: the
 * discount and the tax of the whole invoice, never a sum of per-line roundings (README, "Commerce domain").
 */
import { InvalidInputError } from "../../lib/errors";
import { checkAmount, divRound, percentToPpm, PPM, toSafe } from "./money";

export interface LineInput {
	description: string;
	quantity: number;
	unitPrice: unknown;
	/** percent, e.g. "19" or "7.7" (default "0") */
	taxRate?: string;
	/** minor units off this line */
	discount?: unknown;
}

export interface Line {
	description: string;
	quantity: number;
	unitPrice: number;
	taxRate: string;
	discount: number;
	/** quantity × unitPrice − discount */
	amount: number;
}

export interface Totals {
	subtotal: number;
	discount: number;
	tax: number;
	total: number;
}

export function checkLines(lines: LineInput[]): Line[] {
	return lines.map((l, i) => {
		const unitPrice = checkAmount(l.unitPrice, `lines[${i}].unitPrice`, { allowZero: true });
		const discount = l.discount === undefined ? 0 : checkAmount(l.discount, `lines[${i}].discount`, { allowZero: true });
		const taxRate = l.taxRate ?? "0";
		percentToPpm(taxRate, `lines[${i}].taxRate`);
		const gross = BigInt(l.quantity) * BigInt(unitPrice);
		if (BigInt(discount) > gross)
			throw new InvalidInputError("A line discount exceeds the line.", [
				{ field: `lines[${i}].discount`, message: "is more than quantity × unitPrice" },
			]);
		return {
			description: l.description,
			quantity: l.quantity,
			unitPrice,
			taxRate,
			discount,
			amount: toSafe(gross - BigInt(discount), `lines[${i}]`),
		};
	});
}

/** Totals of checked lines with an optional invoice-wide discount percentage ("10" = 10 % off every line). */
export function invoiceTotals(lines: Line[], discountPercent = "0"): Totals {
	const d = BigInt(percentToPpm(discountPercent, "discountPercent"));
	let subtotal = 0n;
	let lineDiscounts = 0n;
	let invoiceDiscount = 0n; // × PPM
	let tax = 0n; // × PPM²
	for (const l of lines) {
		const gross = BigInt(l.quantity) * BigInt(l.unitPrice);
		const net = gross - BigInt(l.discount);
		subtotal += gross;
		lineDiscounts += BigInt(l.discount);
		invoiceDiscount += net * d;
		tax += net * (PPM - d) * BigInt(percentToPpm(l.taxRate, "taxRate"));
	}
	const discount = lineDiscounts + divRound(invoiceDiscount, PPM);
	const taxRounded = divRound(tax, PPM * PPM);
	return {
		subtotal: toSafe(subtotal, "subtotal"),
		discount: toSafe(discount, "discount"),
		tax: toSafe(taxRounded, "tax"),
		total: toSafe(subtotal - discount + taxRounded, "total"),
	};
}
