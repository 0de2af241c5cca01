/**
 * Jobs on BullMQ across real processes (README, "Jobs, schedules and analytics" → "Engines"): two worker
 * nodes over NATS and a private Redis. A node SIGKILLed in the middle of a job: the job completes on the
 * other, both attempts counted. A job failing every attempt: dead, in the dead letters; replayed once the
 * fault is gone, it completes. Redis frozen for 5 s, and Redis stopped for 5 s (down, then started again
 * on its port): waiting jobs wait, then every one completes. The jobs' Redis is a private redis-server of
 * this test with an append-only file (what a deployment runs so that a Redis restart keeps its data).
 */
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import Redis from "ioredis";
import { startCluster, type Cluster } from "../helpers/cluster";
import { freePort, type Proc } from "../helpers/processes";
import { waitFor } from "../helpers/wait";
import { startJobNode } from "./fixtures/spawn-job-node";

/** redis-server on `port` with its append-only file in `dir` (fsync on every write), as a process of this test. */
async function startDurableRedis(port: number, dir: string) {
	const child = spawn(
		"redis-server",
		["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
		{ stdio: "ignore" },
	);
	const exited = new Promise(resolve => child.once("exit", resolve));
	const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 1 });
	client.on("error", () => undefined);
	await waitFor(async () => (await client.ping().catch(() => null)) === "PONG", { what: `redis on ${port}` }).finally(() => client.disconnect());
	return { child, exited, url: `redis://127.0.0.1:${port}` };
}

interface Job {
	id: string;
	status: string;
	attemptsMade: number;
	logs: string[];
	result: { node: string } | null;
	error: string | null;
}

