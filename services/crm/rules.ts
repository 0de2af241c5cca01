/**
 * Assignment rule matching (pure). Every condition a rule states must hold (AND); a rule without
 * conditions matches every lead. Value bounds are inclusive and only match a lead whose value has
 * the rule's currency.
 */
export interface RuleConditions {
	sources?: string[];
	countries?: string[];
	value?: { currency: string; min?: number; max?: number };
	customFields?: { key: string; equals: string | number | boolean }[];
}

export interface MatchableLead {
	source?: string | null;
	country?: string | null;
	value?: { amount: number; currency: string } | null;
	customFields?: Record<string, unknown> | null;
}

export function matches(cond: RuleConditions | undefined, lead: MatchableLead): boolean {
	if (!cond) return true;
	if (cond.sources?.length && !cond.sources.includes(lead.source ?? "")) return false;
	if (cond.countries?.length && !cond.countries.includes(lead.country ?? "")) return false;
	if (cond.value) {
		const v = lead.value;
		if (!v || v.currency !== cond.value.currency) return false;
		if (cond.value.min != null && v.amount < cond.value.min) return false;
		if (cond.value.max != null && v.amount > cond.value.max) return false;
	}
	for (const cf of cond.customFields ?? []) if (lead.customFields?.[cf.key] !== cf.equals) return false;
	return true;
}

/** Least-loaded choice: lowest open/capacity ratio among agents below capacity; ties by fewer open leads, then pool order. */
export function leastLoaded(pool: readonly string[], open: Record<string, number>, capacity: Record<string, number>): string | undefined {
	let best: { user: string; ratio: number; open: number } | undefined;
	for (const user of pool) {
		const o = open[user] ?? 0;
		const c = capacity[user] ?? 0;
		if (c <= 0 || o >= c) continue;
		const ratio = o / c;
		if (!best || ratio < best.ratio || (ratio === best.ratio && o < best.open)) best = { user, ratio, open: o };
	}
	return best?.user;
}
