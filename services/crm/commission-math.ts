/**
 * Commission maths, in integers only. Amounts are minor units (cents); rates are basis points
 * (1 bp = 0.01 %, 10,000 bp = 100 %). Products are computed exactly with BigInt and rounded ONCE,
 * at the end, half away from zero to the minor unit ("half-up" for positive amounts): a tiered
 * commission is the exact sum of its brackets, rounded once — never a sum of rounded brackets.
 */

export interface Tier {
	/** Upper bound of the bracket in minor units (inclusive of the value up to it); null = no bound. */
	upTo: number | null;
	rateBps: number;
}

export type Plan =
	| { type: "flat"; currency: string; amount: number }
	| { type: "percentage"; currency: string; rateBps: number }
	| { type: "tiered"; currency: string; tiers: Tier[] };

export class CurrencyMismatchError extends Error {
	override name = "CurrencyMismatchError";
}

/** Divide by 10,000 rounding half away from zero. */
export function roundBps(numerator: bigint): number {
	const d = 10_000n;
	const neg = numerator < 0n;
	const abs = neg ? -numerator : numerator;
	const q = (abs + d / 2n) / d;
	const result = Number(neg ? -q : q);
	return result === 0 ? 0 : result; // no -0
}

/** value × rate, rounded once. */
export function percentageOf(value: number, rateBps: number): number {
	return roundBps(BigInt(value) * BigInt(rateBps));
}

/** Tiers sorted by upper bound with the open bracket last; the last bracket must be open. */
export function normaliseTiers(tiers: Tier[]): Tier[] {
	const sorted = [...tiers].sort((a, b) => (a.upTo ?? Infinity) - (b.upTo ?? Infinity));
	return sorted;
}

/**
 * Marginal brackets: each rate applies to the slice of the value inside its bracket, like income
 * tax. Brackets `[{upTo: 100_000, rateBps: 500}, {upTo: null, rateBps: 1000}]` on 150,000 give
 * 100,000 × 5 % + 50,000 × 10 % = 10,000. A value above the last bounded bracket with no open
 * bracket earns nothing on the excess.
 */
export function tieredOf(value: number, tiers: Tier[]): number {
	let prev = 0n;
	let sum = 0n;
	const v = BigInt(value);
	for (const tier of normaliseTiers(tiers)) {
		if (v <= prev) break;
		const top = tier.upTo === null ? v : BigInt(tier.upTo) < v ? BigInt(tier.upTo) : v;
		if (top > prev) sum += (top - prev) * BigInt(tier.rateBps);
		if (tier.upTo === null) break;
		prev = BigInt(tier.upTo);
	}
	return roundBps(sum);
}

/** The commission for a won lead of `value` minor units in `currency`. Throws on a currency mismatch. */
export function commissionFor(plan: Plan, value: { amount: number; currency: string }): number {
	if (plan.currency !== value.currency)
		throw new CurrencyMismatchError(`plan currency ${plan.currency} does not match lead currency ${value.currency}`);
	switch (plan.type) {
		case "flat":
			return plan.amount;
		case "percentage":
			return percentageOf(value.amount, plan.rateBps);
		case "tiered":
			return tieredOf(value.amount, plan.tiers);
	}
}

/** Validation of a tier list: strictly increasing bounds, at most one open bracket, and it is last. */
export function tierProblems(tiers: Tier[]): string | undefined {
	const open = tiers.filter(t => t.upTo === null).length;
	if (open > 1) return "only one bracket may be open (upTo: null)";
	const bounds = tiers.filter(t => t.upTo !== null).map(t => t.upTo as number);
	if (new Set(bounds).size !== bounds.length) return "bracket bounds must be distinct";
	return undefined;
}
