import { startPlatform, type Platform } from "../helpers/platform";

describe("engagement: skill trees", () => {
	let p: Platform;
	let admin: string, ana: string;

	beforeAll(async () => {
		p = await startPlatform({ services: ["skills", "gamification", "gamesettings"], env: { REDIS_URL: "", CACHER: "" } });
		admin = p.token({ sub: "boss", tid: "guild", roles: ["admin"] });
		ana = p.token({ sub: "ana", tid: "guild", roles: ["member"] });
	});
	afterAll(() => p.stop());

	const skill = (body: Record<string, unknown>) => p.http("POST", "/api/skills", { token: admin, body });
	const tree = async () => Object.fromEntries(((await p.http("GET", "/api/skills", { token: ana })).body as any[]).map(s => [s.key, s.state]));

	it("rejects cycles, unknown prerequisites and currencies; unlocking spends once and follows the prerequisites", async () => {
		const focus = await skill({ key: "focus", name: "Focus", cost: { currency: "coins", amount: 10 } });
		expect([focus.status, focus.headers.get("location")]).toEqual([201, "/api/skills"]);
		expect((await skill({ key: "deep-work", name: "Deep work", cost: { currency: "coins", amount: 15 }, prerequisites: ["focus"] })).status).toBe(
			201,
		);
		expect((await skill({ key: "flow", name: "Flow", cost: { currency: "gems", amount: 0 }, prerequisites: ["deep-work"] })).status).toBe(201);
		expect((await skill({ key: "x", name: "X", cost: { currency: "gold", amount: 1 } })).status).toBe(422);
		expect((await skill({ key: "y", name: "Y", cost: { currency: "coins", amount: 1 }, prerequisites: ["nope"] })).status).toBe(422);
		expect((await skill({ key: "z", name: "Z", cost: { currency: "coins", amount: 1.5 } })).status).toBe(422);
		const cycle = await p.http("PATCH", "/api/skills/focus", { token: admin, body: { prerequisites: ["flow"] } });
		expect(cycle.status).toBe(422);
		expect(cycle.body.detail).toContain("flow -> focus -> deep-work -> flow");

		expect(await tree()).toEqual({ "deep-work": "locked", flow: "locked", focus: "unlockable" });
		const broke = await p.http("POST", "/api/skills/focus/unlock", { token: ana, body: {} });
		expect(broke.status).toBe(409);
		expect(broke.body.code).toBe("INSUFFICIENT_FUNDS");
		await p.http("POST", "/api/gamification/awards", {
			token: admin,
			body: { userId: "ana", currency: "coins", amount: 20, reason: "seed", eventId: "seed" },
		});
		const locked = await p.http("POST", "/api/skills/deep-work/unlock", { token: ana, body: {} });
		expect(locked.status).toBe(409);
		expect(locked.body.detail).toContain("focus");
		const both = await Promise.all([1, 2, 3].map(() => p.http("POST", "/api/skills/focus/unlock", { token: ana, body: {} })));
		// unlocking changes the skill's state for you (nothing with a URL of its own): 200
		expect(both.map(r => r.status)).toEqual([200, 200, 200]);
		const me = (await p.http("GET", "/api/gamification/me", { token: ana })).body;
		expect(me.balances.coins).toBe(10);
		expect(await tree()).toEqual({ "deep-work": "unlockable", flow: "locked", focus: "unlocked" });
		expect((await p.http("POST", "/api/skills/deep-work/unlock", { token: ana, body: {} })).status).toBe(409); // 10 < 15
		expect(
			(await p.http("POST", "/api/skills/focus/unlock", { token: p.token({ sub: "eve", tid: "other", roles: ["member"] }), body: {} })).status,
		).toBe(404);
	});
});
