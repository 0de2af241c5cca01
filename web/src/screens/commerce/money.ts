/** Money typed into commerce forms: amounts are integers in the currency's minor unit (README, "Commerce domain" → Money rules). */
import { exponentOf } from "../../format";

export { exponentOf, money } from "../../format";

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