describe("jobs: BullMQ across worker nodes", () => {
	let c: Cluster;
	const nodes: Record<string, Proc> = {};
	const redisDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-jobs-redis-"));
	let redisPort: number;
	let jobsRedis: Awaited<ReturnType<typeof startDurableRedis>>;
	const tenant = "tenant-j";
	const admin = { meta: { user: { id: "u-admin", tenantId: tenant, roles: ["admin"] } } };
	// a call must not wait for ever on the node the test killed: it times out, and the polling asks again
	const find = (id: string) => c.observer.call("jobs.find", { id }, { timeout: 2000 }) as Promise<Job>;
	const add = (type: string, extra: Record<string, unknown> = {}) =>
		c.observer.call("jobs.add", { type, tenantId: tenant, ...extra }, { timeout: 5000 }) as Promise<Job>;
	const until = async (id: string, test: (j: Job) => boolean, what: string, timeoutMs = 30_000): Promise<Job> =>
		(await waitFor(
			async () => {
				const j = await find(id);
				return test(j) ? j : null;
			},
			{ what, timeoutMs, intervalMs: 200 },
		))!;

	beforeAll(async () => {
		redisPort = await freePort();
		jobsRedis = await startDurableRedis(redisPort, redisDir);
		c = await startCluster({ JOBS_LOCK_MS: "3000", JOBS_HEARTBEAT_MS: "500" });
		const env = {
			NAMESPACE: c.namespace,
			TRANSPORTER: "nats://127.0.0.1:4222",
			CACHER: jobsRedis.url,
			SERVICES: "jobs",
			JOBS_LOCK_MS: "3000",
			JOBS_HEARTBEAT_MS: "500",
		};
		for (const n of ["a", "b"]) {
			nodes[n] = startJobNode({ ...env, NODE_ID: `worker-${n}-${c.namespace}` });
			c.procs.push(nodes[n]);
		}
		await waitFor(() => c.nodesOf("testworker").length === 2 && c.nodesOf("jobs").length === 2, {
			what: "two worker nodes",
			timeoutMs: 60_000,
		}).catch(err => {
			throw new Error(
				`${err.message}\n${Object.values(nodes)
					.map(n => n.output())
					.join("\n")}`,
			);
		});
		await waitFor(async () => ((await c.observer.call("jobs.listWorkers", {}, admin)) as { rows: unknown[] }).rows.length === 6, {
			what: "both nodes' workers",
		});
	}, 90_000);
	afterAll(async () => {
		await c?.stop();
		jobsRedis?.child.kill("SIGCONT");
		jobsRedis?.child.kill("SIGKILL");
		await jobsRedis?.exited;
		fs.rmSync(redisDir, { recursive: true, force: true });
	}, 30_000);

	it("finishes a job on the surviving node when the one running it is SIGKILLed, counting both attempts", async () => {
		const job = await add("test.slow", { payload: { ms: 6000 } });
		const started = await until(job.id, j => j.status === "active" && j.logs.length > 0, "the job to start");
		const victim = Object.keys(nodes).find(n => started.logs[0] === `started on worker-${n}-${c.namespace}`)!;
		expect(victim).toBeDefined();
		nodes[victim].kill("SIGKILL");
		const done = await until(job.id, j => j.status === "completed", "the job to complete elsewhere", 45_000);
		const survivor = `worker-${victim === "a" ? "b" : "a"}-${c.namespace}`;
		expect(done.result).toEqual({ node: survivor });
		expect(done.attemptsMade).toBe(2);
		expect(done.logs).toEqual([started.logs[0], `started on ${survivor}`]);
		// the dead node's workers drop out of the list after three missed heartbeats
		await waitFor(
			async () =>
				((await c.observer.call("jobs.listWorkers", {}, { ...admin, timeout: 2000 })) as { rows: { node: string }[] }).rows.every(
					w => w.node === survivor,
				),
			{ what: "only the survivor's workers", timeoutMs: 10_000 },
		);
	}, 90_000);

	it("puts a job that fails every attempt in the dead letters; a replay completes it", async () => {
		const redis = new Redis(jobsRedis.url);
		await redis.set(`${c.namespace}:test:fail`, "1");
		const job = await add("test.flaky", { attempts: 3, backoff: { delayMs: 50 } });
		const dead = await until(job.id, j => j.status === "dead", "the job to die");
		expect(dead.attemptsMade).toBe(3);
		expect(dead.error).toMatch(/^failing on worker-/);
		const letters = (await c.observer.call("jobs.listDeadLetters", { page: 1, pageSize: 20 }, { ...admin, timeout: 5000 })) as { rows: Job[] };
		expect(letters.rows.map(j => j.id)).toContain(job.id);

		await redis.del(`${c.namespace}:test:fail`);
		redis.disconnect();
		await c.observer.call("jobs.replayDeadLetter", { id: job.id }, { ...admin, timeout: 5000 });
		const done = await until(job.id, j => j.status === "completed", "the replayed job to complete");
		expect(done.attemptsMade).toBe(1);
		const after = (await c.observer.call("jobs.listDeadLetters", { page: 1, pageSize: 20 }, { ...admin, timeout: 5000 })) as { rows: Job[] };
		expect(after.rows.map(j => j.id)).not.toContain(job.id);
	}, 60_000);

	it("keeps waiting jobs through 5 s of frozen Redis and runs every one after", async () => {
		const jobs = await Promise.all(Array.from({ length: 20 }, (_, i) => add("test.tick", { delayMs: 1000, payload: { i } })));
		jobsRedis.child.kill("SIGSTOP");
		await new Promise(r => setTimeout(r, 5000));
		jobsRedis.child.kill("SIGCONT");
		for (const j of jobs) await until(j.id, x => x.status === "completed", `job ${j.id} after the outage`, 30_000);
	}, 90_000);

	it("keeps waiting jobs through 5 s of Redis stopped (down, then started again) and runs every one after", async () => {
		const jobs = await Promise.all(Array.from({ length: 20 }, (_, i) => add("test.tick", { delayMs: 1000, payload: { i } })));
		jobsRedis.child.kill("SIGTERM");
		await jobsRedis.exited;
		await new Promise(r => setTimeout(r, 5000));
		jobsRedis = await startDurableRedis(redisPort, redisDir);
		const done = [];
		for (const j of jobs) done.push(await until(j.id, x => x.status === "completed", `job ${j.id} after Redis came back`, 45_000));
		expect(done.map(j => j.id).sort()).toEqual(jobs.map(j => j.id).sort());
		// the workers are back too
		const workers = (await c.observer.call("jobs.listWorkers", {}, { ...admin, timeout: 5000 })) as { rows: unknown[] };
		expect(workers.rows.length).toBeGreaterThan(0);
	}, 120_000);
});
