/**
 * Analytics buckets rebuilt from the raw events (README, "Jobs, schedules and analytics" → "Analytics"):
 * the crash between the raw insert and the bucket increment (raw events stored, never counted), a bucket
 * corrupted, one lost, one with no raw event behind it — `POST /api/analytics/rebuild` (admins) and the
 * `analytics.rebuild` job put every series back to exactly the raw counts and sums. Each day a batch
 * touches has its nightly rebuild job waiting.
 */
import { asSystem } from "../../lib/context";
import { bucketDeltas, type RawEvent } from "../../services/platform/analytics/events";
import { nightlyRebuild } from "../../services/platform/analytics.service";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

interface ScopedSvc {
	_insert(ctx: unknown, p: { entities: Record<string, unknown>[] }): Promise<unknown>;
	scopedUpdateWhere(ctx: unknown, q: Record<string, unknown>, set: Record<string, unknown>): Promise<number>;
	scopedRemoveWhere(ctx: unknown, q: Record<string, unknown>): Promise<number>;
	increment(ctx: unknown, d: unknown): Promise<void>;
}

describe("analytics buckets rebuilt from raw events (embedded)", () => {
	let p: Platform;
	const tenant = "tenant-rb";
	const admin = () => p.token({ sub: "u-a", tid: tenant, roles: ["admin"] });
	const member = () => p.token({ sub: "u-m", tid: tenant, roles: ["member"] });
	const system = asSystem(tenant);
	const day = 86_400_000;
	const today = Math.floor(Date.now() / day) * day;
	const iso = (ms: number) => new Date(ms).toISOString();
	const from = iso(today - 3 * day);
	const to = iso(today);
	const svc = (name: string) => p.broker.getLocalService(name) as unknown as ScopedSvc;

	beforeAll(async () => {
		p = await startPlatform({ services: ["jobs", "analytics", "analyticsmetrics"] });
		const events = Array.from({ length: 240 }, (_, i) => ({
			name: "task.completed",
			at: iso(today - (1 + (i % 3)) * day + (i % 24) * 3600_000 + 1000),
			properties: { plan: i % 4 === 0 ? "pro" : "free", points: i % 7 },
		}));
		const res = await p.http("POST", "/api/analytics/events", { token: member(), body: { events } });
		expect(res.body).toEqual({ accepted: 240, duplicates: 0 });
	});
	afterAll(() => p?.stop());

	/** Every series of the range — daily with sums, hourly for each day, by plan — against the raw events, exactly. */
	async function expectSeriesEqualRaw() {
		const raw = (await p.broker.call("analytics.rawEvents", { from, to, name: "task.completed" }, system)) as RawEvent[];
		const get = async (query: string) => (await p.http("GET", `/api/analytics/series?name=task.completed&${query}`, { token: member() })).body;
		const mismatches: string[] = [];
		const check = (where: string, got: number, want: number) => got !== want && mismatches.push(`${where}: ${got} ≠ ${want}`);
		const daily = await get(`from=${from}&to=${to}&bucket=day&sum=points`);
		for (const pt of daily.points) {
			const inDay = raw.filter(e => e.at.slice(0, 10) === pt.start.slice(0, 10));
			check(`day ${pt.start} count`, pt.count, inDay.length);
			check(
				`day ${pt.start} sum`,
				pt.sum,
				inDay.reduce((n, e) => n + Number(e.properties.points), 0),
			);
		}
		for (let d = today - 3 * day; d < today; d += day) {
			const hourly = await get(`from=${iso(d)}&to=${iso(d + day)}&bucket=hour`);
			for (const pt of hourly.points) check(`hour ${pt.start}`, pt.count, raw.filter(e => e.at.slice(0, 13) === pt.start.slice(0, 13)).length);
		}
		const byPlan = await get(`from=${from}&to=${to}&bucket=day&by=plan`);
		for (const plan of ["free", "pro"]) {
			const group = byPlan.groups.find((g: { value: string }) => g.value === plan);
			for (const pt of group?.points ?? [])
				check(
					`${plan} ${pt.start}`,
					pt.count,
					raw.filter(e => e.properties.plan === plan && e.at.slice(0, 10) === pt.start.slice(0, 10)).length,
				);
		}
		expect(mismatches).toEqual([]);
		return raw.length;
	}

	/** The faults: raw events stored whose increments were lost (the crash), a wrong bucket, a lost bucket, a bucket with no raw event. */
	async function corrupt(tag: string) {
		const lost = Array.from({ length: 5 }, (_, i) => ({
			eventId: `lost-${tag}-${i}`,
			name: "task.completed",
			at: iso(today - 2 * day + 5 * 3600_000 + i),
			userId: null,
			properties: { plan: "pro", points: 3 },
		}));
		await svc("analytics")._insert(system, { entities: lost });
		const [dayBucket, hourBucket] = bucketDeltas([
			{ eventId: "x", name: "task.completed", at: iso(today - day + 1000), userId: null, properties: {} },
		]).sort((a, b) => a.granularity.localeCompare(b.granularity));
		expect(await svc("analyticsmetrics").scopedUpdateWhere(system, { key: dayBucket.key }, { count: 999, sums: { points: -1 } })).toBe(1);
		expect(await svc("analyticsmetrics").scopedRemoveWhere(system, { key: hourBucket.key })).toBe(1);
		const stray = bucketDeltas([
			{ eventId: "y", name: "task.completed", at: iso(today - 3 * day + 1000), userId: null, properties: { plan: "ghost" } },
		]).find(d => d.granularity === "day" && d.dim === "plan");
		await svc("analyticsmetrics").increment(system, stray);
	}

	it("puts every series back to exactly the raw counts with POST /api/analytics/rebuild (admins only)", async () => {
		await expectSeriesEqualRaw();
		await corrupt("api");
		await expect(expectSeriesEqualRaw()).rejects.toThrow();

		expect((await p.http("POST", "/api/analytics/rebuild", { token: member(), body: { from, to } })).status).toBe(403);
		const res = await p.http("POST", "/api/analytics/rebuild", { token: admin(), body: { from, to } });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ from, to, events: 245 });
		expect(res.body.corrected).toBeGreaterThanOrEqual(3);
		expect(res.body.removed).toBe(1);
		expect(await expectSeriesEqualRaw()).toBe(245);

		// a second rebuild finds nothing to correct
		const again = await p.http("POST", "/api/analytics/rebuild", { token: admin(), body: { from, to } });
		expect(again.body).toMatchObject({ corrected: 0, removed: 0, events: 245 });
	});

	it("refuses a range before the raw retention, an empty one and one over 31 days (422 naming the field)", async () => {
		const old = await p.http("POST", "/api/analytics/rebuild", {
			token: admin(),
			body: { from: iso(today - 200 * day), to: iso(today - 199 * day) },
		});
		expect(old.status).toBe(422);
		expect(old.body.errors).toEqual([expect.objectContaining({ field: "from" })]);
		const empty = await p.http("POST", "/api/analytics/rebuild", { token: admin(), body: { from: to, to: from } });
		expect(empty.body.errors).toEqual([expect.objectContaining({ field: "to" })]);
		const long = await p.http("POST", "/api/analytics/rebuild", { token: admin(), body: { from: iso(today - 40 * day), to } });
		expect(long.body.errors).toEqual([expect.objectContaining({ field: "to" })]);
	});

	it("has each touched day's nightly rebuild job waiting, and the analytics.rebuild job repairs the buckets", async () => {
		const jobs = (await p.http("GET", "/api/jobs?type=analytics.rebuild&pageSize=100", { token: admin() })).body.rows as {
			status: string;
			payload: { from: string; to: string };
			idempotencyKey: string;
		}[];
		const nightly = jobs.filter(j => j.idempotencyKey.startsWith("nightly-"));
		expect(nightly.map(j => j.payload.from).sort()).toEqual([iso(today - 3 * day), iso(today - 2 * day), iso(today - day)]);
		for (const j of nightly) {
			expect(j.status).toBe("waiting");
			expect(j.payload.to).toBe(iso(Date.parse(j.payload.from) + day));
			expect(j.idempotencyKey).toBe(nightlyRebuild(Date.parse(j.payload.from), Date.now()).key);
		}

		await corrupt("job");
		const res = await p.http("POST", "/api/jobs", { token: admin(), body: { type: "analytics.rebuild", payload: { from, to } } });
		expect(res.status).toBe(202);
		const done = await waitFor(
			async () => {
				const j = (await p.http("GET", `/api/jobs/${res.body.id}`, { token: admin() })).body;
				return j.status === "completed" || j.status === "dead" ? j : null;
			},
			{ what: "the rebuild job" },
		);
		expect(done).toMatchObject({ status: "completed", result: { events: 250, removed: 1 } });
		expect(await expectSeriesEqualRaw()).toBe(250);
	});
});
