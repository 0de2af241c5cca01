/** Money on screen: amounts are integers in the currency's minor unit (README, "Commerce domain" → Money rules). */

/** The ISO 4217 exponent, as the browser's Intl knows it (JPY 0, EUR 2, KWD 3). */
export function exponentOf(currency: string): number {
	try {
		return new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
	} catch {
		return 2;
	}
}

/** `money(1999, "EUR")` → "€19.99" in the reader's locale. */
export function money(amount: number | null | undefined, currency: string): string {
	if (amount === null || amount === undefined) return "—";
	const d = exponentOf(currency);
	try {
		return new Intl.NumberFormat(undefined, { style: "currency", currency, minimumFractionDigits: d, maximumFractionDigits: d }).format(
			amount / 10 ** d,
		);
	} catch {
		return `${amount} (minor units) ${currency}`;
	}
}

/** "12.5" EUR → 1250, without a float; an error message for anything that is not a positive amount with at most the currency's decimals. */
export function toMinor(text: string, currency: string, opts: { allowZero?: boolean } = {}): { amount: number } | { error: string } {
	const d = exponentOf(currency);
	const m = /^(\d+)(?:[.,](\d*))?$/.exec(text.trim());
	if (!m || (m[2] ?? "").length > d)
		return { error: d ? `Write an amount such as 12.50 (at most ${d} decimals).` : "Write a whole amount (this currency has no decimals)." };
	const minor = Number(`${m[1]}${(m[2] ?? "").padEnd(d, "0")}`);
	if (!Number.isSafeInteger(minor)) return { error: "This amount is too large." };
	if (minor <= 0 && !(opts.allowZero && minor === 0)) return { error: "The amount must be more than zero." };
	return { amount: minor };
}
