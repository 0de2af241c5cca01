/**
 * Background jobs over HTTP (`/api/jobs`), the same suite on both engines: embedded (in-process) and
 * BullMQ on the machine's Redis. A test service owns a few job types through JobHandlersMixin.
 */
import Redis from "ioredis";
import type { ServiceSchema } from "moleculer";
import { replCommands } from "../../lib/repl-commands";
import { JobHandlersMixin } from "../../services/platform/jobs/handlers";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

function testService(calls: Map<string, number>, aborted: string[]): ServiceSchema {
	return {
		name: "testjobs",
		mixins: [
			JobHandlersMixin({
				"test.echo": {
					concurrency: 2,
					async handler(job) {
						await job.progress(50, "half way");
						await job.log("working on it");
						return { echo: job.payload.msg, tenantId: job.tenantId };
					},
				},
				"test.flaky": {
					async handler(job) {
						const n = (calls.get(job.id) ?? 0) + 1;
						calls.set(job.id, n);
						if (n <= Number(job.payload.failTimes)) throw new Error(`failure ${n}`);
						return { calls: n };
					},
				},
				"test.waits": {
					async handler(job) {
						await new Promise((_, reject) =>
							job.signal.addEventListener("abort", () => {
								aborted.push(job.id);
								reject(job.signal.reason);
							}),
						);
					},
				},
			}),
		],
	} as ServiceSchema;
}

