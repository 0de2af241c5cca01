/** Progress from the ledger: counters (tasks done, wins, the streak), badges once each, and a user's summary. */
import type { CallerScope } from "../../../lib/context";
import { badgeProgress, dayOf, levelOf, streakEndingAt } from "../game-rules";
import { BADGE_PREFIX, isInternalCurrency, STAT_PREFIX } from "../ledger";
import type { GamificationMethodsOf } from "./types";

export const progressMethods: GamificationMethodsOf<"counters" | "checkBadges" | "summary"> = {
	async counters(scope: CallerScope, userId: string, day?: string) {
		const balances = await this.ledger.balances(scope, userId);
		const done = await this.ledger.entries(scope, userId, `${STAT_PREFIX}tasksCompleted`, 10_000);
		const byDay = new Map<string, number>();
		for (const e of done) if (e.day) byDay.set(e.day, (byDay.get(e.day) ?? 0) + e.amount);
		const today = day ?? dayOf(new Date().toISOString());
		// a streak is alive until the day after its last day ends
		const yesterday = dayOf(new Date(Date.parse(`${today}T00:00:00Z`) - 86_400_000).toISOString());
		return {
			tasksCompleted: balances[`${STAT_PREFIX}tasksCompleted`] ?? 0,
			challengesWon: balances[`${STAT_PREFIX}challengesWon`] ?? 0,
			streakDays: Math.max(streakEndingAt(today, byDay), day ? 0 : streakEndingAt(yesterday, byDay)),
		};
	},
	async checkBadges(scope: CallerScope, userId: string) {
		const [game, counters] = await Promise.all([this.game(scope), this.counters(scope, userId)]);
		const won: string[] = [];
		for (const b of game.badges) {
			if (counters[b.counter] < b.atLeast) continue;
			const r = await this.ledger.append(
				scope,
				this.entry({
					userId,
					currency: `${BADGE_PREFIX}${b.id}`,
					amount: 1,
					reason: b.name,
					eventId: `badge:${b.id}:${userId}`,
					refType: "badge",
				}),
				false,
			);
			if (!r.duplicate) won.push(b.id);
		}
		return won;
	},
	async summary(scope: CallerScope, userId: string) {
		const [game, balances, counters] = await Promise.all([this.game(scope), this.ledger.balances(scope, userId), this.counters(scope, userId)]);
		const earned = new Set(
			Object.keys(balances)
				.filter(c => c.startsWith(BADGE_PREFIX) && balances[c] > 0)
				.map(c => c.slice(BADGE_PREFIX.length)),
		);
		const visible = Object.fromEntries(game.currencies.map(c => [c, balances[c] ?? 0]));
		for (const [c, v] of Object.entries(balances)) if (!isInternalCurrency(c) && !(c in visible)) visible[c] = v;
		return {
			userId,
			balances: visible,
			level: levelOf(game.levelCurve, balances.xp ?? 0),
			counters,
			badges: badgeProgress(game.badges, counters, earned),
		};
	},
};
