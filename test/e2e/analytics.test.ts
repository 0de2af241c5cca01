/**
 * Analytics over HTTP (`/api/analytics`), embedded: batches validated and tenant-scoped, the hour and
 * day buckets answering series (by a dimension, with sums) that equal the raw events, ids counted once,
 * and the `analytics.events` channel other services publish to.
 */
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

describe("analytics API (embedded)", () => {
	let p: Platform;
	const member = () => p.token({ sub: "u-m", tid: "tenant-a", roles: ["member"] });
	const admin = () => p.token({ sub: "u-a", tid: "tenant-a", roles: ["admin"] });
	const other = () => p.token({ sub: "u-o", tid: "tenant-b", roles: ["member"] });
	const day = 86_400_000;
	const today = Math.floor(Date.now() / day) * day;
	const iso = (ms: number) => new Date(ms).toISOString();

	beforeAll(async () => {
		p = await startPlatform({
			services: ["jobs", "analytics", "analyticsmetrics", "analyticsdashboards", "analyticsreports", "analyticsinsights"],
		});
	});
	afterAll(() => p?.stop());

	it("ingests a batch and answers daily and hourly series from the buckets, equal to the raw events", async () => {
		const events = Array.from({ length: 300 }, (_, i) => ({
			name: "task.completed",
			at: iso(today - (1 + (i % 5)) * day + (i % 24) * 3600_000 + 1000),
			userId: `u${i % 7}`,
			properties: { plan: i % 3 === 0 ? "pro" : "free", points: i % 10 },
		}));
		const res = await p.http("POST", "/api/analytics/events", { token: member(), body: { events } });
		expect(res.status).toBe(202);
		expect(res.body).toEqual({ accepted: 300, duplicates: 0 });

		const from = iso(today - 5 * day);
		const to = iso(today);
		const daily = await p.http("GET", `/api/analytics/series?name=task.completed&from=${from}&to=${to}&bucket=day&sum=points`, {
			token: member(),
		});
		expect(daily.status).toBe(200);
		expect(daily.body.points).toHaveLength(5);
		const raw = (await p.broker.call(
			"analytics.rawEvents",
			{ from, to, name: "task.completed" },
			{ meta: { user: { id: "s", tenantId: "tenant-a", roles: ["owner"] } } },
		)) as {
			at: string;
			properties: { plan: string; points: number };
		}[];
		for (const point of daily.body.points) {
			const inDay = raw.filter(e => e.at.slice(0, 10) === point.start.slice(0, 10));
			expect(point.count).toBe(inDay.length);
			expect(point.sum).toBe(inDay.reduce((n, e) => n + e.properties.points, 0));
		}
		expect(daily.body.points.reduce((n: number, pt: { count: number }) => n + pt.count, 0)).toBe(300);

		const yesterday = today - day;
		const hourly = await p.http("GET", `/api/analytics/series?name=task.completed&from=${iso(yesterday)}&to=${iso(today)}&bucket=hour`, {
			token: member(),
		});
		expect(hourly.body.points).toHaveLength(24);
		const todays = raw.filter(e => Date.parse(e.at) >= yesterday);
		expect(todays.length).toBeGreaterThan(0);
		hourly.body.points.forEach((pt: { start: string; count: number }) =>
			expect(pt.count).toBe(todays.filter(e => e.at.slice(0, 13) === pt.start.slice(0, 13)).length),
		);

		const byPlan = await p.http("GET", `/api/analytics/series?name=task.completed&from=${from}&to=${to}&by=plan`, { token: member() });
		expect(byPlan.body.groups.map((g: { value: string }) => g.value)).toEqual(["free", "pro"]);
		expect(byPlan.body.groups.map((g: { total: number }) => g.total)).toEqual([200, 100]);

		// another tenant sees nothing
		const theirs = await p.http("GET", `/api/analytics/series?name=task.completed&from=${from}&to=${to}`, { token: other() });
		expect(theirs.body.points.every((pt: { count: number }) => pt.count === 0)).toBe(true);
	});

	it("counts an event with an id once, however often it is sent", async () => {
		const body = {
			events: [
				{ id: "e-1", name: "lead.won", properties: { source: "web" } },
				{ id: "e-1", name: "lead.won" },
			],
		};
		expect((await p.http("POST", "/api/analytics/events", { token: member(), body })).body).toEqual({ accepted: 1, duplicates: 1 });
		expect((await p.http("POST", "/api/analytics/events", { token: member(), body })).body).toEqual({ accepted: 0, duplicates: 2 });
		const s = await p.http("GET", `/api/analytics/series?name=lead.won&from=${iso(today)}&to=${iso(today + day)}`, { token: member() });
		expect(s.body.points[0].count).toBe(1);
	});

	it("refuses batches over 500, bad names, too many properties and times outside the window (422 naming the field)", async () => {
		const many = { events: Array.from({ length: 501 }, () => ({ name: "x" })) };
		expect((await p.http("POST", "/api/analytics/events", { token: member(), body: many })).status).toBe(422);
		const badName = await p.http("POST", "/api/analytics/events", { token: member(), body: { events: [{ name: "no spaces allowed" }] } });
		expect(badName.status).toBe(422);
		expect(badName.body.errors[0].field).toMatch(/name/);
		const props = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`p${i}`, i]));
		const tooMany = await p.http("POST", "/api/analytics/events", { token: member(), body: { events: [{ name: "x", properties: props }] } });
		expect(tooMany.status).toBe(422);
		expect(tooMany.body.errors[0].field).toBe("events[0].properties");
		const future = await p.http("POST", "/api/analytics/events", {
			token: member(),
			body: { events: [{ name: "x", at: iso(Date.now() + 2 * day) }] },
		});
		expect(future.body.errors[0].field).toBe("events[0].at");
		const longRange = await p.http("GET", `/api/analytics/series?name=x&from=${iso(today - 100 * day)}&to=${iso(today)}&bucket=hour`, {
			token: member(),
		});
		expect(longRange.status).toBe(422);
		expect((await p.http("POST", "/api/analytics/events", { body: { events: [{ name: "x" }] } })).status).toBe(401);
	});

	it("counts events other services publish on the analytics.events channel", async () => {
		const channels = p.broker as unknown as { sendToChannel(c: string, m: unknown): Promise<void> };
		await channels.sendToChannel("analytics.events", {
			tenantId: "tenant-b",
			id: "ch-1",
			name: "post.created",
			userId: "u9",
			properties: { kind: "photo" },
		});
		await channels.sendToChannel("analytics.events", {
			tenantId: "tenant-b",
			id: "ch-1",
			name: "post.created",
			userId: "u9",
			properties: { kind: "photo" },
		});
		const url = `/api/analytics/series?name=post.created&from=${iso(today)}&to=${iso(today + day)}&by=kind`;
		const s = await waitFor(async () => {
			const r = await p.http("GET", url, { token: other() });
			return r.body.groups?.length ? r.body : null;
		});
		expect(s!.groups).toEqual([{ value: "photo", total: 1, points: [{ start: iso(today), count: 1 }] }]);
	});

	it("saves dashboards whose widgets are validated, and answers each widget from the buckets", async () => {
		const bad = await p.http("POST", "/api/analytics/dashboards", {
			token: admin(),
			body: { name: "Bad", widgets: [{ type: "table", query: { name: "task.completed" } }] },
		});
		expect(bad.status).toBe(422);
		expect(bad.body.errors[0].field).toBe("widgets[0].query.by");
		const wrongType = await p.http("POST", "/api/analytics/dashboards", {
			token: admin(),
			body: { name: "Bad", widgets: [{ type: "pie", query: { name: "x" } }] },
		});
		expect(wrongType.status).toBe(422);
		expect(
			(
				await p.http("POST", "/api/analytics/dashboards", {
					token: member(),
					body: { name: "M", widgets: [{ type: "counter", query: { name: "x" } }] },
				})
			).status,
		).toBe(403);

		const made = await p.http("POST", "/api/analytics/dashboards", {
			token: admin(),
			body: {
				name: "Tasks",
				widgets: [
					{ type: "counter", query: { name: "task.completed", rangeDays: 7 } },
					{ type: "series", query: { name: "task.completed", rangeDays: 7 } },
					{ type: "funnel", query: { steps: ["task.completed", "lead.won"], rangeDays: 7 } },
					{ type: "table", query: { name: "task.completed", by: "plan", rangeDays: 7 } },
				],
			},
		});
		expect(made.status).toBe(201);
		expect(made.headers.get("location")).toBe(`/api/analytics/dashboards/${made.body.id}`);
		const data = await p.http("GET", `/api/analytics/dashboards/${made.body.id}/data`, { token: member() });
		expect(data.status).toBe(200);
		const [counter, series, funnel, table] = data.body.widgets.map((w: { data: unknown }) => w.data);
		expect(counter).toEqual({ total: 300 });
		expect(series.points).toHaveLength(7);
		expect(funnel.steps).toEqual([
			{ name: "task.completed", count: 300 },
			{ name: "lead.won", count: 1 },
		]);
		expect(table.rows).toEqual([
			{ value: "free", total: 200 },
			{ value: "pro", total: 100 },
		]);
		expect((await p.http("GET", `/api/analytics/dashboards/${made.body.id}`, { token: other() })).status).toBe(404);
	});

	it("runs a report as a job with progress and serves its CSV", async () => {
		const from = iso(today - 5 * day);
		const res = await p.http("POST", "/api/analytics/reports", {
			token: member(),
			body: { name: "Tasks by plan", query: { name: "task.completed", from, to: iso(today), by: "plan", sum: "points" } },
		});
		expect(res.status).toBe(202);
		const done = await waitFor(async () => {
			const r = await p.http("GET", `/api/analytics/reports/${res.body.id}`, { token: member() });
			return r.body.status === "ready" ? r.body : null;
		});
		expect(done).toMatchObject({ rows: 10, progress: { percent: 100, message: "ready" } });
		const job = await p.http("GET", `/api/jobs/${done!.jobId}`, { token: admin() });
		expect(job.body).toMatchObject({ type: "analytics.report", status: "completed", result: { reportId: res.body.id, rows: 10 } });
		const csv = await fetch(`${p.baseUrl}/api/analytics/reports/${res.body.id}/csv`, { headers: { authorization: `Bearer ${member()}` } });
		expect(csv.headers.get("content-type")).toMatch(/^text\/csv/);
		const lines = (await csv.text()).trim().split("\n");
		expect(lines[0]).toBe("start,plan,count,sum_points");
		expect(lines).toHaveLength(11);
		const total = lines.slice(1).reduce((n, l) => n + Number(l.split(",")[2]), 0);
		expect(total).toBe(300);
		expect((await p.http("GET", `/api/analytics/reports/${res.body.id}/csv`, { token: other() })).status).toBe(404);
		const badRange = await p.http("POST", "/api/analytics/reports", {
			token: member(),
			body: { name: "x", query: { name: "x", from: iso(today), to: iso(today - day) } },
		});
		expect(badRange.status).toBe(422);
	});

	it("finds behavioural clusters (k by silhouette) and forecasts a series, stating method and inputs", async () => {
		const c = () => p.token({ sub: "u-c", tid: "tenant-c", roles: ["admin"] });
		const events: Record<string, unknown>[] = [];
		for (let u = 0; u < 30; u++) {
			const busy = u < 15;
			// two groups far apart; inside each, every user a little different (a 5 × 3 grid)
			const [tasks, logins] = busy ? [20 + (u % 5), 1 + (u % 3)] : [1 + (u % 3), 20 + (u % 5)];
			for (let i = 0; i < tasks; i++) events.push({ name: "task.completed", userId: `user-${u}`, at: iso(today - day + i * 60_000) });
			for (let i = 0; i < logins; i++) events.push({ name: "login", userId: `user-${u}`, at: iso(today - day + i * 60_000) });
		}
		// a linear daily trend: 1, 2, ... 10 events on the ten days before yesterday
		for (let d = 0; d < 10; d++) for (let i = 0; i <= d; i++) events.push({ name: "signup", at: iso(today - (11 - d) * day + i * 1000) });
		for (let i = 0; i < events.length; i += 500)
			expect((await p.http("POST", "/api/analytics/events", { token: c(), body: { events: events.slice(i, i + 500) } })).status).toBe(202);

		const res = await p.http("POST", "/api/analytics/insights/clusters", {
			token: c(),
			body: { features: [{ name: "task.completed" }, { name: "login" }], from: iso(today - 2 * day), to: iso(today) },
		});
		expect(res.status).toBe(200);
		expect(res.body.method).toMatch(/k-means .*silhouette/);
		expect(res.body.inputs).toMatchObject({ users: 30 });
		expect(res.body.k).toBe(2);
		const [a, b] = res.body.clusters;
		expect([a.size, b.size]).toEqual([15, 15]);
		const busyCluster = a.centroid["task.completed.count"] > b.centroid["task.completed.count"] ? a : b;
		expect(busyCluster.users.sort()).toEqual(Array.from({ length: 15 }, (_, u) => `user-${u}`).sort());
		const given = await p.http("POST", "/api/analytics/insights/clusters", {
			token: c(),
			body: { features: [{ name: "task.completed" }], from: iso(today - 2 * day), to: iso(today), k: 3 },
		});
		expect(given.body.k).toBe(3);
		expect(given.body.method).toMatch(/k given by the caller/);

		const q = `name=signup&from=${iso(today - 11 * day)}&to=${iso(today - day)}&horizon=3`;
		const linear = await p.http("GET", `/api/analytics/insights/forecast?${q}`, { token: c() });
		expect(linear.status).toBe(200);
		expect(linear.body.method).toMatch(/least-squares/);
		expect(linear.body.inputs).toMatchObject({ points: 10, bucket: "day" });
		expect(linear.body.fit.rSquared).toBeCloseTo(1, 6);
		expect(linear.body.forecast.map((f: { value: number }) => f.value)).toEqual([11, 12, 13]);
		expect(linear.body.forecast[0].start).toBe(iso(today - day));
		const holt = await p.http("GET", `/api/analytics/insights/forecast?${q}&method=holt&alpha=0.8&beta=0.5`, { token: c() });
		expect(holt.body.method).toMatch(/Holt/);
		expect(holt.body.parameters).toMatchObject({ alpha: 0.8, beta: 0.5 });
		holt.body.forecast.forEach((f: { value: number }, h: number) => expect(Math.abs(f.value - (11 + h))).toBeLessThan(0.5));
	});
});
