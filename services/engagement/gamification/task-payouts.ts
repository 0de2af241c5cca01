/**
 * What `tasks.completed` pays (the counter, the rules' payouts, then badges) and what `tasks.reopened`
 * takes back. Every step is idempotent by its own eventId, so a redelivery finishes what is missing.
 */
import { asSystem } from "../../../lib/context";
import { dayOf, payouts, type CompletedEvent } from "../game-rules";
import { STAT_PREFIX, teamOwner, type LedgerEntry } from "../ledger";
import type { GamificationMethodsOf, ReopenedEvent } from "./types";

export const taskPayoutMethods: GamificationMethodsOf<"onCompleted" | "onReopened"> = {
	async onCompleted(e: CompletedEvent) {
		const scope = asSystem(e.tenantId);
		const day = dayOf(e.completedAt);
		// every step is idempotent by its own eventId: a redelivery after a crash finishes what is missing
		await this.ledger.append(
			scope,
			this.entry({
				userId: e.userId,
				currency: `${STAT_PREFIX}tasksCompleted`,
				amount: 1,
				reason: "task completed",
				eventId: `${e.eventId}/count`,
				refType: "task",
				refId: e.eventId,
				day,
			}),
			false,
		);
		const [game, counters] = await Promise.all([this.game(scope), this.counters(scope, e.userId, day)]);
		for (const p of payouts(game.rules, e, counters.streakDays)) {
			if (!game.currencies.includes(p.currency)) continue;
			await this.ledger.append(
				scope,
				this.entry({
					userId: p.teamId ? teamOwner(p.teamId) : e.userId,
					currency: p.currency,
					amount: p.amount,
					reason: `rule ${p.ruleId}`,
					eventId: `${e.eventId}/${p.ruleId}`,
					refType: "task",
					refId: e.eventId,
					day,
				}),
				false,
			);
		}
		await this.checkBadges(scope, e.userId);
	},
	async onReopened(e: ReopenedEvent) {
		const scope = asSystem(e.tenantId);
		const paid: LedgerEntry[] = await this.ledger.entriesOfRef(scope, e.completedEventId);
		// the reversal may take a balance below 0 (coins already spent): the debt shows, nothing is hidden
		for (const p of paid)
			await this.ledger.append(
				scope,
				this.entry({
					userId: p.userId,
					currency: p.currency,
					amount: -p.amount,
					reason: `reversal: ${p.reason}`,
					eventId: `${e.eventId}/${p.eventId}`,
					refType: "reversal",
					refId: e.eventId,
					day: p.day,
				}),
				false,
			);
	},
};
