import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

/** Elo from the formula: E = 1 / (1 + 10^((Rb − Ra)/400)), R' = round(R + K(S − E)). */
const elo = (ra: number, rb: number, s: number, k = 32) => Math.round(ra + k * (s - 1 / (1 + 10 ** ((rb - ra) / 400))));

describe("engagement journey over HTTP: tasks → xp and coins → level and badge → skill → challenge won → rating", () => {
	let p: Platform;
	let ana: string, ben: string, admin: string;
	const me = async () => (await p.http("GET", "/api/gamification/me", { token: ana })).body;

	beforeAll(async () => {
		p = await startPlatform({ services: ["engagement"], env: { REDIS_URL: "", CACHER: "", LLM_BASE_URL: "" } });
		ana = p.token({ sub: "ana", tid: "studio", roles: ["member"] });
		ben = p.token({ sub: "ben", tid: "studio", roles: ["member"] });
		admin = p.token({ sub: "lead", tid: "studio", roles: ["admin"] });
	});
	afterAll(() => p.stop());

	const task = async (token: string, body: Record<string, unknown>) => {
		const res = await p.http("POST", "/api/tasks", { token, body });
		expect(res.status).toBe(201);
		return res.body;
	};
	const finish = async (id: string) =>
		expect((await p.http("PATCH", `/api/tasks/${id}`, { token: ana, body: { status: "done" } })).status).toBe(200);

	it("plays the whole loop with exact numbers", async () => {
		// 1. five tasks done on time: each pays 10 xp + 2 xp (streak of 1 day) + 5 coins
		const due = new Date(Date.now() + 2 * 86_400_000).toISOString();
		for (let i = 0; i < 5; i++) await finish((await task(ana, { title: `Task ${i}`, dueAt: due })).id);
		// a completion's payouts land one after another: wait for all ten xp entries (and the five coin ones)
		const entries = async (currency: string) =>
			(await p.http("GET", `/api/gamification/ledger/${currency}?limit=100`, { token: ana })).body.rows.length;
		await waitFor(async () => (await entries("xp")) >= 10 && (await entries("coins")) >= 5, { what: "five payouts" });
		const paid = await me();
		expect(paid.balances).toMatchObject({ xp: 60, coins: 25 });

		// 2. level 2 at 50 xp (base 50 · (L − 1)²), and the first-task badge, once
		expect(paid.level).toEqual({ level: 2, xp: 60, levelXp: 50, nextLevelXp: 200 });
		expect(paid.badges.find((b: any) => b.id === "first-task")).toMatchObject({ earned: true });
		expect(paid.badges.find((b: any) => b.id === "ten-tasks")).toMatchObject({ earned: false, current: 5, target: 10 });

		// 3. a skill for 10 coins
		expect(
			(await p.http("POST", "/api/skills", { token: admin, body: { key: "focus", name: "Focus", cost: { currency: "coins", amount: 10 } } }))
				.status,
		).toBe(201);
		expect((await p.http("POST", "/api/skills/focus/unlock", { token: ana, body: {} })).status).toBe(200);
		expect((await me()).balances.coins).toBe(15);
		const tree = (await p.http("GET", "/api/skills", { token: ana })).body;
		expect(tree).toEqual([expect.objectContaining({ key: "focus", state: "unlocked" })]);

		// 4. a duel against Ben: finish 2 "work" tasks
		const work = [await task(ana, { title: "Draft", tags: ["work"] }), await task(ana, { title: "Review", tags: ["work"] })];
		const gen = await p.http("POST", "/api/challenges/generate", { token: ana, body: { opponentId: "ben" } });
		expect(gen.status).toBe(201);
		expect(gen.body).toMatchObject({ target: 2, tag: "work", reward: { currency: "coins", amount: 30 }, status: "offered", opponentId: "ben" });
		const id = gen.body.id;
		expect((await p.http("POST", `/api/challenges/${id}/complete`, { token: ana, body: {} })).status).toBe(409); // not accepted
		expect((await p.http("POST", `/api/challenges/${id}/accept`, { token: ben, body: {} })).status).toBe(403); // not Ben's to accept
		expect((await p.http("POST", `/api/challenges/${id}/accept`, { token: ana, body: {} })).body.status).toBe("accepted");
		await finish(work[0].id);
		const early = await p.http("POST", `/api/challenges/${id}/complete`, { token: ana, body: {} });
		expect(early.status).toBe(409);
		expect(early.body.detail).toContain("1 of 2");
		await finish(work[1].id);
		await waitFor(async () => (await entries("xp")) >= 14, { what: "work payouts" });
		const coinsBefore = (await me()).balances.coins;
		const won = await p.http("POST", `/api/challenges/${id}/complete`, { token: ana, body: {} });
		expect(won.status).toBe(200);
		expect(won.body.challenge.status).toBe("won");

		// 5. the reward, the win counter and the rating moved by the exact Elo value
		const after = await me();
		expect(after.balances.coins).toBe(coinsBefore + 30);
		expect(after.counters.challengesWon).toBe(1);
		expect(won.body.rating).toMatchObject({
			a: { userId: "ana", before: 1200, after: elo(1200, 1200, 1) },
			b: { userId: "ben", before: 1200, after: elo(1200, 1200, 0) },
		});
		const board = (await p.http("GET", "/api/gamification/boards/challenges", { token: ben })).body;
		expect(board.top.map((s: any) => [s.userId, s.rating, s.rank])).toEqual([
			["ana", 1216, 1],
			["ben", 1184, 2],
		]);
		expect((await p.http("POST", `/api/challenges/${id}/complete`, { token: ana, body: {} })).status).toBe(409); // once
		expect((await me()).balances.coins).toBe(coinsBefore + 30);
	});
});
