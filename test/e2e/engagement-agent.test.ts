import { startPlatform, type Platform } from "../helpers/platform";
import { startFakeLlm, type FakeLlm } from "../helpers/fake-llm";

const SERVICES = ["agent", "challenges", "tasks", "taskversions", "gamification", "gamesettings", "leaderboards", "boardresults"];
const understand = (p: Platform, token: string, body: Record<string, unknown>) => p.http("POST", "/api/agent/understand-task", { token, body });

describe("engagement agent API: the offline generator", () => {
	let p: Platform;
	let ana: string;
	beforeAll(async () => {
		p = await startPlatform({ services: SERVICES, env: { LLM_BASE_URL: "", REDIS_URL: "", CACHER: "" } });
		ana = p.token({ sub: "ana", tid: "t-agent", roles: ["member"] });
	});
	afterAll(() => p.stop());

	it("understands a sentence in the caller's time zone", async () => {
		const text = "call Ana tomorrow at 3pm about the Q3 report, high priority";
		const lisbon = await understand(p, ana, { text, timeZone: "Europe/Lisbon", now: "2026-12-02T10:00:00Z" });
		expect(lisbon.status).toBe(200);
		expect(lisbon.body).toEqual({
			title: "Call Ana about the Q3 report",
			dueAt: "2026-12-03T15:00:00.000Z",
			priority: "high",
			tags: ["q3"],
			generator: "offline",
		});
		const ny = await understand(p, ana, { text, timeZone: "America/New_York", now: "2026-12-02T10:00:00Z" });
		expect(ny.body.dueAt).toBe("2026-12-03T20:00:00.000Z");
		// 23:30 UTC is already the next day in Berlin: "tomorrow" is the day after that
		const late = await understand(p, ana, { text, timeZone: "Europe/Berlin", now: "2026-12-02T23:30:00Z" });
		expect(late.body.dueAt).toBe("2026-12-04T14:00:00.000Z");
		expect((await understand(p, ana, { text, timeZone: "Mars/Olympus" })).status).toBe(422);
		expect((await understand(p, ana, { text: "" })).status).toBe(422);
	});

	it("generates the same challenge for the same inputs", async () => {
		for (const title of ["a", "b", "c"])
			await p.http("POST", "/api/tasks", { token: ana, body: { title, tags: title === "c" ? ["home"] : ["work"] } });
		const one = (await p.http("POST", "/api/challenges/generate", { token: ana, body: {} })).body;
		const two = (await p.http("POST", "/api/challenges/generate", { token: ana, body: {} })).body;
		const spec = (c: any) => ({
			title: c.title,
			target: c.target,
			tag: c.tag,
			reward: c.reward,
			durationHours: c.durationHours,
			generator: c.generator,
		});
		expect(spec(one)).toEqual({
			title: 'finish 2 "work" tasks',
			target: 2,
			tag: "work",
			reward: { currency: "coins", amount: 20 },
			durationHours: 72,
			generator: "offline",
		});
		expect(spec(two)).toEqual(spec(one));
	});

	it("an accepted duel whose time is up expires when read, and counts as lost on the board", async () => {
		const duel = (await p.http("POST", "/api/challenges/generate", { token: ana, body: { opponentId: "ben" } })).body;
		expect((await p.http("POST", `/api/challenges/${duel.id}/expire`, { token: ana, body: {} })).status).toBe(409); // not due yet
		expect((await p.http("POST", `/api/challenges/${duel.id}/accept`, { token: ana, body: {} })).status).toBe(200);
		// the clock, moved in the store (the test's view): the challenge ended an hour ago
		const store = p.broker.getLocalService("challenges") as unknown as { adapter: { updateMany(q: object, u: object): Promise<number> } };
		await store.adapter.updateMany({ _id: duel.id }, { $set: { expiresAt: new Date(Date.now() - 3_600_000).toISOString() } });
		const read = await p.http("GET", `/api/challenges/${duel.id}`, { token: ana });
		expect(read.body.status).toBe("expired");
		expect((await p.http("POST", `/api/challenges/${duel.id}/complete`, { token: ana, body: {} })).status).toBe(409);
		const board = (await p.http("GET", "/api/gamification/boards/challenges", { token: ana })).body;
		expect(board.top.map((s: any) => [s.userId, s.rating])).toEqual([
			["ben", 1216],
			["ana", 1184],
		]);
	});
});

