import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

describe("engagement: tasks over HTTP", () => {
	let p: Platform;
	let ana: string, ben: string, other: string;
	const seen: Record<string, any[]> = {};
	const recorder = {
		name: "taskrecorder",
		channels: Object.fromEntries(
			["tasks.completed", "tasks.reopened"].map(ch => [
				ch,
				{ group: "test-recorder", handler: (ctx: any) => void (seen[ch] ??= []).push(ctx.params) },
			]),
		),
	};

	// identity's membership check, standing in: ana and ben are members of team-1
	const tenants = {
		name: "tenants",
		actions: {
			membership: {
				visibility: "public",
				handler: (ctx: any) => ctx.params.tenantId === "team-1" && ["ana", "ben"].includes(ctx.params.userId),
			},
		},
	};

	beforeAll(async () => {
		p = await startPlatform({ services: ["tasks", "taskversions"], extra: [recorder as never, tenants as never] });
		ana = p.token({ sub: "ana", tid: "team-1", roles: ["member"] });
		ben = p.token({ sub: "ben", tid: "team-1", roles: ["member"] });
		other = p.token({ sub: "eve", tid: "team-2", roles: ["member"] });
	});
	afterAll(() => p.stop());

	const create = async (body: Record<string, unknown>, token = ana) => {
		const res = await p.http("POST", "/api/tasks", { token, body });
		expect(res.status).toBe(201);
		return res.body;
	};

	it("creates with defaults and version 1; other tenants see 404", async () => {
		const t = await create({
			title: "Write the report",
			tags: ["Q3"],
			dueAt: "2026-12-10T15:00:00+01:00",
			estimateMinutes: 90,
			tenantId: "team-2",
		});
		expect(t).toMatchObject({
			title: "Write the report",
			status: "todo",
			priority: "medium",
			tags: ["q3"],
			dueAt: "2026-12-10T14:00:00.000Z",
			version: 1,
			blockedBy: [],
			createdBy: "ana",
		});
		expect(t.tenantId).toBeUndefined();
		expect((await p.http("GET", `/api/tasks/${t.id}`, { token: other })).status).toBe(404);
		const got = await p.http("GET", `/api/tasks/${t.id}`, { token: ben });
		expect(got.headers.get("etag")).toBe('"1"');
		expect((await p.http("POST", "/api/tasks", { token: ana, body: { title: "x", dueAt: "tomorrow" } })).status).toBe(422);
		expect((await p.http("POST", "/api/tasks", { token: ana, body: { title: "x", estimateMinutes: 1.5 } })).status).toBe(422);
		const outsider = await p.http("POST", "/api/tasks", { token: ana, body: { title: "x", assigneeId: "eve" } });
		expect(outsider.status).toBe(422);
		expect(outsider.body.errors).toEqual([{ field: "assigneeId", message: "must be members of this tenant (not members: eve)" }]);
		expect((await p.http("PATCH", `/api/tasks/${t.id}`, { token: ana, body: { assigneeId: "eve" } })).status).toBe(422);
		expect((await p.http("PATCH", `/api/tasks/${t.id}`, { token: ana, body: { assigneeId: "ben" } })).body).toMatchObject({
			assigneeId: "ben",
			version: 2,
		});
	});

	it("versions every change; a stale version is 409 with the current one; diff and restore write new versions", async () => {
		const t = await create({ title: "Draft", priority: "low" });
		const v2 = await p.http("PATCH", `/api/tasks/${t.id}`, { token: ana, body: { version: 1, title: "Draft 2", priority: "high" } });
		expect(v2.status).toBe(200);
		expect(v2.body).toMatchObject({ version: 2, title: "Draft 2", priority: "high" });
		// Ben still holds version 1
		const stale = await p.http("PATCH", `/api/tasks/${t.id}`, { token: ben, body: { version: 1, title: "Ben's" } });
		expect(stale.status).toBe(409);
		expect(stale.body).toMatchObject({ code: "STALE_VERSION" });
		expect(stale.body.detail).toContain("current version is 2");
		// two writers on the same version: exactly one lands
		const both = await Promise.all(
			["A", "B"].map(s => p.http("PATCH", `/api/tasks/${t.id}`, { token: ana, body: { version: 2, description: s } })),
		);
		expect(both.map(r => r.status).sort()).toEqual([200, 409]);
		const list = await p.http("GET", `/api/tasks/${t.id}/versions`, { token: ana });
		expect(list.body.rows.map((v: any) => v.version)).toEqual([3, 2, 1]);
		expect(list.body.rows[1]).toMatchObject({ by: "ana", changed: ["title", "priority"] });
		const diff = await p.http("GET", `/api/tasks/${t.id}/diff?from=1&to=2`, { token: ana });
		expect(diff.body.changes).toEqual({ title: { from: "Draft", to: "Draft 2" }, priority: { from: "low", to: "high" } });
		expect((await p.http("POST", `/api/tasks/${t.id}/versions/1/restore`, { token: ana, body: { expectedVersion: 2 } })).status).toBe(409);
		const restored = await p.http("POST", `/api/tasks/${t.id}/versions/1/restore`, { token: ana, body: { expectedVersion: 3 } });
		expect(restored.body).toMatchObject({ version: 4, title: "Draft", priority: "low", description: "" });
		const v1 = await p.http("GET", `/api/tasks/${t.id}/versions/1`, { token: ana });
		expect(v1.body.snapshot.title).toBe("Draft");
		const v4 = await p.http("GET", `/api/tasks/${t.id}/versions/4`, { token: ana });
		expect(v4.body).toMatchObject({ restoredFrom: 1 });
		expect((await p.http("GET", `/api/tasks/${t.id}/versions/9`, { token: ana })).status).toBe(404);
		expect((await p.http("GET", `/api/tasks/${t.id}/versions/one`, { token: ana })).status).toBe(422);
	});

	it("If-Match carries the expected version over HTTP: a stale one is 409, the current one lands", async () => {
		const t = await create({ title: "Etag" });
		const ok = await p.http("PATCH", `/api/tasks/${t.id}`, { token: ana, body: { title: "Etag 2" }, headers: { "if-match": '"1"' } });
		expect(ok.body).toMatchObject({ version: 2, title: "Etag 2" });
		const stale = await p.http("PATCH", `/api/tasks/${t.id}`, { token: ana, body: { title: "Etag 3" }, headers: { "if-match": '"1"' } });
		expect(stale.status).toBe(409);
		expect(stale.body.detail).toContain("current version is 2");
	});

	it("dependencies: a cycle is 422 naming its path; done with an open blocker is 409; plan orders and finds the critical path", async () => {
		const a = await create({ title: "A", estimateMinutes: 30 });
		const b = await create({ title: "B", estimateMinutes: 60 });
		const c = await create({ title: "C", estimateMinutes: 10 });
		const d = await create({ title: "D", estimateMinutes: 5 });
		// A blocks B, B blocks C, A blocks D
		expect((await p.http("POST", `/api/tasks/${b.id}/blockers`, { token: ana, body: { taskId: a.id } })).status).toBe(200);
		expect((await p.http("POST", `/api/tasks/${c.id}/blockers`, { token: ana, body: { taskId: b.id } })).status).toBe(200);
		expect((await p.http("POST", `/api/tasks/${d.id}/blockers`, { token: ana, body: { taskId: a.id } })).status).toBe(200);
		const cyc = await p.http("POST", `/api/tasks/${a.id}/blockers`, { token: ana, body: { taskId: c.id } });
		expect(cyc.status).toBe(422);
		expect(cyc.body.detail).toContain([c.id, a.id, b.id, c.id].join(" -> "));
		expect(cyc.body.errors).toEqual([{ field: "taskId", message: `closes the cycle ${[c.id, a.id, b.id, c.id].join(" -> ")}` }]);
		const blocked = await p.http("PATCH", `/api/tasks/${b.id}`, { token: ana, body: { status: "done" } });
		expect(blocked.status).toBe(409);
		expect(blocked.body.code).toBe("OPEN_BLOCKERS");
		expect(blocked.body.detail).toContain(a.id);

		const plan = await p.http("GET", "/api/tasks/plan", { token: ana });
		expect(plan.status).toBe(200);
		const order = plan.body.order.map((o: any) => o.id);
		for (const [x, y] of [
			[a, b],
			[b, c],
			[a, d],
		])
			expect(order.indexOf(x.id)).toBeLessThan(order.indexOf(y.id));
		expect(plan.body.criticalPath.slice(-3)).toEqual([a.id, b.id, c.id]);

		expect((await p.http("PATCH", `/api/tasks/${a.id}`, { token: ana, body: { status: "done" } })).status).toBe(200);
		expect((await p.http("PATCH", `/api/tasks/${b.id}`, { token: ana, body: { status: "done" } })).status).toBe(200);
		const done = await waitFor(() => seen["tasks.completed"]?.find(e => e.taskId === b.id), { what: "tasks.completed" });
		expect(done).toMatchObject({ tenantId: "team-1", userId: "ana", eventId: `task:${b.id}:completed:1`, cycle: 1 });
		expect((await p.http("PATCH", `/api/tasks/${b.id}`, { token: ana, body: { status: "doing" } })).status).toBe(200);
		const reopened = await waitFor(() => seen["tasks.reopened"]?.find(e => e.taskId === b.id), { what: "tasks.reopened" });
		expect(reopened).toMatchObject({ completedEventId: `task:${b.id}:completed:1` });
	});

	it("lists with filters, text search, sort and a cursor", async () => {
		for (const [i, prio] of ["low", "urgent", "high"].entries())
			await create({ title: `Sortable ${i}`, priority: prio, tags: ["sortable"] }, ben);
		const byPrio = await p.http("GET", "/api/tasks?tag=sortable&sort=-priority&limit=2", { token: ben });
		expect(byPrio.body.rows.map((r: any) => r.priority)).toEqual(["urgent", "high"]);
		const rest = await p.http("GET", `/api/tasks?tag=sortable&sort=-priority&limit=2&cursor=${byPrio.body.nextCursor}`, { token: ben });
		expect(rest.status).toBe(200);
		expect(rest.body.rows.map((r: any) => r.priority)).toEqual(["low"]);
		expect(rest.body.nextCursor).toBeNull();
		const q = await p.http("GET", "/api/tasks?q=SORTABLE%201", { token: ben });
		expect(q.body.rows.map((r: any) => r.title)).toEqual(["Sortable 1"]);
		expect((await p.http("GET", "/api/tasks?q=sortable", { token: other })).body.rows).toEqual([]);
		expect((await p.http("GET", "/api/tasks?cursor=nope", { token: ben })).status).toBe(400);
	});
});
