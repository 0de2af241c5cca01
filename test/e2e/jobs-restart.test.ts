/**
 * Embedded jobs across a restart (README, "Jobs, schedules and analytics" → "Engines"): the embedded
 * engine writes its records through to the embedded store (NeDB files under a DATA_DIR of this test's
 * own), so a broker stopped with an active job, jobs waiting behind it and a delayed one, and a new
 * broker started on the same DATA_DIR, runs them all: the waiting and delayed ones once, the active one
 * again as an interrupted attempt — both attempts counted, as BullMQ counts a stalled job's.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ServiceSchema } from "moleculer";
import { JobHandlersMixin } from "../../services/platform/jobs/handlers";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

interface Job {
	id: string;
	status: string;
	attemptsMade: number;
	error: string | null;
	result: unknown;
	createdAt: string;
}

describe("embedded jobs survive a restart on the same DATA_DIR", () => {
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-jobs-restart-"));
	const env = { DB_DRIVER: "nedb", DATA_DIR: dataDir, JOBS_BACKOFF_MS: "20" };
	let p: Platform | undefined;
	const runs: { id: string; attempt: number; at: number }[] = [];
	const admin = () => p!.token({ sub: "u-admin", tid: "tenant-r", roles: ["admin"] });
	const job = async (id: string) => (await p!.http("GET", `/api/jobs/${id}`, { token: admin() })).body as Job;

	// one at a time: the first attempt of a `hold: true` job holds until the broker stops, the rest finish
	const service: ServiceSchema = {
		name: "restartjobs",
		mixins: [
			JobHandlersMixin({
				"test.step": {
					concurrency: 1,
					async handler(j) {
						runs.push({ id: j.id, attempt: j.attempt, at: Date.now() });
						if ((j.payload.hold && j.attempt === 1) || j.payload.holdAlways)
							await new Promise((_, reject) => j.signal.addEventListener("abort", () => reject(j.signal.reason)));
						return { attempt: j.attempt };
					},
				},
			}),
		],
	} as ServiceSchema;
	const start = () => startPlatform({ services: ["jobs"], extra: [service], env });

	afterAll(async () => {
		await p?.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	});

	it("runs waiting and delayed jobs after the restart, and retries the interrupted one counting its attempt", async () => {
		p = await start();
		const enqueue = async (body: Record<string, unknown>) => {
			const res = await p!.http("POST", "/api/jobs", { token: admin(), body: { type: "test.step", ...body } });
			expect(res.status).toBe(202);
			return res.body.id as string;
		};
		const active = await enqueue({ payload: { hold: true } });
		await waitFor(async () => (await job(active)).status === "active", { what: "the held job to start" });
		const waiting = [await enqueue({ payload: { n: 1 } }), await enqueue({ payload: { n: 2 } })];
		const delayed = await enqueue({ payload: { n: 3 }, delayMs: 1500 });
		for (const id of [...waiting, delayed]) expect((await job(id)).status).toBe("waiting");
		const delayedAt = Date.parse((await job(delayed)).createdAt);
		await p.stop();
		p = undefined;
		expect(runs.map(r => r.id)).toEqual([active]);

		p = await start();
		const done = (await waitFor(
			async () => {
				const all = await Promise.all([active, ...waiting, delayed].map(job));
				return all.every(j => j.status === "completed") ? all : null;
			},
			{ what: "every job to complete after the restart", timeoutMs: 15_000 },
		))!;
		const [held, w1, w2, late] = done;
		expect(held).toMatchObject({ attemptsMade: 2, result: { attempt: 2 }, error: null });
		for (const j of [w1, w2, late]) expect(j).toMatchObject({ attemptsMade: 1, result: { attempt: 1 } });
		// the delayed job kept its time: it did not run before it was due
		expect(runs.find(r => r.id === delayed)!.at).toBeGreaterThanOrEqual(delayedAt + 1500);
		// each ran once after the restart, the held one a second time
		expect(runs.filter(r => r.id === active).map(r => r.attempt)).toEqual([1, 2]);
		for (const id of [...waiting, delayed]) expect(runs.filter(r => r.id === id)).toHaveLength(1);
	});

	it("keeps the finished records too (a second restart shows them as they were)", async () => {
		const before = (await p!.http("GET", "/api/jobs?pageSize=100", { token: admin() })).body;
		await p!.stop();
		p = await start();
		const after = (await p.http("GET", "/api/jobs?pageSize=100", { token: admin() })).body;
		expect(after.total).toBe(4);
		expect(after).toEqual(before);
	});

	it("makes a job dead once its attempts were interrupted more than twice (BullMQ's maxStalledCount)", async () => {
		const res = await p!.http("POST", "/api/jobs", { token: admin(), body: { type: "test.step", payload: { holdAlways: true }, attempts: 10 } });
		const id = res.body.id as string;
		for (let run = 1; run <= 3; run++) {
			await waitFor(
				async () => {
					const j = await job(id);
					return j.status === "active" && j.attemptsMade === run;
				},
				{ what: `attempt ${run} to start` },
			);
			await p!.stop();
			p = await start();
		}
		const dead = await job(id);
		expect(dead).toMatchObject({ status: "dead", attemptsMade: 3 });
		expect(dead.error).toMatch(/interrupted/);
		const letters = (await p!.http("GET", "/api/jobs/dead-letters", { token: admin() })).body.rows as Job[];
		expect(letters.map(j => j.id)).toContain(id);
	});
});
