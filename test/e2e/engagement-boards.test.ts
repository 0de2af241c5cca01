import { Redis } from "ioredis";
import { startPlatform, type Platform } from "../helpers/platform";

/** The Elo update written out from the formula, independently of the service's code. */
function elo(ra: number, rb: number, s: number, k: number) {
	const ea = 1 / (1 + Math.pow(10, (rb - ra) / 400));
	const eb = 1 / (1 + Math.pow(10, (ra - rb) / 400));
	return [Math.round(ra + k * (s - ea)), Math.round(rb + k * (1 - s - eb))];
}

const backends: [string, Record<string, string>][] = [
	["the results collection", { REDIS_URL: "", CACHER: "" }],
	["Redis sorted sets", { REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379" }],
];

describe.each(backends)("engagement: ELO leaderboards on %s", (_name, env) => {
	let p: Platform;
	let admin: string;
	const token = (sub: string) => p.token({ sub, tid: "league", roles: ["member"] });

	beforeAll(async () => {
		p = await startPlatform({ services: ["leaderboards", "boardresults"], env });
		admin = p.token({ sub: "ref", tid: "league", roles: ["admin"] });
	});
	afterAll(async () => {
		await p.stop();
		if (env.REDIS_URL) {
			const redis = new Redis(env.REDIS_URL);
			const keys = await redis.keys(`${process.env.NAMESPACE}:eng:*`);
			expect(keys.length).toBeGreaterThan(0);
			await redis.del(...keys);
			await redis.quit();
		}
		process.env.REDIS_URL = "";
	});

	const result = (playerA: string, playerB: string, scoreA: number, eventId: string, board = "chess") =>
		p.http("POST", `/api/gamification/boards/${board}/results`, { token: admin, body: { playerA, playerB, scoreA, eventId } });

	it("moves ratings by the exact Elo value, once per eventId, and keeps the history", async () => {
		expect((await p.http("POST", "/api/gamification/boards", { token: admin, body: { key: "chess", name: "Chess", k: 24 } })).status).toBe(201);
		expect((await p.http("POST", "/api/gamification/boards", { token: admin, body: { key: "chess", name: "Again" } })).status).toBe(409);
		let r = { ana: 1200, ben: 1200, cy: 1200, dee: 1200 } as Record<string, number>;
		const games: [string, string, number][] = [
			["ana", "ben", 1],
			["ana", "cy", 1],
			["ben", "cy", 0.5],
			["dee", "ana", 1],
			["cy", "dee", 0],
		];
		const locations: string[] = [];
		for (const [i, [a, b, s]] of games.entries()) {
			const res = await result(a, b, s, `g${i}`);
			expect(res.status).toBe(201);
			expect(res.headers.get("location")).toBe(`/api/gamification/boards/chess/history?userId=${a}&season=1`);
			locations.push(res.headers.get("location")!);
			const [na, nb] = elo(r[a], r[b], s, 24);
			expect(res.body).toMatchObject({ a: { userId: a, before: r[a], after: na }, b: { userId: b, before: r[b], after: nb } });
			r = { ...r, [a]: na, [b]: nb };
		}
		// a repeated result counts once: 200 with the result first recorded (listed once where the first 201 pointed)
		const again = await result("ana", "ben", 1, "g0");
		expect(again.status).toBe(200);
		expect(again.body).toMatchObject({ duplicate: true, eventId: "result:g0", a: { before: 1200, after: 1212 } });
		const listed = await p.http("GET", locations[0], { token: token("ben") });
		expect(listed.body.filter((h: any) => h.eventId === "result:g0")).toHaveLength(1);
		const board = await p.http("GET", "/api/gamification/boards/chess?top=10", { token: token("ana") });
		const expected = Object.entries(r).sort(([x, a], [y, b]) => b - a || (x < y ? -1 : 1));
		expect(board.body.top.map((s: any) => [s.userId, s.rating])).toEqual(expected);
		expect(board.body.top[0].rank).toBe(1);

		const me = await p.http("GET", "/api/gamification/boards/chess/me?around=1", { token: token("cy") });
		const pos = expected.findIndex(([u]) => u === "cy");
		expect(me.body).toMatchObject({ rating: r.cy, rank: pos + 1 });
		expect(me.body.neighbours.map((s: any) => s.userId)).toEqual(expected.slice(Math.max(0, pos - 1), pos + 2).map(([u]) => u));
		const newbie = await p.http("GET", "/api/gamification/boards/chess/me", { token: token("zed") });
		expect(newbie.body).toMatchObject({ rating: 1200, neighbours: [] });

		const hist = await p.http("GET", "/api/gamification/boards/chess/history?userId=ana", { token: token("ben") });
		expect(hist.body.map((h: any) => h.eventId)).toEqual(["result:g0", "result:g1", "result:g3"]);
	});

	it("parallel results on one board apply one after another (no lost update)", async () => {
		await p.http("POST", "/api/gamification/boards", { token: admin, body: { key: "duel", name: "Duel" } });
		const all = await Promise.all(Array.from({ length: 8 }, (_, i) => result("x", "y", 1, `d${i}`, "duel")));
		expect(all.every(res => res.status === 201)).toBe(true);
		let [x, y] = [1200, 1200];
		for (let i = 0; i < 8; i++) [x, y] = elo(x, y, 1, 32);
		const top = (await p.http("GET", "/api/gamification/boards/duel", { token: admin })).body.top;
		expect(top.map((s: any) => [s.userId, s.rating])).toEqual([
			["x", x],
			["y", y],
		]);
	});

	it("a new season archives the old standings and starts everyone at 1200", async () => {
		const before = (await p.http("GET", "/api/gamification/boards/chess", { token: admin })).body.top;
		const next = await p.http("POST", "/api/gamification/boards/chess/seasons", { token: admin, body: {} });
		expect(next.body).toMatchObject({ season: 2, archivedSeason: 1 });
		expect((await p.http("GET", "/api/gamification/boards/chess", { token: admin })).body.top).toEqual([]);
		expect((await p.http("GET", "/api/gamification/boards/chess?season=1", { token: admin })).body.top).toEqual(before);
		const first = await result("ana", "ben", 0, "s2g1");
		expect(first.body).toMatchObject({ a: { before: 1200, after: elo(1200, 1200, 0, 24)[0] } });
		expect((await p.http("GET", "/api/gamification/boards/nope", { token: admin })).status).toBe(404);
		expect(
			(await p.http("GET", "/api/gamification/boards/chess", { token: p.token({ sub: "o", tid: "other", roles: ["member"] }) })).status,
		).toBe(404);
	});
});
