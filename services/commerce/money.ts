/**
 * Exact money: integer minor units in the ISO 4217 exponent of each currency (JPY 0, EUR 2, KWD 3),
 * from the `currency-codes` table (ISO's own list), never floats. Products are computed with BigInt and
 * rounded ONCE, half away from zero, like the commission rules (README, "Commerce domain").
 */
import { data as iso4217 } from "currency-codes";
import { InvalidInputError } from "../../lib/errors";

/** ISO 4217 entries without minor units ("N.A.": metals, bond units, XTS, XXX) are not money here. */
const EXPONENTS: ReadonlyMap<string, number> = new Map(
	iso4217.filter(c => !c.countries.some(country => country.startsWith("Zz"))).map(c => [c.code, c.digits]),
);

const invalid = (field: string, message: string) => new InvalidInputError(message, [{ field, message }]);

/** The number of minor-unit digits of a currency, or 422 for a code that is not an ISO 4217 currency. */
export function exponentOf(currency: string, field = "currency"): number {
	const exponent = EXPONENTS.get(currency);
	if (exponent === undefined) throw invalid(field, `'${currency}' is not an ISO 4217 currency code.`);
	return exponent;
}

/** A currency code as given, checked (upper-case ISO 4217 only: "eur" is refused, not guessed). */
export function checkCurrency(currency: string, field = "currency"): string {
	exponentOf(currency, field);
	return currency;
}

/**
 * An amount in minor units: a safe non-negative integer (positive unless `allowZero`). A float
 * (12.5), a string, a negative or an unsafe integer is 422: the API never guesses a scale.
 */
export function checkAmount(value: unknown, field = "amount", opts: { allowZero?: boolean } = {}): number {
	if (typeof value !== "number" || !Number.isSafeInteger(value))
		throw invalid(field, "Amounts are integers in the currency's minor unit (cents for EUR, yen for JPY).");
	if (value < 0 || (value === 0 && !opts.allowZero))
		throw invalid(field, opts.allowZero ? "The amount may not be negative." : "The amount must be positive.");
	return value;
}

/** A BigInt result back to a number, or 422 when it leaves the safe range (no silent precision loss). */
export function toSafe(value: bigint, field = "amount"): number {
	if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) throw invalid(field, "The amount is too large.");
	const n = Number(value);
	return n === 0 ? 0 : n; // no -0
}

/** numerator / denominator rounded half away from zero (denominator > 0). */
export function divRound(numerator: bigint, denominator: bigint): bigint {
	const negative = numerator < 0n;
	const abs = negative ? -numerator : numerator;
	const q = (abs * 2n + denominator) / (denominator * 2n);
	return negative ? -q : q;
}

/** Parts per million: rates and percentages as exact integers ("19" % → 190,000; "8.875" % → 88,750). */
export const PPM = 1_000_000n;

/**
 * A percentage written as a decimal string ("19", "7.7", "8.875", at most 4 decimals, 0–100) as parts
 * per million. A string, because a JSON float is already inexact before we see it.
 */
export function percentToPpm(value: string, field: string): number {
	const m = /^(\d{1,3})(?:\.(\d{1,4}))?$/.exec(value);
	if (!m) throw invalid(field, 'A percentage is a decimal string such as "19" or "8.875" (at most 4 decimals).');
	const ppm = Number(m[1]) * 10_000 + Number((m[2] ?? "").padEnd(4, "0"));
	if (ppm > 1_000_000) throw invalid(field, "A percentage is at most 100.");
	return ppm;
}

/** A minor-unit amount as a decimal string in its currency ("1234" EUR → "12.34", JPY → "1234"). */
export function formatAmount(amount: number, currency: string): string {
	const exponent = exponentOf(currency);
	const negative = amount < 0;
	const digits = String(Math.abs(amount)).padStart(exponent + 1, "0");
	const whole = exponent ? digits.slice(0, -exponent) : digits;
	const fraction = exponent ? `.${digits.slice(-exponent)}` : "";
	return `${negative ? "-" : ""}${whole}${fraction}`;
}
