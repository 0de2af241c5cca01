/**
 * Schedules over HTTP (`/api/schedules`), embedded: next fire times, validation naming the field,
 * firing each due second once with its history, pause and resume under both misfire policies, one-time
 * tasks, run now, tenant scoping. The cluster claims (three nodes) are in test/cluster/scheduler.test.ts.
 */
import type { ServiceSchema } from "moleculer";
import { JobHandlersMixin } from "../../services/platform/jobs/handlers";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

describe("scheduler API (embedded)", () => {
	let p: Platform;
	const ran: { scheduleId: string; scheduledFor: string }[] = [];
	const admin = () => p.token({ sub: "u-admin", tid: "tenant-a", roles: ["admin"] });
	const other = () => p.token({ sub: "u-other", tid: "tenant-b", roles: ["admin"] });
	const history = async (id: string) => (await p.http("GET", `/api/schedules/${id}/history?pageSize=100`, { token: admin() })).body;
	const create = (body: Record<string, unknown>) =>
		p.http("POST", "/api/schedules", { token: admin(), body: { name: "s", jobType: "test.tick", ...body } });

	beforeAll(async () => {
		const service = {
			name: "ticks",
			mixins: [
				JobHandlersMixin({
					"test.tick": {
						async handler(job) {
							ran.push({ scheduleId: String(job.payload.scheduleId), scheduledFor: String(job.payload.scheduledFor) });
							return null;
						},
					},
				}),
			],
		} as ServiceSchema;
		p = await startPlatform({
			services: ["jobs", "scheduler"],
			extra: [service],
			env: { SCHEDULER_TICK_MS: "100", SCHEDULER_MISFIRE_GRACE_MS: "700" },
		});
	});
	afterAll(() => p?.stop());

	it("answers the next fire times of an expression in its time zone, and names a bad expression or zone", async () => {
		const res = await p.http("GET", `/api/schedules/next?cron=${encodeURIComponent("0 9 * * 1")}&timezone=America/New_York&count=3`, {
			token: admin(),
		});
		expect(res.status).toBe(200);
		expect(res.body.times).toHaveLength(3);
		for (const t of res.body.times) {
			const local = new Intl.DateTimeFormat("en-US", {
				timeZone: "America/New_York",
				weekday: "short",
				hour: "numeric",
				minute: "numeric",
				hour12: false,
			}).format(new Date(t));
			expect(local).toBe("Mon 09:00");
		}
		const badCron = await p.http("GET", `/api/schedules/next?cron=${encodeURIComponent("61 * * * *")}`, { token: admin() });
		expect(badCron.status).toBe(422);
		expect(badCron.body.errors[0].field).toBe("cron");
		const badZone = await p.http("GET", `/api/schedules/next?cron=${encodeURIComponent("* * * * *")}&timezone=Mars/Base`, { token: admin() });
		expect(badZone.status).toBe(422);
		expect(badZone.body.errors[0].field).toBe("timezone");
		const unknownType = await create({ cron: "* * * * * *", jobType: "nobody.handles" });
		expect(unknownType.status).toBe(422);
		expect(unknownType.body.errors[0].field).toBe("jobType");
	});

	it("fires every due second once, records each firing with its job, and stops while paused", async () => {
		const res = await create({ cron: "* * * * * *" });
		expect(res.status).toBe(201);
		const id = res.body.id;
		expect(res.headers.get("location")).toBe(`/api/schedules/${id}`);
		await waitFor(async () => (await history(id)).total >= 3, { what: "three firings", timeoutMs: 10_000 });
		await p.http("POST", `/api/schedules/${id}/pause`, { token: admin() });
		const h = await history(id);
		const dues = h.rows.map((r: { dueAt: string }) => Date.parse(r.dueAt)).sort();
		for (let i = 1; i < dues.length; i++) expect(dues[i] - dues[i - 1]).toBe(1000);
		expect(new Set(dues).size).toBe(dues.length);
		expect(h.rows.every((r: { outcome: string; jobId: string }) => r.outcome === "enqueued" && r.jobId)).toBe(true);
		await waitFor(() => ran.filter(r => r.scheduleId === id).length === h.total, { what: "every firing's job to run" });
		expect(new Set(ran.filter(r => r.scheduleId === id).map(r => r.scheduledFor)).size).toBe(h.total);
		const jobs = await p.http("GET", "/api/jobs?type=test.tick&pageSize=100", { token: admin() });
		expect(jobs.body.rows.filter((j: { payload: { scheduleId: string } }) => j.payload.scheduleId === id)).toHaveLength(h.total);

		// paused: nothing more fires
		const before = (await history(id)).total;
		await new Promise(r => setTimeout(r, 1500));
		expect((await history(id)).total).toBe(before);
	});

	it("skip: due times missed while paused are recorded as skipped, not run", async () => {
		const id = (await create({ cron: "* * * * * *", misfire: "skip" })).body.id;
		await waitFor(async () => (await history(id)).total >= 1, { what: "a firing" });
		await p.http("POST", `/api/schedules/${id}/pause`, { token: admin() });
		await new Promise(r => setTimeout(r, 2500));
		const ranBefore = ran.filter(r => r.scheduleId === id).length;
		await p.http("POST", `/api/schedules/${id}/resume`, { token: admin() });
		const skipped = await waitFor(async () => (await history(id)).rows.find((r: { outcome: string }) => r.outcome === "skipped"), {
			what: "a skipped entry",
		});
		expect(skipped.missed).toBeGreaterThanOrEqual(1);
		expect(skipped.jobId).toBeNull();
		await waitFor(async () => (await history(id)).rows[0].outcome === "enqueued", { what: "on-time firings again" });
		await p.http("POST", `/api/schedules/${id}/pause`, { token: admin() });
		const scheduledFor = ran
			.filter(r => r.scheduleId === id)
			.slice(ranBefore)
			.map(r => r.scheduledFor);
		expect(scheduledFor).not.toContain(skipped.dueAt);
	});

	it("runOnce: the missed due times are run as one job", async () => {
		const id = (await create({ cron: "* * * * * *", misfire: "runOnce" })).body.id;
		await waitFor(async () => (await history(id)).total >= 1, { what: "a firing" });
		await p.http("POST", `/api/schedules/${id}/pause`, { token: admin() });
		await new Promise(r => setTimeout(r, 2500));
		await p.http("POST", `/api/schedules/${id}/resume`, { token: admin() });
		const caughtUp = await waitFor(async () => (await history(id)).rows.find((r: { missed: number }) => r.missed > 0), {
			what: "a catch-up firing",
		});
		await p.http("POST", `/api/schedules/${id}/pause`, { token: admin() });
		expect(caughtUp).toMatchObject({ outcome: "enqueued", jobId: expect.any(String) });
		expect(caughtUp.missed).toBeGreaterThanOrEqual(1);
		await waitFor(() => ran.some(r => r.scheduleId === id && r.scheduledFor === caughtUp.dueAt), { what: "the catch-up job" });
	});

	it("runs a one-time task once at its time, runs a schedule now on demand, and keeps tenants apart", async () => {
		const runAt = new Date(Date.now() + 800).toISOString();
		const once = await create({ runAt });
		expect(once.body).toMatchObject({ cron: null, runAt, nextRunAt: runAt });
		await waitFor(async () => (await history(once.body.id)).total === 1, { what: "the one-time task" });
		await new Promise(r => setTimeout(r, 600));
		expect((await history(once.body.id)).total).toBe(1);
		expect((await p.http("GET", `/api/schedules/${once.body.id}`, { token: admin() })).body.nextRunAt).toBeNull();

		const weekly = await create({ cron: "0 9 * * 1", timezone: "Europe/Paris" });
		const run = await p.http("POST", `/api/schedules/${weekly.body.id}/run`, { token: admin() });
		expect(run.status).toBe(202);
		await waitFor(() => ran.some(r => r.scheduleId === weekly.body.id), { what: "the run-now job" });

		expect((await p.http("GET", `/api/schedules/${weekly.body.id}`, { token: other() })).status).toBe(404);
		expect((await p.http("POST", `/api/schedules/${weekly.body.id}/run`, { token: other() })).status).toBe(404);
		expect((await p.http("GET", "/api/schedules", { token: other() })).body.total).toBe(0);
		const patched = await p.http("PATCH", `/api/schedules/${weekly.body.id}`, { token: admin(), body: { cron: "bad cron x" } });
		expect(patched.status).toBe(422);
		expect((await p.http("DELETE", `/api/schedules/${weekly.body.id}`, { token: admin() })).status).toBe(204);
		expect((await p.http("GET", `/api/schedules/${weekly.body.id}`, { token: admin() })).status).toBe(404);
	});
});
