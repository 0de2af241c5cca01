/**
 * One look at one schedule: which due times have come since the last one handled, which of them to fire
 * and which the misfire policy leaves out. Every scheduler node runs this for every schedule each tick;
 * the claim per (schedule, due time) in the shared store makes exactly one of them fire it, and the
 * job's idempotency key (`schedule-<id>-<dueMs>`) refuses a second job even if a claim expired.
 */
import { cachedCron, dueTimesBetween } from "./cron";
import type { HistoryEntry, ScheduleRow, ScheduleStore } from "./store";

export interface FireDeps {
	store: ScheduleStore;
	now: number;
	/** a due time older than this when seen was missed */
	graceMs: number;
	historyMax: number;
	node: string;
	/** enqueues the job of one due time; its id */
	enqueue(row: ScheduleRow, dueMs: number): Promise<string>;
}

/** A claim outlives any node's view of the due time (it is also never re-read once the last due moved past it). */
export const CLAIM_TTL_MS = 10 * 60_000;
/** How far back missed due times are looked for. */
export const MISSED_WINDOW_MS = 24 * 3600_000;

/** Due times after `after` up to `now` (a one-time task: its runAt, once). */
export function dueTimes(row: ScheduleRow, after: number | null, now: number): number[] {
	if (!row.cron) {
		const at = Date.parse(row.runAt ?? "");
		return after === null && at <= now ? [at] : [];
	}
	// a new schedule fires from its creation on, not for the due times before it existed; after a long
	// pause or downtime only the last day's due times are counted as missed
	const from = Math.max(after ?? Date.parse(row.createdAt), now - MISSED_WINDOW_MS);
	return dueTimesBetween(cachedCron(row.cron, row.timezone), from, now);
}

/**
 * Per schedule, the moment before which it has nothing due: a tick before then skips it without reading
 * its last due time from the store. Safe with several nodes: when another node fired meanwhile, the real
 * next due time is later still, so this one only looks again sooner than it needs to. Keyed by what the
 * due times depend on, so an edited schedule is looked at afresh.
 */
const quietUntil = new Map<string, { key: string; at: number }>();
const QUIET_MAX = 100_000;
const dueKey = (row: ScheduleRow) => `${row.cron ?? ""}|${row.timezone}|${row.runAt ?? ""}|${row.createdAt}`;

/** The first due time after `now` (Infinity: none, a one-time task that ran). */
function nextDueAfter(row: ScheduleRow, after: number | null, now: number): number {
	if (!row.cron) {
		const at = Date.parse(row.runAt ?? "");
		return after === null && at > now ? at : Infinity;
	}
	return cachedCron(row.cron, row.timezone).nextRun(new Date(now))?.getTime() ?? Infinity;
}

export async function fireDue(row: ScheduleRow, deps: FireDeps): Promise<HistoryEntry[]> {
	if (row.paused) return [];
	const { store, now } = deps;
	const key = dueKey(row);
	const quiet = quietUntil.get(row.id);
	if (quiet && quiet.key === key && now < quiet.at) return [];
	const after = await store.lastDue(row.id);
	const dues = dueTimes(row, after, now);
	if (!dues.length) {
		if (quietUntil.size >= QUIET_MAX) quietUntil.clear();
		quietUntil.set(row.id, { key, at: nextDueAfter(row, after, now) });
		return [];
	}
	const missed = dues.filter(d => now - d > deps.graceMs);
	const plan: { dueMs: number; missed: number; skip: boolean }[] = dues
		.filter(d => now - d <= deps.graceMs)
		.map(d => ({ dueMs: d, missed: 0, skip: false }));
	if (missed.length) plan.unshift({ dueMs: missed[missed.length - 1], missed: missed.length, skip: row.misfire === "skip" });

	const written: HistoryEntry[] = [];
	for (const step of plan) {
		if (!(await store.claim(row.id, step.dueMs, CLAIM_TTL_MS))) continue;
		const base = { dueAt: new Date(step.dueMs).toISOString(), firedAt: new Date().toISOString(), missed: step.missed, node: deps.node };
		let entry: HistoryEntry;
		if (step.skip) entry = { ...base, jobId: null, outcome: "skipped", error: null };
		else {
			try {
				entry = { ...base, jobId: await deps.enqueue(row, step.dueMs), outcome: "enqueued", error: null };
			} catch (err) {
				entry = { ...base, jobId: null, outcome: "failed", error: (err as Error).message };
			}
		}
		await store.addHistory(row.id, entry, deps.historyMax);
		written.push(entry);
	}
	await store.advance(row.id, dues[dues.length - 1]);
	quietUntil.set(row.id, { key, at: nextDueAfter(row, dues[dues.length - 1], now) });
	return written;
}
