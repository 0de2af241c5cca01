/**
 * Team wallets (`/api/teams`): awards once per eventId, parallel spends of members exact, outsiders
 * 403, a team task's completion paying the team by the `team-coins` rule; and the challenge sweeper
 * (job `engagement.expire-challenges`) expiring a challenge nobody reads.
 */
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const TENANT = "t-teams";

describe("engagement: team wallets", () => {
	let p: Platform;
	let ana: string, ben: string, carl: string, admin: string;
	let teamId: string;
	const wallet = async (token: string) => p.http("GET", `/api/teams/${teamId}/wallet`, { token });

	beforeAll(async () => {
		p = await startPlatform({
			services: ["teams", "tasks", "taskversions", "gamification", "gamesettings"],
			env: { REDIS_URL: "", CACHER: "" },
		});
		ana = p.token({ sub: "ana", tid: TENANT, roles: ["member"] });
		ben = p.token({ sub: "ben", tid: TENANT, roles: ["member"] });
		carl = p.token({ sub: "carl", tid: TENANT, roles: ["member"] });
		admin = p.token({ sub: "boss", tid: TENANT, roles: ["admin"] });
		const team = await p.http("POST", "/api/teams", { token: admin, body: { name: "Blue", members: ["ana", "ben"] } });
		expect(team.status).toBe(201);
		expect(team.body.members).toEqual(["ana", "ben"]);
		teamId = team.body.id;
		expect(team.headers.get("location")).toBe(`/api/teams/${teamId}`);
	});
	afterAll(() => p?.stop());

	it("credits an award once per eventId", async () => {
		const body = { currency: "coins", amount: 100, reason: "season prize", eventId: "prize-1" };
		const first = await p.http("POST", `/api/teams/${teamId}/awards`, { token: admin, body });
		expect(first.status).toBe(201);
		expect(first.headers.get("location")).toBe(`/api/teams/${teamId}/wallet`);
		const again = await p.http("POST", `/api/teams/${teamId}/awards`, { token: admin, body });
		expect(again.status).toBe(200);
		expect(again.body.id).toBe(first.body.id);
		expect((await wallet(ana)).body).toEqual({ teamId, balances: { coins: 100 } });
		// a member may not award, and the team's wallet is not a user's
		expect((await p.http("POST", `/api/teams/${teamId}/awards`, { token: ana, body: { ...body, eventId: "x" } })).status).toBe(403);
		const asUser = await p.http("POST", "/api/gamification/awards", { token: admin, body: { ...body, userId: `team:${teamId}` } });
		expect(asUser.status).toBe(422);
	});

	it("25 parallel spends of 7 by two members from 100: 14 land, 2 left, never below 0", async () => {
		const results = await Promise.all(
			Array.from({ length: 25 }, (_, i) =>
				p.http("POST", `/api/teams/${teamId}/spend`, {
					token: i % 2 ? ana : ben,
					body: { currency: "coins", amount: 7, reason: `round ${i}` },
				}),
			),
		);
		const statuses = results.map(r => r.status);
		expect(statuses.filter(s => s === 201)).toHaveLength(14);
		expect(statuses.filter(s => s === 409)).toHaveLength(11);
		expect(results.find(r => r.status === 409)!.body.code).toBe("INSUFFICIENT_FUNDS");
		expect((await wallet(ben)).body.balances.coins).toBe(2);
	});

	it("spends once per idempotency key, and refuses (403) anyone outside the team", async () => {
		const body = { currency: "coins", amount: 1, reason: "snack", idempotencyKey: "k-1" };
		const first = await p.http("POST", `/api/teams/${teamId}/spend`, { token: ana, body });
		expect(first.status).toBe(201);
		const retry = await p.http("POST", `/api/teams/${teamId}/spend`, { token: ben, body });
		expect(retry.status).toBe(200);
		expect(retry.body.id).toBe(first.body.id);
		expect((await wallet(ana)).body.balances.coins).toBe(1);

		expect((await p.http("POST", `/api/teams/${teamId}/spend`, { token: carl, body: { ...body, idempotencyKey: "k-2" } })).status).toBe(403);
		expect((await p.http("POST", `/api/teams/${teamId}/spend`, { token: admin, body: { ...body, idempotencyKey: "k-3" } })).status).toBe(403);
		expect((await wallet(carl)).status).toBe(403);
		expect((await wallet(admin)).status).toBe(200);
		expect((await wallet(ana)).body.balances.coins).toBe(1);
		// another tenant does not see the team at all
		const other = p.token({ sub: "ana", tid: "t-other", roles: ["member"] });
		expect((await p.http("POST", `/api/teams/${teamId}/spend`, { token: other, body })).status).toBe(404);
	});

	it("members change by admins; a new member may spend", async () => {
		const added = await p.http("POST", `/api/teams/${teamId}/members`, { token: admin, body: { userId: "carl" } });
		expect(added.status).toBe(200);
		expect(added.body.members).toEqual(["ana", "ben", "carl"]);
		const spent = await p.http("POST", `/api/teams/${teamId}/spend`, { token: carl, body: { currency: "coins", amount: 1, reason: "in" } });
		expect(spent.status).toBe(201);
		const removed = await p.http("DELETE", `/api/teams/${teamId}/members/carl`, { token: admin });
		expect(removed.body.members).toEqual(["ana", "ben"]);
		expect(
			(await p.http("POST", `/api/teams/${teamId}/spend`, { token: carl, body: { currency: "coins", amount: 1, reason: "out" } })).status,
		).toBe(403);
	});

	it("a team task's completion pays the team wallet by the team-coins rule (once), a reopen reverses it", async () => {
		expect((await p.http("POST", "/api/tasks", { token: ana, body: { title: "nope", teamId: "no-such-team" } })).status).toBe(422);
		const task = (await p.http("POST", "/api/tasks", { token: ana, body: { title: "Team report", teamId } })).body;
		expect(task.teamId).toBe(teamId);
		const before = (await wallet(ana)).body.balances.coins;
		expect((await p.http("PATCH", `/api/tasks/${task.id}`, { token: ana, body: { status: "done" } })).status).toBe(200);
		await waitFor(async () => (await wallet(ana)).body.balances.coins === before + 5, { what: "the team's 5 coins" });
		// ana herself is paid by the user rules (xp), not the team's coins
		await waitFor(async () => (await p.http("GET", "/api/gamification/me", { token: ana })).body.balances.xp === 12, { what: "ana's xp" });
		expect((await p.http("GET", "/api/gamification/me", { token: ana })).body.balances.coins).toBe(0);
		expect((await p.http("PATCH", `/api/tasks/${task.id}`, { token: ana, body: { status: "todo" } })).status).toBe(200);
		await waitFor(async () => (await wallet(ana)).body.balances.coins === before, { what: "the reversal" });
	});
});

