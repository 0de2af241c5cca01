/**
 * Exactly once per due time across scheduler nodes (README, "Jobs, schedules and analytics" →
 * "Scheduler"): three real nodes, each running `jobs`, `scheduler` and a worker, over NATS and a
 * private Redis; a schedule firing every second for about 30 s. Each due second must be fired once:
 * one history entry and one job record per second, no second missing in between.
 */
import { startCluster, type Cluster } from "../helpers/cluster";
import type { Proc } from "../helpers/processes";
import { waitFor } from "../helpers/wait";
import { startJobNode } from "./fixtures/spawn-job-node";

const RUN_MS = 30_000;

describe("scheduler: three nodes, one firing per due second", () => {
	let c: Cluster;
	const nodes: Proc[] = [];
	const admin = { meta: { user: { id: "u-admin", tenantId: "tenant-s", roles: ["admin"] } } };

	beforeAll(async () => {
		c = await startCluster({ SCHEDULER_TICK_MS: "100" });
		const env = { NAMESPACE: c.namespace, TRANSPORTER: "nats://127.0.0.1:4222", CACHER: c.redis.url, SERVICES: "jobs,scheduler" };
		for (const n of ["a", "b", "c"]) {
			const proc = startJobNode({ ...env, NODE_ID: `sched-${n}-${c.namespace}` });
			nodes.push(proc);
			c.procs.push(proc);
		}
		await waitFor(() => c.nodesOf("scheduler").length === 3 && c.nodesOf("testworker").length === 3, {
			what: "three scheduler nodes",
			timeoutMs: 60_000,
		}).catch(err => {
			throw new Error(`${err.message}\n${nodes.map(n => n.output()).join("\n")}`);
		});
		await waitFor(async () => ((await c.observer.call("jobs.types")) as string[]).includes("test.tick"), { what: "the test.tick type" });
	}, 90_000);
	afterAll(() => c?.stop(), 30_000);

	it("fires each due second exactly once for 30 s", async () => {
		const created = (await c.observer.call(
			"scheduler.createSchedule",
			{ name: "every second", cron: "* * * * * *", jobType: "test.tick" },
			admin,
		)) as { id: string };
		await new Promise(r => setTimeout(r, RUN_MS));
		await c.observer.call("scheduler.pause", { id: created.id }, admin);
		// a tick that had already read the schedule may still finish its firing
		await new Promise(r => setTimeout(r, 1000));

		const history = (await c.observer.call("scheduler.history", { id: created.id, page: 1, pageSize: 100 }, admin)) as {
			total: number;
			rows: { dueAt: string; jobId: string; outcome: string; node: string }[];
		};
		const dues = history.rows.map(r => Date.parse(r.dueAt)).sort((a, b) => a - b);
		const byNode: Record<string, number> = {};
		for (const r of history.rows) byNode[r.node] = (byNode[r.node] ?? 0) + 1;
		process.stderr.write(`scheduler cluster: ${history.total} firings over ${RUN_MS / 1000} s, by node ${JSON.stringify(byNode)}\n`);

		expect(history.total).toBeGreaterThanOrEqual(RUN_MS / 1000 - 3);
		expect(history.rows.length).toBe(history.total);
		expect(new Set(dues).size).toBe(dues.length);
		for (let i = 1; i < dues.length; i++) expect(dues[i] - dues[i - 1]).toBe(1000);
		expect(history.rows.every(r => r.outcome === "enqueued" && r.jobId)).toBe(true);

		// the job records: one per due second, every one completed
		const jobs = await waitFor(
			async () => {
				const page = (await c.observer.call("jobs.listJobs", { type: "test.tick", page: 1, pageSize: 100 }, admin)) as {
					rows: { status: string; payload: { scheduleId: string; scheduledFor: string } }[];
				};
				const mine = page.rows.filter(j => j.payload.scheduleId === created.id);
				return mine.every(j => j.status === "completed") ? mine : null;
			},
			{ what: "every job completed", timeoutMs: 20_000 },
		);
		expect(jobs).toHaveLength(history.total);
		expect(new Set(jobs!.map(j => Date.parse(j.payload.scheduledFor)))).toEqual(new Set(dues));
	}, 90_000);
});