describe.each([
	["embedded", {}],
	["bullmq", { REDIS_URL }],
])("jobs API (%s engine)", (engine, env: Record<string, string>) => {
	let p: Platform;
	const calls = new Map<string, number>();
	const aborted: string[] = [];
	const admin = () => p.token({ sub: "u-admin", tid: "tenant-a", roles: ["admin"] });
	const other = () => p.token({ sub: "u-other", tid: "tenant-b", roles: ["admin"] });
	const member = () => p.token({ sub: "u-member", tid: "tenant-a", roles: ["member"] });
	const job = async (id: string, token = admin()) => (await p.http("GET", `/api/jobs/${id}`, { token })).body;
	const until = (id: string, status: string) =>
		waitFor(async () => ((await job(id)).status === status ? job(id) : null), { what: `job ${id} ${status}`, timeoutMs: 15_000 });

	beforeAll(async () => {
		p = await startPlatform({
			services: ["jobs"],
			extra: [testService(calls, aborted)],
			env: { JOBS_BACKOFF_MS: "20", JOBS_HEARTBEAT_MS: "200", ...env },
		});
	});
	afterAll(async () => {
		const ns = process.env.NAMESPACE;
		await p?.stop();
		if (engine === "bullmq") {
			const r = new Redis(REDIS_URL);
			const keys = await r.keys(`${ns}:jobs:*`);
			if (keys.length) await r.del(...keys);
			r.disconnect();
		}
		delete process.env.REDIS_URL;
	});

	it(`runs a job to completion with its progress, logs, result and timings (${engine})`, async () => {
		const res = await p.http("POST", "/api/jobs", { token: admin(), body: { type: "test.echo", payload: { msg: "hello" } } });
		expect(res.status).toBe(202);
		expect(res.headers.get("location")).toBe(`/api/jobs/${res.body.id}`);
		expect(res.body).toMatchObject({ type: "test.echo", tenantId: "tenant-a", attempts: 3 });
		const done = await until(res.body.id, "completed");
		expect(done).toMatchObject({
			result: { echo: "hello", tenantId: "tenant-a" },
			attemptsMade: 1,
			progress: { percent: 50, message: "half way" },
			logs: ["working on it"],
			error: null,
		});
		expect(Date.parse(done.finishedAt)).toBeGreaterThanOrEqual(Date.parse(done.startedAt));
	});

	it("refuses a type no service handles (422) and a member (403)", async () => {
		const res = await p.http("POST", "/api/jobs", { token: admin(), body: { type: "nobody.handles", payload: {} } });
		expect(res.status).toBe(422);
		expect(res.body).toMatchObject({ code: "VALIDATION_ERROR", errors: [{ field: "type" }] });
		expect((await p.http("POST", "/api/jobs", { token: member(), body: { type: "test.echo" } })).status).toBe(403);
	});

	it("answers the same job for the same idempotency key", async () => {
		const body = { type: "test.echo", payload: { msg: "once" }, idempotencyKey: `k-${engine}` };
		const a = await p.http("POST", "/api/jobs", { token: admin(), body });
		const b = await p.http("POST", "/api/jobs", { token: admin(), body });
		expect(b.body.id).toBe(a.body.id);
	});

	it("retries with backoff, dies after the last attempt, sits in the dead letters, and a replay completes it", async () => {
		const res = await p.http("POST", "/api/jobs", {
			token: admin(),
			body: { type: "test.flaky", payload: { failTimes: 2 }, attempts: 2, backoff: { delayMs: 30 } },
		});
		const dead = await until(res.body.id, "dead");
		expect(dead).toMatchObject({ attemptsMade: 2, error: "failure 2" });
		const letters = await p.http("GET", "/api/jobs/dead-letters", { token: admin() });
		expect(letters.body.rows.map((j: { id: string }) => j.id)).toContain(res.body.id);
		expect((await p.http("GET", "/api/jobs/dead-letters", { token: other() })).body.rows).toEqual([]);

		const replay = await p.http("POST", `/api/jobs/dead-letters/${res.body.id}/replay`, { token: admin() });
		expect(replay.status).toBe(200);
		const done = await until(res.body.id, "completed");
		expect(done).toMatchObject({ result: { calls: 3 }, attemptsMade: 1 });
		expect(calls.get(res.body.id)).toBe(3);
		// no longer dead: neither replayed nor discarded again
		expect((await p.http("POST", `/api/jobs/dead-letters/${res.body.id}/replay`, { token: admin() })).status).toBe(409);
	});

	it("discards a dead letter", async () => {
		const res = await p.http("POST", "/api/jobs", { token: admin(), body: { type: "test.flaky", payload: { failTimes: 5 }, attempts: 1 } });
		await until(res.body.id, "dead");
		expect((await p.http("DELETE", `/api/jobs/dead-letters/${res.body.id}`, { token: admin() })).status).toBe(204);
		expect((await p.http("GET", `/api/jobs/${res.body.id}`, { token: admin() })).status).toBe(404);
	});

	it("lets an operator list, replay and discard dead jobs of any tenant from the REPL", async () => {
		const repl = replCommands().find(c => c.command.startsWith("jobs-dead"))!;
		const log = jest.spyOn(console, "log").mockImplementation(() => undefined);
		const table = jest.spyOn(console, "table").mockImplementation(() => undefined);
		try {
			const a = await p.http("POST", "/api/jobs", { token: other(), body: { type: "test.flaky", payload: { failTimes: 1 }, attempts: 1 } });
			const b = await p.http("POST", "/api/jobs", { token: other(), body: { type: "test.flaky", payload: { failTimes: 9 }, attempts: 1 } });
			await waitFor(async () => (await job(a.body.id, other())).status === "dead" && (await job(b.body.id, other())).status === "dead", {
				what: "two dead jobs",
			});
			await repl.action(p.broker, {});
			expect((table.mock.calls[0][0] as { id: string }[]).map(r => r.id)).toEqual(expect.arrayContaining([a.body.id, b.body.id]));
			await repl.action(p.broker, { action: "replay", id: a.body.id });
			await waitFor(async () => (await job(a.body.id, other())).status === "completed", { what: "the replayed job" });
			await repl.action(p.broker, { action: "discard", id: b.body.id });
			expect((await p.http("GET", `/api/jobs/${b.body.id}`, { token: other() })).status).toBe(404);
			expect(log.mock.calls.map(c => String(c[0]))).toEqual(
				expect.arrayContaining([`Replayed 1 dead job(s): ${a.body.id}.`, `Discarded 1 dead job(s): ${b.body.id}.`]),
			);
		} finally {
			log.mockRestore();
			table.mockRestore();
		}
	});

	it("fails an attempt that runs past its timeout", async () => {
		const res = await p.http("POST", "/api/jobs", { token: admin(), body: { type: "test.waits", attempts: 1, timeoutMs: 200 } });
		const dead = await until(res.body.id, "dead");
		expect(dead.error).toMatch(/timeout of 200 ms/);
		expect(aborted).toContain(res.body.id);
	});

	it("cancels an active job (its handler sees the signal) and a delayed one (it never runs)", async () => {
		const active = await p.http("POST", "/api/jobs", { token: admin(), body: { type: "test.waits", attempts: 3 } });
		await until(active.body.id, "active");
		expect((await p.http("POST", `/api/jobs/${active.body.id}/cancel`, { token: other() })).status).toBe(404);
		expect((await p.http("POST", `/api/jobs/${active.body.id}/cancel`, { token: admin() })).status).toBe(200);
		const cancelled = await until(active.body.id, "cancelled");
		expect(cancelled.attemptsMade).toBe(1);
		await waitFor(() => aborted.includes(active.body.id), { what: "the handler to see its signal" });
		// no retry follows a cancel
		await waitFor(async () => (await job(active.body.id)).finishedAt !== null, { what: "the attempt to end" });
		expect((await job(active.body.id)).status).toBe("cancelled");

		const later = await p.http("POST", "/api/jobs", { token: admin(), body: { type: "test.flaky", payload: { failTimes: 0 }, delayMs: 60_000 } });
		expect((await job(later.body.id)).status).toBe("waiting");
		expect((await p.http("POST", `/api/jobs/${later.body.id}/cancel`, { token: admin() })).body.status).toBe("cancelled");
		await until(later.body.id, "cancelled");
		expect(calls.has(later.body.id)).toBe(false);
		// a finished job cannot be cancelled
		expect((await p.http("POST", `/api/jobs/${later.body.id}/cancel`, { token: admin() })).status).toBe(409);
	});

	it("lists a tenant's jobs only, filters by status, and shows the workers", async () => {
		const mine = await p.http("GET", "/api/jobs?pageSize=100", { token: admin() });
		expect(mine.body.total).toBeGreaterThan(3);
		expect(mine.body.rows.every((j: { tenantId: string }) => j.tenantId === "tenant-a")).toBe(true);
		const completed = await p.http("GET", "/api/jobs?status=completed", { token: admin() });
		expect(completed.body.rows.length).toBeGreaterThan(0);
		expect(completed.body.rows.every((j: { status: string }) => j.status === "completed")).toBe(true);
		const theirs = await p.http("GET", "/api/jobs?pageSize=100", { token: other() });
		expect(theirs.body.rows.every((j: { tenantId: string }) => j.tenantId === "tenant-b")).toBe(true);
		expect((await p.http("GET", `/api/jobs/${mine.body.rows[0].id}`, { token: other() })).status).toBe(404);

		const workers = await waitFor(async () => {
			const w = (await p.http("GET", "/api/jobs/workers", { token: admin() })).body.rows as { type: string; concurrency: number }[];
			return w.length >= 3 ? w : null;
		});
		expect(workers!.find(w => w.type === "test.echo")).toMatchObject({ concurrency: 2, active: 0 });
	});
});