describe("engagement: the challenge sweeper", () => {
	let p: Platform;
	let ana: string;
	beforeAll(async () => {
		p = await startPlatform({
			services: ["jobs", "scheduler", "challenges", "tasks", "taskversions", "gamification", "gamesettings", "leaderboards", "boardresults"],
			env: { REDIS_URL: "", CACHER: "", LLM_BASE_URL: "" },
		});
		ana = p.token({ sub: "ana", tid: TENANT, roles: ["member"] });
	});
	afterAll(() => p?.stop());

	it("declares its platform schedule", async () => {
		const scheduler = p.broker.getLocalService("scheduler") as unknown as { store: { get(id: string): Promise<Record<string, unknown> | null> } };
		const row = await waitFor(() => scheduler.store.get("engagement-expire-challenges"), { what: "the sweeper's schedule" });
		expect(row).toMatchObject({ tenantId: null, jobType: "engagement.expire-challenges", cron: "*/5 * * * *" });
	});

	it("expires an overdue challenge that nobody reads, and leaves a current one alone", async () => {
		const overdue = (await p.http("POST", "/api/challenges/generate", { token: ana, body: {} })).body;
		const current = (await p.http("POST", "/api/challenges/generate", { token: ana, body: {} })).body;
		// the clock, moved in the store (the test's view): the first challenge ended an hour ago
		const store = p.broker.getLocalService("challenges") as unknown as { adapter: { updateMany(q: object, u: object): Promise<number> } };
		await store.adapter.updateMany({ _id: overdue.id }, { $set: { expiresAt: new Date(Date.now() - 3_600_000).toISOString() } });
		const job = await p.broker.call<{ id: string }, object>("jobs.add", { type: "engagement.expire-challenges", tenantId: null });
		const done = await waitFor(
			async () => {
				const r = await p.broker.call<{ status: string; result: unknown } | null, object>("jobs.find", { id: job.id });
				return r?.status === "completed" ? r : null;
			},
			{ what: "the sweep job" },
		);
		expect(done?.result).toEqual({ expired: 1 });
		// the list does not expire on read: what it shows is what the sweeper stored
		const expired = (await p.http("GET", "/api/challenges?status=expired", { token: ana })).body;
		expect(expired.map((c: { id: string }) => c.id)).toEqual([overdue.id]);
		const offered = (await p.http("GET", "/api/challenges?status=offered", { token: ana })).body;
		expect(offered.map((c: { id: string }) => c.id)).toEqual([current.id]);
	});
});
