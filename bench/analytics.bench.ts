/**
 * Analytics benchmark: 100,000 events ingested through `analytics.ingestEvents` in batches of 500 (as the
 * HTTP API takes them, arriving in time order over 30 days), then a 30-day daily series
 * (`analyticsmetrics.query`, answered from the buckets) timed; every point must equal the raw events.
 *
 *   npx tsx bench/analytics.bench.ts
 *   BENCH_EVENTS=20000 BENCH_RUNS=20 npx tsx bench/analytics.bench.ts
 *
 * Embedded store (NeDB in memory, as in tests); the series must answer in < 20 ms. Last, the 30 days'
 * buckets are rebuilt from the raw events (`analyticsmetrics.rebuild`): nothing may need correcting.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";

const N = Number(process.env.BENCH_EVENTS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 50);
const BOUND_MS = 20;

Object.assign(process.env, {
	NODE_ENV: "test",
	LOG_LEVEL: "warn",
	NAMESPACE: `bench${randomUUID().slice(0, 6)}`,
	DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "valence-analytics-bench-")),
	DB_DRIVER: "memory",
});

const out = (line: string) => process.stdout.write(`${line}\n`);

async function main() {
	const { config } = await import("../lib/config");
	const { brokerOptions } = await import("../moleculer.config");
	const { selectServices } = await import("../services/catalog");
	const broker = new ServiceBroker({ ...brokerOptions(config()), logger: false, metrics: false });
	for (const f of selectServices("analytics,analyticsmetrics")) broker.loadService(f.file);
	await broker.start();
	const meta = { user: { id: "bench", tenantId: "tenant-bench", roles: ["member"] } };

	const day = 86_400_000;
	const end = Math.floor(Date.now() / day) * day;
	const start = end - 30 * day;
	const names = ["task.completed", "lead.created", "lead.won", "login", "post.created"];
	const plans = ["free", "pro", "team"];
	const t0 = performance.now();
	for (let i = 0; i < N; i += 500) {
		const events = Array.from({ length: Math.min(500, N - i) }, (_, j) => {
			const k = i + j;
			return {
				name: names[k % names.length],
				at: new Date(start + Math.floor((k / N) * 30 * day)),
				userId: `u${k % 997}`,
				properties: { plan: plans[k % 3], points: k % 10 },
			};
		});
		await broker.call("analytics.ingestEvents", { events }, { meta });
	}
	const ingestMs = performance.now() - t0;
	out(
		`ingested ${N.toLocaleString("en")} events in ${(ingestMs / 1000).toFixed(1)} s (${Math.round(N / (ingestMs / 1000)).toLocaleString("en")} events/s)`,
	);

	const q = { name: "task.completed", from: new Date(start).toISOString(), to: new Date(end).toISOString(), bucket: "day", top: 20 };
	const times: number[] = [];
	let answer: { points: { start: string; count: number }[] } | undefined;
	for (let r = 0; r < RUNS; r++) {
		const s = performance.now();
		answer = await broker.call("analyticsmetrics.query", q, { meta });
		times.push(performance.now() - s);
	}
	times.sort((a, b) => a - b);
	const median = times[Math.floor(times.length / 2)];
	const p95 = times[Math.floor(times.length * 0.95)];
	out(
		`30-day daily series: median ${median.toFixed(2)} ms, p95 ${p95.toFixed(2)} ms, max ${times[times.length - 1].toFixed(2)} ms over ${RUNS} runs (bound ${BOUND_MS} ms)`,
	);

	const raw = (await broker.call("analytics.rawEvents", { from: q.from, to: q.to, name: q.name }, { meta })) as { at: string }[];
	const rawByDay = new Map<string, number>();
	for (const e of raw) rawByDay.set(e.at.slice(0, 10), (rawByDay.get(e.at.slice(0, 10)) ?? 0) + 1);
	const mismatches = answer!.points.filter(p => p.count !== (rawByDay.get(p.start.slice(0, 10)) ?? 0));
	const total = answer!.points.reduce((n, p) => n + p.count, 0);
	out(
		`points: ${answer!.points.length}, total ${total} = raw ${raw.length}: ${mismatches.length ? `MISMATCH on ${mismatches.length} days` : "every day equal"}`,
	);
	// the buckets are derived data: a rebuild of the 30 days from the raw events finds nothing to correct
	const r0 = performance.now();
	const rebuilt = (await broker.call(
		"analyticsmetrics.rebuild",
		{ from: q.from, to: q.to },
		{ meta: { user: { ...meta.user, roles: ["admin"] } } },
	)) as { events: number; buckets: number; corrected: number; removed: number };
	out(
		`rebuild of the 30 days from ${rebuilt.events.toLocaleString("en")} raw events: ${rebuilt.buckets} buckets, ${rebuilt.corrected} corrected, ${rebuilt.removed} removed in ${((performance.now() - r0) / 1000).toFixed(1)} s`,
	);
	await broker.stop();
	if (mismatches.length || total !== raw.length || median >= BOUND_MS || rebuilt.corrected || rebuilt.removed) process.exitCode = 1;
}

main().catch(err => {
	process.stderr.write(`${err?.stack ?? err}\n`);
	process.exit(1);
});
