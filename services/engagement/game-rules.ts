/**
 * A tenant's game: currencies, rules (reactions to task events), the level curve and badges, with
 * the defaults a tenant starts with. Pure functions over them: what a completion pays, the streak,
 * the level of an xp balance, badge progress. README, "Engagement domain" → "Rules", "Formulas".
 */

export interface Rule {
	id: string;
	on: "tasks.completed";
	currency: string;
	/** integer > 0 */
	amount: number;
	/** "onTime": only when the task had a due date and was completed by it */
	when?: "always" | "onTime";
	/** "streak": the amount times the user's streak in days (capped at maxMultiplier) */
	multiplier?: "none" | "streak";
	maxMultiplier?: number;
	/** "team": pays the wallet of the task's team (only for a task with a `teamId`); default the task's user */
	payTo?: "user" | "team";
}

/** xp needed to reach level L: base · (L − 1)^exponent; level 1 needs 0. */
export interface LevelCurve {
	base: number;
	exponent: number;
}

export type Counter = "tasksCompleted" | "streakDays" | "challengesWon";
export const COUNTERS: Counter[] = ["tasksCompleted", "streakDays", "challengesWon"];

export interface BadgeDef {
	id: string;
	name: string;
	counter: Counter;
	atLeast: number;
}

export interface GameSettings {
	currencies: string[];
	rules: Rule[];
	levelCurve: LevelCurve;
	badges: BadgeDef[];
}

export const DEFAULT_SETTINGS: GameSettings = {
	currencies: ["xp", "coins", "gems"],
	rules: [
		{ id: "completed-xp", on: "tasks.completed", currency: "xp", amount: 10 },
		{ id: "on-time-coins", on: "tasks.completed", currency: "coins", amount: 5, when: "onTime" },
		{ id: "streak-xp", on: "tasks.completed", currency: "xp", amount: 2, multiplier: "streak", maxMultiplier: 7 },
		{ id: "team-coins", on: "tasks.completed", currency: "coins", amount: 5, payTo: "team" },
	],
	levelCurve: { base: 50, exponent: 2 },
	badges: [
		{ id: "first-task", name: "First task done", counter: "tasksCompleted", atLeast: 1 },
		{ id: "ten-tasks", name: "Ten tasks done", counter: "tasksCompleted", atLeast: 10 },
		{ id: "week-streak", name: "7-day streak", counter: "streakDays", atLeast: 7 },
		{ id: "challenger", name: "Won 3 challenges", counter: "challengesWon", atLeast: 3 },
	],
};

export interface CompletedEvent {
	eventId: string;
	tenantId: string;
	taskId: string;
	userId: string;
	completedAt: string;
	dueAt: string | null;
	/** the task's team, when it has one (rules with `payTo: "team"` pay its wallet) */
	teamId?: string | null;
}

export const dayOf = (iso: string) => iso.slice(0, 10);

/** Consecutive UTC days, ending at `day`, each with a net completion count > 0. */
export function streakEndingAt(day: string, countsByDay: Map<string, number>): number {
	let n = 0;
	for (let d = new Date(`${day}T00:00:00Z`); (countsByDay.get(dayOf(d.toISOString())) ?? 0) > 0; d = new Date(d.getTime() - 86_400_000)) n++;
	return n;
}

export interface Payout {
	ruleId: string;
	currency: string;
	amount: number;
	/** set for a `payTo: "team"` rule: the team whose wallet it pays */
	teamId?: string;
}

/** What each rule pays for one completion, zero amounts (and team rules of a task without a team) left out. */
export function payouts(rules: readonly Rule[], e: CompletedEvent, streakDays: number): Payout[] {
	const onTime = !!e.dueAt && e.completedAt <= e.dueAt;
	return rules
		.filter(r => r.on === "tasks.completed" && (r.when !== "onTime" || onTime) && (r.payTo !== "team" || !!e.teamId))
		.map(r => ({
			ruleId: r.id,
			currency: r.currency,
			amount: r.multiplier === "streak" ? r.amount * Math.min(streakDays, r.maxMultiplier ?? streakDays) : r.amount,
			...(r.payTo === "team" && e.teamId && { teamId: e.teamId }),
		}))
		.filter(p => p.amount > 0);
}

/** xp needed for a level (integers only: exponent is an integer ≥ 1). */
export const xpForLevel = (c: LevelCurve, level: number) => c.base * (level - 1) ** c.exponent;

export function levelOf(c: LevelCurve, xp: number): { level: number; xp: number; levelXp: number; nextLevelXp: number } {
	let level = 1;
	while (xpForLevel(c, level + 1) <= xp) level++;
	return { level, xp, levelXp: xpForLevel(c, level), nextLevelXp: xpForLevel(c, level + 1) };
}

export function badgeProgress(defs: readonly BadgeDef[], counters: Record<Counter, number>, earned: ReadonlySet<string>) {
	return defs.map(b => ({
		id: b.id,
		name: b.name,
		counter: b.counter,
		current: Math.min(counters[b.counter], b.atLeast),
		target: b.atLeast,
		earned: earned.has(b.id),
	}));
}

const name = { type: "string", min: 1, max: 32, pattern: /^[a-z][a-z0-9_-]*$/ } as const;
/** Validation of a tenant's settings (PUT /api/gamification/settings). */
export const settingsParams = {
	currencies: { type: "array", min: 1, max: 20, unique: true, items: name },
	rules: {
		type: "array",
		max: 50,
		items: {
			type: "object",
			strict: "remove",
			props: {
				id: name,
				on: { type: "equal", value: "tasks.completed" },
				currency: name,
				amount: { type: "number", integer: true, min: 1, max: 1_000_000 },
				when: { type: "enum", values: ["always", "onTime"], optional: true },
				multiplier: { type: "enum", values: ["none", "streak"], optional: true },
				maxMultiplier: { type: "number", integer: true, min: 1, max: 365, optional: true },
				payTo: { type: "enum", values: ["user", "team"], optional: true },
			},
		},
	},
	levelCurve: {
		type: "object",
		strict: "remove",
		props: { base: { type: "number", integer: true, min: 1, max: 1_000_000 }, exponent: { type: "number", integer: true, min: 1, max: 4 } },
	},
	badges: {
		type: "array",
		max: 100,
		items: {
			type: "object",
			strict: "remove",
			props: {
				id: name,
				name: { type: "string", min: 1, max: 80 },
				counter: { type: "enum", values: COUNTERS },
				atLeast: { type: "number", integer: true, min: 1, max: 1_000_000 },
			},
		},
	},
} as const;
