import { commissionFor, CurrencyMismatchError, percentageOf, roundBps, tieredOf, tierProblems } from "../../services/crm/commission-math";
import { leastLoaded, matches } from "../../services/crm/rules";
import { canTransition, periodBounds, phoneKey } from "../../services/crm/common";
import { pick } from "../../services/crm/round-robin";

describe("crm commission maths (integers, basis points, one rounding half away from zero)", () => {
	it("rounds half away from zero, once", () => {
		expect(roundBps(5_000n)).toBe(1); // 0.5 → 1
		expect(roundBps(4_999n)).toBe(0);
		expect(roundBps(15_000n)).toBe(2); // 1.5 → 2
		expect(roundBps(-5_000n)).toBe(-1);
		expect(roundBps(-4_999n)).toBe(0);
		expect(Object.is(roundBps(-1n), 0)).toBe(true); // never -0
	});

	it("percentage of a value in basis points", () => {
		expect(percentageOf(100_000, 250)).toBe(2_500); // 2.5 % of 1,000.00
		expect(percentageOf(333, 1_000)).toBe(33); // 33.3 → 33
		expect(percentageOf(335, 1_000)).toBe(34); // 33.5 → 34
		expect(percentageOf(1, 4_999)).toBe(0);
		expect(percentageOf(1, 5_000)).toBe(1);
		expect(percentageOf(0, 10_000)).toBe(0);
		// beyond 2^53 in the intermediate product: exact thanks to BigInt
		expect(percentageOf(Number.MAX_SAFE_INTEGER, 10_000)).toBe(Number.MAX_SAFE_INTEGER);
		expect(percentageOf(9_007_199_254_740_000, 1)).toBe(900_719_925_474);
	});

	const tiers = [
		{ upTo: 100_000, rateBps: 500 }, // 5 % up to 1,000.00
		{ upTo: 500_000, rateBps: 1_000 }, // 10 % up to 5,000.00
		{ upTo: null, rateBps: 1_500 }, // 15 % above
	];

	it("tiered marginal brackets on and around the boundaries", () => {
		expect(tieredOf(0, tiers)).toBe(0);
		expect(tieredOf(99_999, tiers)).toBe(5_000); // 4,999.95 → 5,000
		expect(tieredOf(100_000, tiers)).toBe(5_000);
		expect(tieredOf(100_001, tiers)).toBe(5_000); // 5,000 + 0.1 → 5,000
		expect(tieredOf(100_005, tiers)).toBe(5_001); // 5,000 + 0.5 → 5,001 (rounded once, not per bracket)
		expect(tieredOf(500_000, tiers)).toBe(5_000 + 40_000);
		expect(tieredOf(500_001, tiers)).toBe(45_000); // + 0.15
		expect(tieredOf(1_000_000, tiers)).toBe(45_000 + 75_000);
		// order of brackets in the input does not matter
		expect(tieredOf(1_000_000, [...tiers].reverse())).toBe(120_000);
		// no open bracket: nothing on the excess
		expect(tieredOf(1_000_000, tiers.slice(0, 2))).toBe(45_000);
		// per-bracket rounding would give 1 + 1 = 2; one rounding gives 1 (0.5 + 0.5 = 1.0)
		expect(
			tieredOf(20, [
				{ upTo: 10, rateBps: 500 },
				{ upTo: null, rateBps: 500 },
			]),
		).toBe(1);
	});

	it("validates tiers", () => {
		expect(tierProblems(tiers)).toBeUndefined();
		expect(
			tierProblems([
				{ upTo: null, rateBps: 1 },
				{ upTo: null, rateBps: 2 },
			]),
		).toMatch(/only one/);
		expect(
			tierProblems([
				{ upTo: 5, rateBps: 1 },
				{ upTo: 5, rateBps: 2 },
			]),
		).toMatch(/distinct/);
	});

	it("plans by type, and a currency mismatch is an error (no calculation)", () => {
		expect(commissionFor({ type: "flat", currency: "EUR", amount: 5_000 }, { amount: 123, currency: "EUR" })).toBe(5_000);
		expect(commissionFor({ type: "percentage", currency: "EUR", rateBps: 1_000 }, { amount: 12_345, currency: "EUR" })).toBe(1_235); // 1,234.5 → 1,235
		expect(commissionFor({ type: "tiered", currency: "JPY", tiers }, { amount: 1_000_000, currency: "JPY" })).toBe(120_000);
		expect(() => commissionFor({ type: "flat", currency: "EUR", amount: 1 }, { amount: 1, currency: "USD" })).toThrow(CurrencyMismatchError);
	});
});

describe("crm pure helpers", () => {
	it("matches rules: every stated condition must hold", () => {
		const lead = { source: "ads", country: "FR", value: { amount: 5_000, currency: "EUR" }, customFields: { tier: "gold", seats: 3 } };
		expect(matches(undefined, lead)).toBe(true);
		expect(matches({}, lead)).toBe(true);
		expect(matches({ sources: ["ads", "seo"] }, lead)).toBe(true);
		expect(matches({ sources: ["seo"] }, lead)).toBe(false);
		expect(matches({ countries: ["DE"] }, lead)).toBe(false);
		expect(matches({ value: { currency: "EUR", min: 5_000, max: 5_000 } }, lead)).toBe(true);
		expect(matches({ value: { currency: "EUR", min: 5_001 } }, lead)).toBe(false);
		expect(matches({ value: { currency: "USD", min: 0 } }, lead)).toBe(false);
		expect(matches({ value: { currency: "EUR" } }, { ...lead, value: null })).toBe(false);
		expect(
			matches(
				{
					customFields: [
						{ key: "seats", equals: 3 },
						{ key: "tier", equals: "gold" },
					],
				},
				lead,
			),
		).toBe(true);
		expect(matches({ customFields: [{ key: "seats", equals: "3" }] }, lead)).toBe(false);
		expect(matches({ sources: ["ads"], countries: ["DE"] }, lead)).toBe(false);
	});

	it("least-loaded picks the lowest ratio below capacity", () => {
		expect(leastLoaded(["a", "b"], { a: 1, b: 1 }, { a: 2, b: 4 })).toBe("b");
		expect(leastLoaded(["a", "b"], {}, { a: 2, b: 2 })).toBe("a");
		expect(leastLoaded(["a", "b"], { a: 2, b: 4 }, { a: 2, b: 4 })).toBeUndefined();
		expect(leastLoaded(["a"], {}, { a: 0 })).toBeUndefined();
	});

	it("round-robin turns cycle over the pool", () => {
		expect([1, 2, 3, 4, 5].map(t => pick(["x", "y"], t))).toEqual(["x", "y", "x", "y", "x"]);
	});

	it("status transitions", () => {
		expect(canTransition("new", "contacted")).toBe(true);
		expect(canTransition("new", "won")).toBe(false);
		expect(canTransition("qualified", "won")).toBe(true);
		expect(canTransition("won", "qualified")).toBe(true);
		expect(canTransition("won", "lost")).toBe(false);
		expect(canTransition("lost", "contacted")).toBe(false);
	});

	it("periods and phone keys", () => {
		expect(periodBounds("2026-12")).toEqual(["2026-12-01T00:00:00.000Z", "2027-01-01T00:00:00.000Z"]);
		expect(phoneKey("+33 (1) 23-45-67")).toBe("331234567");
		expect(phoneKey("12")).toBeUndefined();
	});
});
