/**
 * One scheduler look at one schedule (services/platform/scheduler/fire.ts) against an in-memory store:
 * every due time fires once, and between due times a tick does not read the schedule's state from the
 * store at all (every node looks at every schedule four times a second).
 */
import { fireDue, type FireDeps } from "../../services/platform/scheduler/fire";
import type { HistoryEntry, ScheduleRow, ScheduleStore } from "../../services/platform/scheduler/store";

function memoryStore() {
	const last = new Map<string, number>();
	const claims = new Set<string>();
	const reads = { lastDue: 0 };
	const store: Pick<ScheduleStore, "claim" | "lastDue" | "advance" | "addHistory"> = {
		async claim(id, dueMs) {
			const k = `${id}:${dueMs}`;
			if (claims.has(k)) return false;
			claims.add(k);
			return true;
		},
		async lastDue(id) {
			reads.lastDue++;
			return last.get(id) ?? null;
		},
		async advance(id, dueMs) {
			last.set(id, Math.max(last.get(id) ?? 0, dueMs));
		},
		async addHistory() {},
	};
	return { store: store as ScheduleStore, reads, last };
}

const T0 = Date.parse("2026-12-02T10:00:00.000Z");
const row = (over: Partial<ScheduleRow> = {}): ScheduleRow => ({
	id: `s-${Math.random().toString(36).slice(2)}`,
	tenantId: "t1",
	name: "every ten seconds",
	cron: "*/10 * * * * *",
	timezone: "UTC",
	runAt: null,
	jobType: "demo",
	payload: {},
	misfire: "runOnce",
	paused: false,
	createdBy: "u1",
	createdAt: new Date(T0).toISOString(),
	updatedAt: new Date(T0 - 1).toISOString(),
	...over,
});

describe("scheduler: one look at one schedule", () => {
	const fired: number[] = [];
	const deps = (store: ScheduleStore, now: number): FireDeps => ({
		store,
		now,
		graceMs: 5_000,
		historyMax: 100,
		node: "n1",
		enqueue: async (_r, due) => {
			fired.push(due);
			return `job-${due}`;
		},
	});
	beforeEach(() => (fired.length = 0));

	it("fires each due time once and skips the store between due times", async () => {
		const { store, reads } = memoryStore();
		const r = row();
		const entries: HistoryEntry[] = [];
		// four looks a second for 30 s, as the scheduler's tick does
		for (let t = T0 + 1; t <= T0 + 30_001; t += 250) entries.push(...(await fireDue(r, deps(store, t))));
		expect(fired).toEqual([T0 + 10_000, T0 + 20_000, T0 + 30_000]);
		expect(entries.map(e => e.outcome)).toEqual(["enqueued", "enqueued", "enqueued"]);
		// one read at the start and one per due time, not 120
		expect(reads.lastDue).toBeLessThanOrEqual(4);
	});

	it("looks at an edited schedule afresh", async () => {
		const { store } = memoryStore();
		const r = row();
		await fireDue(r, deps(store, T0 + 1_000)); // nothing due before T0+10 s
		const edited = { ...r, cron: "* * * * * *" }; // now every second
		await fireDue(edited, deps(store, T0 + 1_500));
		expect(fired).toEqual([T0 + 1_000]);
	});

	it("fires a one-time task once at its time", async () => {
		const { store } = memoryStore();
		const r = row({ cron: null, runAt: new Date(T0 + 2_000).toISOString() });
		for (let t = T0; t <= T0 + 10_000; t += 250) await fireDue(r, deps(store, t));
		expect(fired).toEqual([T0 + 2_000]);
	});
});
