/**
 * Tenant scoping of jobs and schedules (mixins/tenant-records.mixin.ts), on both job engines: every
 * route of `/api/jobs` and `/api/schedules` with an id — read from the gateway's route table, not from
 * a list kept here — called by tenant B with each of tenant A's ids (a waiting, an active and a dead
 * job; a schedule) answers 404 exactly as a random id does, and afterwards A's records are as they
 * were: nothing was cancelled, replayed, discarded, paused, resumed, run, changed or deleted. B's lists
 * never show A's ids.
 */
import Redis from "ioredis";
import type { ServiceSchema } from "moleculer";
import { newId } from "../../mixins/db.mixin";
import { JobHandlersMixin } from "../../services/platform/jobs/handlers";
import { startPlatform, type HttpResult, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

const handlers: ServiceSchema = {
	name: "tenantjobs",
	mixins: [
		JobHandlersMixin({
			"test.hold": {
				concurrency: 5,
				async handler(job) {
					await new Promise((_, reject) => job.signal.addEventListener("abort", () => reject(job.signal.reason)));
				},
			},
			"test.fail": {
				async handler() {
					throw new Error("always");
				},
			},
		}),
	],
} as ServiceSchema;

describe.each([
	["embedded", {}],
	["bullmq", { REDIS_URL }],
])("jobs and schedules: one tenant never reaches another's (%s engine)", (engine, env: Record<string, string>) => {
	let p: Platform;
	const a = () => p.token({ sub: "u-a", tid: "tenant-a", roles: ["admin"] });
	const b = () => p.token({ sub: "u-b", tid: "tenant-b", roles: ["admin"] });
	const ids: Record<string, string> = {};

	beforeAll(async () => {
		p = await startPlatform({ services: ["jobs", "scheduler"], extra: [handlers], env: { JOBS_BACKOFF_MS: "20", ...env } });
		const post = async (path: string, body: unknown) => {
			const res = await p.http("POST", path, { token: a(), body });
			if (res.status >= 300) throw new Error(`${path}: ${res.status} ${JSON.stringify(res.body)}`);
			return res.body.id as string;
		};
		ids.waiting = await post("/api/jobs", { type: "test.hold", delayMs: 3600_000 });
		ids.active = await post("/api/jobs", { type: "test.hold" });
		ids.dead = await post("/api/jobs", { type: "test.fail", attempts: 1 });
		ids.schedule = await post("/api/schedules", { name: "a's", cron: "0 9 * * 1", jobType: "test.hold" });
		const statusOf = async (id: string) => (await p.http("GET", `/api/jobs/${id}`, { token: a() })).body.status;
		await waitFor(async () => (await statusOf(ids.active)) === "active" && (await statusOf(ids.dead)) === "dead", {
			what: "an active and a dead job",
		});
	});
	afterAll(async () => {
		const ns = process.env.NAMESPACE;
		await p?.stop();
		if (engine === "bullmq") {
			const r = new Redis(REDIS_URL);
			const keys = await r.keys(`${ns}:*`);
			if (keys.length) await r.del(...keys);
			r.disconnect();
		}
		delete process.env.REDIS_URL;
	});

	/** A's records as A sees them (the fields a foreign call could change). */
	async function snapshot() {
		const out: Record<string, unknown> = {};
		for (const key of ["waiting", "active", "dead"]) {
			const j = (await p.http("GET", `/api/jobs/${ids[key]}`, { token: a() })).body;
			out[key] = { status: j.status, attemptsMade: j.attemptsMade, error: j.error };
		}
		const s = (await p.http("GET", `/api/schedules/${ids.schedule}`, { token: a() })).body;
		const h = (await p.http("GET", `/api/schedules/${ids.schedule}/history`, { token: a() })).body;
		out.schedule = { name: s.name, cron: s.cron, paused: s.paused, updatedAt: s.updatedAt, firings: h.total };
		return out;
	}

	it("answers 404 on every id route of jobs and schedules for another tenant's ids, and changes nothing", async () => {
		const api = p.broker.getLocalService("api") as unknown as { aliases: { method: string; fullPath: string; action?: string }[] };
		const routes = api.aliases.filter(
			al => /^\/api\/(jobs|schedules)\//.test(al.fullPath) && /:id\b/.test(al.fullPath) && al.action && al.method !== "*",
		);
		// what the route table holds today; a new id route joins the loop below by itself
		expect(routes.map(r => `${r.method.toUpperCase()} ${r.fullPath}`).sort()).toEqual(
			expect.arrayContaining([
				"GET /api/jobs/:id",
				"POST /api/jobs/:id/cancel",
				"POST /api/jobs/dead-letters/:id/replay",
				"DELETE /api/jobs/dead-letters/:id",
				"GET /api/schedules/:id",
				"GET /api/schedules/:id/history",
				"PATCH /api/schedules/:id",
				"DELETE /api/schedules/:id",
				"POST /api/schedules/:id/pause",
				"POST /api/schedules/:id/resume",
				"POST /api/schedules/:id/run",
			]),
		);
		const before = await snapshot();
		const summary = (res: HttpResult, id: string) => ({
			status: res.status,
			code: res.body?.code,
			detail: String(res.body?.detail).split(id).join("<id>"),
		});
		let checked = 0;
		for (const route of routes) {
			const method = route.method.toUpperCase();
			const theirs = route.fullPath.startsWith("/api/jobs/") ? [ids.waiting, ids.active, ids.dead] : [ids.schedule];
			const body = method === "PATCH" ? { name: "taken over" } : method === "POST" ? {} : undefined;
			for (const id of theirs) {
				const call = (value: string) => p.http(method, route.fullPath.replace(":id", value), { token: b(), body });
				const random = newId();
				const [withTheirs, withRandom] = [await call(id), await call(random)];
				const where = `${method} ${route.fullPath} with ${id}`;
				expect({ where, status: withTheirs.status }).toEqual({ where, status: 404 });
				expect({ where, answer: summary(withTheirs, id) }).toEqual({ where, answer: summary(withRandom, random) });
				checked++;
			}
		}
		expect(checked).toBeGreaterThanOrEqual(4 * 3 + 7);
		expect(await snapshot()).toEqual(before);
	});

	it("never lists another tenant's jobs, dead letters or schedules", async () => {
		for (const path of ["/api/jobs?pageSize=100", "/api/jobs/dead-letters?pageSize=100", "/api/schedules?pageSize=100"]) {
			const res = await p.http("GET", path, { token: b() });
			expect(res.status).toBe(200);
			const text = JSON.stringify(res.body);
			for (const id of Object.values(ids)) expect({ path, leaks: text.includes(id) }).toEqual({ path, leaks: false });
		}
		// and A's own lists do show them (the ids are real)
		const mine = JSON.stringify((await p.http("GET", "/api/jobs?pageSize=100", { token: a() })).body);
		expect(mine).toContain(ids.active);
	});
});
