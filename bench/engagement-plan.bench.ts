/**
 * Engagement plan benchmark: `GET /api/tasks/plan` (the `tasks.plan` action: scan the tenant's open
 * tasks, topological order and critical path) and the cycle check of a new dependency, on a graph of
 * 10,000 open tasks with up to 3 blockers each (random, acyclic), plus the pure `plan()` alone.
 *
 *   npx tsx bench/engagement-plan.bench.ts
 *   BENCH_TASKS=50000 BENCH_RUNS=7 npx tsx bench/engagement-plan.bench.ts
 *
 * Embedded store (NeDB in memory). Target (issue 16): a 10,000-task plan well under a second.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";

const N = Number(process.env.BENCH_TASKS ?? 10_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

Object.assign(process.env, {
	NODE_ENV: "test",
	LOG_LEVEL: "warn",
	NAMESPACE: `bench${randomUUID().slice(0, 6)}`,
	DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "valence-plan-bench-")),
	DB_DRIVER: "memory",
});

const out = (line: string) => process.stdout.write(`${line}\n`);
const ms = (t: bigint) => Number(t) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** A deterministic pseudo-random sequence, so every run measures the same graph. */
function rng(seed: number) {
	return () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

async function main() {
	const { config } = await import("../lib/config");
	const { brokerOptions } = await import("../moleculer.config");
	const { selectServices } = await import("../services/catalog");
	const { plan, cycleIfAdded } = await import("../services/engagement/graph");
	const broker = new ServiceBroker({ ...brokerOptions(config()), logger: false, metrics: false });
	for (const f of selectServices("tasks,taskversions")) broker.loadService(f.file);
	await broker.start();

	const random = rng(42);
	const ids = Array.from({ length: N }, (_, i) => `task-${String(i).padStart(6, "0")}`);
	const rows = ids.map((id, i) => {
		const blockedBy = new Set<string>();
		for (let k = 0; k < 3 && i > 0; k++) if (random() < 0.7) blockedBy.add(ids[Math.floor(random() * i)]);
		return {
			_id: id,
			tenantId: "bench",
			title: `Task ${i}`,
			status: random() < 0.5 ? "todo" : "doing",
			estimateMinutes: 1 + Math.floor(random() * 240),
			blockedBy: [...blockedBy],
			version: 1,
		};
	});
	// straight into the store: the bench measures reading and planning, not 10,000 creations
	const tasks = broker.getLocalService("tasks") as unknown as { adapter: { db: { insertAsync(d: unknown[]): Promise<unknown> } } };
	await tasks.adapter.db.insertAsync(rows);
	const edges = rows.flatMap(r => r.blockedBy.map(b => ({ from: b, to: r._id })));
	out(`engagement plan: ${N} open tasks, ${edges.length} dependencies, ${RUNS} runs (median)`);

	const meta = { meta: { user: { id: "bench", tenantId: "bench", roles: ["member"] } } };
	const timings: Record<string, number[]> = { action: [], pure: [], cycle: [] };
	let answer: { order: unknown[]; criticalPath: string[]; criticalMinutes: number } | undefined;
	for (let r = 0; r < RUNS; r++) {
		let t = process.hrtime.bigint();
		answer = await broker.call("tasks.plan", {}, meta);
		timings.action.push(ms(process.hrtime.bigint() - t));
		const nodes = rows.map(x => ({ id: x._id, weight: x.estimateMinutes }));
		t = process.hrtime.bigint();
		plan(nodes, edges);
		timings.pure.push(ms(process.hrtime.bigint() - t));
		t = process.hrtime.bigint();
		// the worst case: the last task would block the first (a search over the whole graph)
		cycleIfAdded(edges, ids[N - 1], ids[0]);
		timings.cycle.push(ms(process.hrtime.bigint() - t));
	}
	out(`  tasks.plan action (scan + order + critical path): ${median(timings.action).toFixed(1)} ms`);
	out(`  plan() alone:                                    ${median(timings.pure).toFixed(1)} ms`);
	out(`  cycle check of one new dependency:               ${median(timings.cycle).toFixed(1)} ms`);
	out(`  order: ${answer!.order.length} tasks, critical path: ${answer!.criticalPath.length} tasks, ${answer!.criticalMinutes} minutes`);
	if (median(timings.action) >= 1000) process.exitCode = 1;
	await broker.stop();
}

main().catch(err => {
	process.stderr.write(`${err.stack ?? err}\n`);
	process.exit(1);
});
