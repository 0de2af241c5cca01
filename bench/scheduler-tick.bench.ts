/**
 * The scheduler's tick: every scheduler node looks at every schedule four times a second
 * (SCHEDULER_TICK_MS=250). This measures one tick over N schedules with nothing due (the common case:
 * nightly jobs per tenant), against an in-memory store, so only the tick's own work is counted.
 *
 *   npx tsx bench/scheduler-tick.bench.ts [--schedules=1000] [--ticks=40]
 */
import { performance } from "node:perf_hooks";
import { fireDue } from "../services/platform/scheduler/fire";
import type { ScheduleRow, ScheduleStore } from "../services/platform/scheduler/store";

const arg = (name: string, fallback: number) => Number(process.argv.find(a => a.startsWith(`--${name}=`))?.split("=")[1] ?? fallback);
const N = arg("schedules", 1000);
const TICKS = arg("ticks", 40);
const zones = ["UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Adelaide"];
const created = new Date(Date.now() - 3_600_000).toISOString();
const rows: ScheduleRow[] = Array.from({ length: N }, (_, i) => ({
	id: `s${i}`,
	tenantId: `t${i}`,
	name: "nightly",
	cron: `${i % 60} 3 * * *`,
	timezone: zones[i % zones.length],
	runAt: null,
	jobType: "analytics.rollup",
	payload: {},
	misfire: "runOnce",
	paused: false,
	createdBy: "bench",
	createdAt: created,
	updatedAt: created,
}));
const store = {
	lastDue: async () => null,
	claim: async () => true,
	advance: async () => undefined,
	addHistory: async () => undefined,
} as unknown as ScheduleStore;

(async () => {
	const times: number[] = [];
	let fired = 0;
	for (let t = 0; t < TICKS; t++) {
		const started = performance.now();
		for (const row of rows)
			fired += (await fireDue(row, { store, now: Date.now(), graceMs: 60_000, historyMax: 100, node: "bench", enqueue: async () => "job" }))
				.length;
		times.push(performance.now() - started);
	}
	const sorted = [...times].sort((a, b) => a - b);
	console.log(
		`${N} schedules, ${TICKS} ticks, nothing due (${fired} fired): first tick ${times[0].toFixed(1)} ms, median ${sorted[Math.floor(TICKS / 2)].toFixed(2)} ms, max of the rest ${Math.max(...times.slice(1)).toFixed(1)} ms`,
	);
})();