describe("engagement agent API: the LLM adapter against a fake server", () => {
	let p: Platform;
	let llm: FakeLlm;
	let ana: string;
	const good = { title: "Call Ana re Q3", dueAt: "2026-12-03T15:00:00+00:00", priority: "high", tags: ["Q3", "calls"] };
	const ask = () =>
		understand(p, ana, { text: "call Ana tomorrow at 3pm about the Q3 report, high priority", timeZone: "UTC", now: "2026-12-02T10:00:00Z" });

	beforeAll(async () => {
		llm = await startFakeLlm();
		p = await startPlatform({
			services: SERVICES,
			env: {
				LLM_BASE_URL: llm.baseUrl,
				LLM_MODEL: "test-model",
				LLM_API_KEY: "sk-test",
				LLM_TIMEOUT_MS: "300",
				LLM_RETRIES: "1",
				LLM_BREAKER_THRESHOLD: "3",
				LLM_BREAKER_COOLDOWN_MS: "60000",
				REDIS_URL: "",
				CACHER: "",
			},
		});
		ana = p.token({ sub: "ana", tid: "t-llm", roles: ["member"] });
	});
	afterAll(async () => {
		await p.stop();
		await llm.close();
		process.env.LLM_BASE_URL = "";
	});

	it("uses a valid answer, sending the model, the key and the schema", async () => {
		llm.script.push({ content: JSON.stringify(good) });
		const res = await ask();
		expect(res.body).toEqual({
			title: "Call Ana re Q3",
			dueAt: "2026-12-03T15:00:00.000Z",
			priority: "high",
			tags: ["q3", "calls"],
			generator: "llm",
		});
		const req = llm.requests.at(-1)!;
		expect(req.headers.authorization).toBe("Bearer sk-test");
		expect(req.body).toMatchObject({
			model: "test-model",
			temperature: 0,
			response_format: { type: "json_schema", json_schema: { name: "understand" } },
		});
		expect(req.body.response_format.json_schema.schema.required).toEqual(["title", "dueAt", "priority", "tags"]);
	});

	it("an answer outside the schema, or not JSON, falls back to the offline answer, and the log says why", async () => {
		const agent = p.broker.getLocalService("agent")!;
		const warn = jest.spyOn(agent.logger, "warn");
		for (const content of [
			JSON.stringify({ ...good, priority: "extreme" }),
			JSON.stringify({ ...good, extra: 1 }),
			"Sure! Here is your task: …",
			JSON.stringify({ ...good, dueAt: "soon" }),
		]) {
			llm.script.push({ content });
			const res = await ask();
			expect(res.body).toMatchObject({ title: "Call Ana about the Q3 report", priority: "high", generator: "offline" });
		}
		expect(warn.mock.calls.map(c => (c[1] as { reason: string }).reason)).toEqual([
			"the answer does not match the schema: $.priority: not one of low, medium, high, urgent",
			"the answer does not match the schema: $.extra: not allowed",
			"the answer is not JSON",
			"dueAt is not a date: soon",
		]);
		warn.mockRestore();
	});

	it("challenges through the adapter: a valid answer is used, a reward in an unknown currency is not", async () => {
		await p.http("POST", "/api/tasks", { token: ana, body: { title: "x", tags: ["work"] } });
		const spec = {
			title: "Ship one work task",
			description: "Today.",
			target: 1,
			tag: "work",
			reward: { currency: "gems", amount: 3 },
			durationHours: 24,
		};
		llm.script.push({ content: JSON.stringify(spec) });
		const used = (await p.http("POST", "/api/challenges/generate", { token: ana, body: {} })).body;
		expect(used).toMatchObject({ ...spec, generator: "llm", status: "offered" });
		expect(llm.requests.at(-1)!.body.response_format.json_schema.schema.properties.reward.properties.currency.enum).toEqual([
			"xp",
			"coins",
			"gems",
		]);
		llm.script.push({ content: JSON.stringify({ ...spec, reward: { currency: "gold", amount: 3 } }) });
		const fallback = (await p.http("POST", "/api/challenges/generate", { token: ana, body: {} })).body;
		expect(fallback).toMatchObject({ generator: "offline", tag: "work", reward: { currency: "coins", amount: 10 } });
	});

	it("retries a 5xx with backoff; a timeout falls back; the breaker then answers offline without calling", async () => {
		llm.script.push({ status: 502 }, { content: JSON.stringify(good) });
		let before = llm.requests.length;
		expect((await ask()).body.generator).toBe("llm");
		expect(llm.requests.length - before).toBe(2);

		// three failed requests in a row open the breaker (threshold 3): a timeout and its retry, then a 503 with its retry
		llm.script.push({ delayMs: 1000, content: JSON.stringify(good) }, { delayMs: 1000, content: JSON.stringify(good) });
		expect((await ask()).body.generator).toBe("offline");
		llm.script.push({ status: 503 }, { status: 503 });
		expect((await ask()).body.generator).toBe("offline");
		before = llm.requests.length;
		llm.script.push({ content: JSON.stringify(good) });
		expect((await ask()).body.generator).toBe("offline");
		expect(llm.requests.length).toBe(before); // the open breaker did not call
	});
});
