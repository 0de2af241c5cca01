import { Redis } from "ioredis";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const backends: [string, Record<string, string>][] = [
	["the service's collection", { REDIS_URL: "", CACHER: "" }],
	["Redis", { REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379" }],
];

describe.each(backends)("engagement: wallets on %s", (_name, env) => {
	let p: Platform;
	let ana: string, ben: string, admin: string;
	const me = async (token: string) => (await p.http("GET", "/api/gamification/me", { token })).body;
	/** waits until a wallet holds `n` entries (a handler's payouts land one after another), then answers the summary */
	const settled = async (token: string, currency: string, n: number) => {
		await waitFor(async () => (await p.http("GET", `/api/gamification/ledger/${currency}?limit=100`, { token })).body.rows.length >= n, {
			what: `${n} ${currency} entries`,
		});
		return me(token);
	};

	beforeAll(async () => {
		p = await startPlatform({ services: ["tasks", "taskversions", "gamification", "gamesettings"], env });
		ana = p.token({ sub: "ana", tid: "team-g", roles: ["member"] });
		ben = p.token({ sub: "ben", tid: "team-g", roles: ["member"] });
		admin = p.token({ sub: "boss", tid: "team-g", roles: ["admin"] });
	});
	afterAll(async () => {
		await p.stop();
		if (env.REDIS_URL) {
			// the ledger's keys of this run's namespace (proof that Redis held it, then cleaned)
			const redis = new Redis(env.REDIS_URL);
			const keys = await redis.keys(`${process.env.NAMESPACE}:eng:*`);
			expect(keys.length).toBeGreaterThan(0);
			await redis.del(...keys);
			await redis.quit();
		}
		process.env.REDIS_URL = "";
	});

	it("completing a task pays by the rules; a redelivered event pays once; reopening reverses it", async () => {
		const t = (
			await p.http("POST", "/api/tasks", { token: ana, body: { title: "On time", dueAt: new Date(Date.now() + 86_400_000).toISOString() } })
		).body;
		expect((await p.http("PATCH", `/api/tasks/${t.id}`, { token: ana, body: { status: "done" } })).status).toBe(200);
		// completed-xp 10 + streak-xp 2·1 + on-time-coins 5
		const after = await settled(ana, "xp", 2);
		expect(after.balances).toMatchObject({ xp: 12, coins: 5, gems: 0 });
		expect(after.counters).toMatchObject({ tasksCompleted: 1, streakDays: 1 });
		expect(after.badges.find((b: any) => b.id === "first-task")).toMatchObject({ earned: true, current: 1, target: 1 });

		// the same event again (a redelivery): nothing more
		const completedAt = new Date().toISOString();
		const event = { eventId: `task:${t.id}:completed:1`, tenantId: "team-g", taskId: t.id, userId: "ana", completedAt, dueAt: t.dueAt };
		// the channels middleware adds sendToChannel to the broker at run time
		const send = (p.broker as unknown as { sendToChannel(c: string, payload: unknown): Promise<void> }).sendToChannel.bind(p.broker);
		await send("tasks.completed", event);
		await send("tasks.completed", event);
		const marker = (await p.http("POST", "/api/tasks", { token: ana, body: { title: "marker" } })).body;
		await p.http("PATCH", `/api/tasks/${marker.id}`, { token: ana, body: { status: "done" } });
		const later = await settled(ana, "xp", 4);
		expect(later.balances).toMatchObject({ xp: 24, coins: 5 }); // marker: 10 + 2 (same day streak 1), no due date

		await p.http("PATCH", `/api/tasks/${t.id}`, { token: ana, body: { status: "doing" } });
		const reversed = await settled(ana, "xp", 6);
		expect(reversed.balances).toMatchObject({ xp: 12, coins: 0 });
		const ledger = (await p.http("GET", "/api/gamification/ledger/xp", { token: ana })).body.rows;
		expect(ledger.map((e: any) => e.amount)).toEqual([-2, -10, 2, 10, 2, 10]);
		expect(ledger.map((e: any) => e.sequence)).toEqual([6, 5, 4, 3, 2, 1]);
		expect(ledger[0].balanceAfter).toBe(12);
	});

	it("a tenant's own settings: its rules pay, its curve levels, bad settings are 422", async () => {
		const boss = p.token({ sub: "boss2", tid: "team-rules", roles: ["admin"] });
		const cy = p.token({ sub: "cy", tid: "team-rules", roles: ["member"] });
		const settings = {
			currencies: ["xp", "stars"],
			rules: [
				{ id: "done", on: "tasks.completed", currency: "stars", amount: 3 },
				{ id: "xp", on: "tasks.completed", currency: "xp", amount: 100 },
			],
			levelCurve: { base: 100, exponent: 1 },
			badges: [{ id: "two", name: "Two done", counter: "tasksCompleted", atLeast: 2 }],
		};
		expect((await p.http("PUT", "/api/gamification/settings", { token: cy, body: settings })).status).toBe(403);
		expect(
			(
				await p.http("PUT", "/api/gamification/settings", {
					token: boss,
					body: { ...settings, rules: [{ ...settings.rules[0], currency: "coins" }] },
				})
			).status,
		).toBe(422);
		expect(
			(await p.http("PUT", "/api/gamification/settings", { token: boss, body: { ...settings, rules: [settings.rules[0], settings.rules[0]] } }))
				.status,
		).toBe(422);
		expect((await p.http("PUT", "/api/gamification/settings", { token: boss, body: settings })).body).toMatchObject(settings);
		const t = (await p.http("POST", "/api/tasks", { token: cy, body: { title: "one" } })).body;
		await p.http("PATCH", `/api/tasks/${t.id}`, { token: cy, body: { status: "done" } });
		const m = await settled(cy, "xp", 1);
		expect(m.balances).toEqual({ xp: 100, stars: 3 });
		expect(m.level).toEqual({ level: 2, xp: 100, levelXp: 100, nextLevelXp: 200 });
		expect(m.badges).toEqual([{ id: "two", name: "Two done", counter: "tasksCompleted", current: 1, target: 2, earned: false }]);
		expect((await p.http("POST", "/api/gamification/spend", { token: cy, body: { currency: "coins", amount: 1, reason: "x" } })).status).toBe(
			422,
		);
	});

	it("parallel spends never overdraw: exactly balance / amount of them land", async () => {
		const award = await p.http("POST", "/api/gamification/awards", {
			token: admin,
			body: { userId: "ben", currency: "coins", amount: 100, reason: "seed", eventId: "seed-ben" },
		});
		expect(award.status).toBe(201);
		expect(award.headers.get("location")).toBe("/api/gamification/ledger/coins?userId=ben");
		const again = await p.http("POST", "/api/gamification/awards", {
			token: admin,
			body: { userId: "ben", currency: "coins", amount: 100, reason: "seed", eventId: "seed-ben" },
		});
		expect(again.status).toBe(200);
		const results = await Promise.all(
			Array.from({ length: 25 }, () =>
				p.http("POST", "/api/gamification/spend", { token: ben, body: { currency: "coins", amount: 7, reason: "shop" } }),
			),
		);
		const codes = results.map(r => r.status);
		expect(codes.filter(c => c === 201)).toHaveLength(14); // 14·7 = 98 ≤ 100 < 105
		expect(codes.filter(c => c === 409)).toHaveLength(11);
		expect(results.find(r => r.status === 409)!.body.code).toBe("INSUFFICIENT_FUNDS");
		expect((await me(ben)).balances.coins).toBe(2);
		const rows = (await p.http("GET", "/api/gamification/ledger/coins?limit=100", { token: ben })).body.rows;
		expect(rows.map((e: any) => e.sequence)).toEqual(Array.from({ length: 15 }, (_, i) => 15 - i));
		expect(rows.reduce((s: number, e: any) => s + e.amount, 0)).toBe(2);
	});

	it("a spend with an idempotency key lands once; transfers are one pair; bad input is 4xx and writes nothing", async () => {
		await p.http("POST", "/api/gamification/awards", {
			token: admin,
			body: { userId: "ana", currency: "gems", amount: 10, reason: "seed", eventId: "seed-ana-gems" },
		});
		const once = await Promise.all(
			[1, 2, 3].map(() =>
				p.http("POST", "/api/gamification/spend", {
					token: ana,
					body: { currency: "gems", amount: 3, reason: "hat", idempotencyKey: "hat-1" },
				}),
			),
		);
		expect(once.map(r => r.status).sort()).toEqual([200, 200, 201]);
		expect((await me(ana)).balances.gems).toBe(7);

		const tr = await p.http("POST", "/api/gamification/transfers", {
			token: ana,
			body: { toUserId: "ben", currency: "gems", amount: 4, reason: "gift" },
		});
		expect(tr.status).toBe(201);
		expect(tr.headers.get("location")).toBe("/api/gamification/ledger/gems");
		expect(tr.body.debit).toMatchObject({ userId: "ana", amount: -4, balanceAfter: 3 });
		expect(tr.body.credit).toMatchObject({ userId: "ben", amount: 4, balanceAfter: 4 });
		const tooMuch = await p.http("POST", "/api/gamification/transfers", {
			token: ana,
			body: { toUserId: "ben", currency: "gems", amount: 4, reason: "gift" },
		});
		expect(tooMuch.status).toBe(409);
		for (const body of [
			{ currency: "gold", amount: 1, reason: "x" },
			{ currency: "gems", amount: 1.5, reason: "x" },
			{ currency: "gems", amount: -1, reason: "x" },
			{ currency: "gems", amount: 0, reason: "x" },
		])
			expect((await p.http("POST", "/api/gamification/spend", { token: ana, body })).status).toBe(422);
		expect(
			(await p.http("POST", "/api/gamification/transfers", { token: ana, body: { toUserId: "ana", currency: "gems", amount: 1, reason: "x" } }))
				.status,
		).toBe(422);
		expect((await me(ana)).balances.gems).toBe(3);
		expect((await me(ben)).balances.gems).toBe(4);
		expect(
			(
				await p.http("POST", "/api/gamification/awards", {
					token: ana,
					body: { userId: "ana", currency: "gems", amount: 5, reason: "x", eventId: "self" },
				})
			).status,
		).toBe(403);
	});
	it("the leaderboard ranks the tenant's members by a currency: ties share a rank, you see your place, it moves with the wallets", async () => {
		const boss = p.token({ sub: "lb-boss", tid: "team-lb", roles: ["admin"] });
		const dee = p.token({ sub: "dee", tid: "team-lb", roles: ["member"] });
		const award = (userId: string, amount: number, eventId: string) =>
			p.http("POST", "/api/gamification/awards", { token: boss, body: { userId, currency: "xp", amount, reason: "test", eventId } });
		const board = async (token: string, top = 10) => (await p.http("GET", `/api/gamification/leaderboard/xp?top=${top}`, { token })).body;
		expect(await board(dee)).toEqual({ currency: "xp", total: 0, rows: [], me: null });
		await award("dee", 30, "lb-1");
		await award("eve", 50, "lb-2");
		await award("fay", 30, "lb-3");
		await award("gus", 5, "lb-4");
		const b = await board(dee, 3);
		expect(b.total).toBe(4);
		expect(b.rows).toEqual([
			{ userId: "eve", balance: 50, rank: 1 },
			{ userId: "dee", balance: 30, rank: 2 },
			{ userId: "fay", balance: 30, rank: 2 },
		]);
		expect(b.me).toEqual({ userId: "dee", balance: 30, rank: 2 });
		// it moves with the wallet
		await award("gus", 100, "lb-5");
		expect((await board(dee, 1)).rows).toEqual([{ userId: "gus", balance: 105, rank: 1 }]);
		// another tenant sees its own; an unknown currency is 422
		expect((await board(ana)).rows.every((r: any) => r.userId !== "gus")).toBe(true);
		expect((await p.http("GET", "/api/gamification/leaderboard/bananas", { token: dee })).status).toBe(422);
	});
});
