import { eloUpdate, expectedScore } from "../../services/engagement/elo";
import { levelOf, payouts, streakEndingAt, DEFAULT_SETTINGS } from "../../services/engagement/game-rules";
import { cycleIfAdded, findPath, plan } from "../../services/engagement/graph";
import { challengeSchema } from "../../services/engagement/generator";
import { schemaError } from "../../services/engagement/json-schema";
import { zoneOffsetMinutes } from "../../services/engagement/understand";

describe("engagement: graphs", () => {
	const edges = [
		{ from: "a", to: "b" },
		{ from: "b", to: "c" },
		{ from: "a", to: "d" },
	];
	it("names the cycle an edge would close, or none", () => {
		expect(cycleIfAdded(edges, "c", "a")).toEqual(["c", "a", "b", "c"]);
		expect(cycleIfAdded(edges, "d", "c")).toBeNull();
		expect(findPath(edges, "a", "c")).toEqual(["a", "b", "c"]);
	});
	it("orders every node after its blockers and finds the longest chain by weight", () => {
		const nodes = [
			{ id: "c", weight: 10 },
			{ id: "d", weight: 100 },
			{ id: "b", weight: 60 },
			{ id: "a", weight: 30 },
		];
		const p = plan(nodes, edges);
		expect(p.order).toEqual(["a", "b", "d", "c"]);
		expect(p.criticalPath).toEqual(["a", "d"]);
		expect(p.criticalLength).toBe(130);
		expect(() =>
			plan(
				[
					{ id: "x", weight: 1 },
					{ id: "y", weight: 1 },
				],
				[
					{ from: "x", to: "y" },
					{ from: "y", to: "x" },
				],
			),
		).toThrow(/cycle/);
	});
});

describe("engagement: formulas", () => {
	it("Elo: E = 1/(1+10^((Rb−Ra)/400)), R' = round(R + K(S − E))", () => {
		expect(expectedScore(1200, 1200)).toBe(0.5);
		expect(eloUpdate(1200, 1200, 1, 32)).toEqual({ a: 1216, b: 1184 });
		// 1400 vs 1200: E_A = 1/(1+10^-0.5) = 0.7597…; a draw: 1400 + 32·(0.5 − 0.7597) = 1391.69 → 1392
		expect(eloUpdate(1400, 1200, 0.5, 32)).toEqual({ a: 1392, b: 1208 });
		expect(eloUpdate(1400, 1200, 0, 24)).toEqual({ a: 1382, b: 1218 });
	});
	it("levels: level L needs base·(L−1)^exponent xp", () => {
		const c = { base: 50, exponent: 2 };
		expect(levelOf(c, 0)).toEqual({ level: 1, xp: 0, levelXp: 0, nextLevelXp: 50 });
		expect(levelOf(c, 49).level).toBe(1);
		expect(levelOf(c, 50).level).toBe(2);
		expect(levelOf(c, 450)).toEqual({ level: 4, xp: 450, levelXp: 450, nextLevelXp: 800 });
	});
	it("streaks count consecutive days with a net completion; rules pay by on-time and streak", () => {
		const days = new Map([
			["2026-12-01", 1],
			["2026-11-30", 2],
			["2026-11-29", 0],
			["2026-11-28", 1],
		]);
		expect(streakEndingAt("2026-12-01", days)).toBe(2);
		expect(streakEndingAt("2026-12-02", days)).toBe(0);
		const e = {
			eventId: "e",
			tenantId: "t",
			taskId: "x",
			userId: "u",
			completedAt: "2026-12-01T10:00:00.000Z",
			dueAt: "2026-12-01T12:00:00.000Z",
		};
		expect(payouts(DEFAULT_SETTINGS.rules, e, 9)).toEqual([
			{ ruleId: "completed-xp", currency: "xp", amount: 10 },
			{ ruleId: "on-time-coins", currency: "coins", amount: 5 },
			{ ruleId: "streak-xp", currency: "xp", amount: 14 }, // capped at 7 days
		]);
		expect(payouts(DEFAULT_SETTINGS.rules, { ...e, dueAt: "2026-12-01T09:00:00.000Z" }, 1).map(p => p.ruleId)).toEqual([
			"completed-xp",
			"streak-xp",
		]);
	});
});

describe("engagement: the generator's schema and time zones", () => {
	const schema = challengeSchema(["xp", "coins"]);
	const ok = { title: "t", description: "", target: 2, tag: null, reward: { currency: "coins", amount: 5 }, durationHours: 24 };
	it("accepts the schema's answers and names what is wrong with others", () => {
		expect(schemaError(schema, ok)).toBeNull();
		expect(schemaError(schema, { ...ok, target: 2.5 })).toBe("$.target: expected integer, got number");
		expect(schemaError(schema, { ...ok, reward: { currency: "gold", amount: 5 } })).toBe("$.reward.currency: not one of xp, coins");
		expect(schemaError(schema, { ...ok, extra: true })).toBe("$.extra: not allowed");
		const { durationHours: _d, ...missing } = ok;
		expect(schemaError(schema, missing)).toBe("$.durationHours: missing");
		expect(schemaError(schema, [])).toBe("$: expected object, got array");
	});
	it("reads a zone's UTC offset at an instant (summer and winter time)", () => {
		expect(zoneOffsetMinutes("Europe/Lisbon", new Date("2026-07-01T12:00:00Z"))).toBe(60);
		expect(zoneOffsetMinutes("Europe/Lisbon", new Date("2026-12-01T12:00:00Z"))).toBe(0);
		expect(zoneOffsetMinutes("Asia/Kolkata", new Date("2026-12-01T12:00:00Z"))).toBe(330);
		expect(() => zoneOffsetMinutes("Mars/Olympus", new Date())).toThrow(RangeError);
	});
});
