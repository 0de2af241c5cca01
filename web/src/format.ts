/**
 * Money and dates on screen, for every domain. Amounts are integers in the currency's minor unit (README,
 * "Commerce domain" → Money rules); dates are ISO strings shown in the reader's locale.
 */

/** The ISO 4217 exponent, as the browser's Intl knows it (JPY 0, EUR 2, KWD 3; 2 when the code is unknown). */
export function exponentOf(currency: string): number {
	try {
		return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
	} catch {
		return 2;
	}
}

/**
 * `money(1999, "EUR")` → "€19.99" in the reader's locale; "—" without an amount. A currency Intl does not
 * know shows the minor units and the code (`fallback` words it; default "1999 (minor units) XYZ").
 */
export function money(
	amount: number | null | undefined,
	currency: string,
	fallback: (amount: number, currency: string) => string = (a, c) => `${a} (minor units) ${c}`,
): string {
	if (amount === null || amount === undefined) return "—";
	const d = exponentOf(currency);
	try {
		return new Intl.NumberFormat(undefined, { style: "currency", currency, minimumFractionDigits: d, maximumFractionDigits: d }).format(
			amount / 10 ** d,
		);
	} catch {
		return fallback(amount, currency);
	}
}

/** A date and time in the reader's locale, or "—". */
export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : "—");

/** A day (no time) in the reader's locale, or "—". */
export const day = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleDateString() : "—");
