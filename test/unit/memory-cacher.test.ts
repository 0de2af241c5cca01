/**
 * The lean memory cacher (lib/memory-cacher.ts) answers and counts like Moleculer's own: the same
 * hits, misses, expiries and copies, the same values of its get metrics, side by side on two brokers;
 * and a caller that only serializes the answer is handed the frozen cached answer, no one else is.
 */
import { Cachers, ServiceBroker } from "moleculer";
import { answerJson, LeanMemoryCacher } from "../../lib/memory-cacher";
import { plainClone } from "../../lib/plain-clone";
import { MetricsMiddleware } from "../../middlewares/metrics.middleware";

const GET_METRICS = ["moleculer.cacher.get.total", "moleculer.cacher.found.total", "moleculer.cacher.expired.total"];

function brokerWith(cacher: InstanceType<typeof Cachers.Memory>) {
	return new ServiceBroker({
		logger: false,
		cacher,
		metrics: { enabled: true, reporter: [] },
		middlewares: [MetricsMiddleware as never],
	});
}

/** the counters' values and the number of get times observed */
function counts(broker: ServiceBroker) {
	// Moleculer types a listed metric's values as a Map; list() hands out its snapshot, an array
	const list = broker.metrics.list({ includes: ["moleculer.cacher.**"] }) as unknown as {
		name: string;
		values: { value?: number; count?: number }[];
	}[];
	const of = (name: string) => list.find(m => m.name === name)?.values[0];
	return {
		...Object.fromEntries(GET_METRICS.map(n => [n, of(n)?.value ?? 0])),
		timed: of("moleculer.cacher.get.time")?.count ?? 0,
	};
}

describe("LeanMemoryCacher", () => {
	const stock = new Cachers.Memory({ ttl: 10, clone: plainClone });
	const lean = new LeanMemoryCacher({ ttl: 10, clone: plainClone });
	const brokers = [brokerWith(stock), brokerWith(lean)];
	let clock = Date.now();
	const now = jest.spyOn(Date, "now").mockImplementation(() => clock);

	beforeAll(() => Promise.all(brokers.map(b => b.start())));
	afterAll(async () => {
		await Promise.all(brokers.map(b => b.stop()));
		now.mockRestore();
	});

	it("hits, misses, copies and expires like Moleculer's, with the same metric values", async () => {
		const answers: unknown[][] = [];
		for (const cacher of [stock, lean]) {
			const seen: unknown[] = [];
			seen.push(await cacher.get("posts.get:p1"));
			await cacher.set("posts.get:p1", { id: "p1", tags: ["a"] });
			const hit = (await cacher.get("posts.get:p1")) as { tags: string[] };
			seen.push(structuredClone(hit));
			hit.tags.push("changed by the caller");
			seen.push(await cacher.get("posts.get:p1"));
			seen.push(await cacher.get("posts.get:other"));
			answers.push(seen);
		}
		expect(answers[1]).toStrictEqual(answers[0]);
		expect(answers[1]).toEqual([undefined, { id: "p1", tags: ["a"] }, { id: "p1", tags: ["a"] }, undefined]);

		clock += 11_000;
		for (const cacher of [stock, lean]) expect(await cacher.get("posts.get:p1")).toBeUndefined();
		clock -= 11_000;
		// the expired entry is gone from both: not found again once the clock is back
		for (const cacher of [stock, lean]) expect(await cacher.get("posts.get:p1")).toBeUndefined();

		const [want, got] = brokers.map(counts);
		expect(got).toEqual(want);
		expect(got).toEqual({
			"moleculer.cacher.get.total": 6,
			"moleculer.cacher.found.total": 3,
			"moleculer.cacher.expired.total": 1,
			timed: 6,
		});
	});
});

describe("LeanMemoryCacher, a caller that only serializes the answer", () => {
	const broker = new ServiceBroker({ logger: false, cacher: new LeanMemoryCacher({ ttl: 10, clone: plainClone }) });
	let handled = 0;
	broker.createService({
		name: "posts",
		actions: {
			get: {
				cache: { keys: ["id"] },
				handler: ctx => (handled++, { id: ctx.params.id, tags: ["a"], at: ctx.params.withDate ? new Date(0) : null }),
			},
		},
	});
	broker.createService({
		name: "feed",
		actions: {
			// changes the answer it got: a caller of the kind the copy is there for
			read: {
				handler: async ctx => {
					const post = (await ctx.call("posts.get", { id: "p1" })) as { tags: string[] };
					post.tags.push("changed by feed");
					return post;
				},
			},
		},
	});
	const serializing = { answerOnlySerialized: true };
	type Post = { id: string; tags: string[] };

	beforeAll(() => broker.start());
	afterAll(() => broker.stop());

	it("hands it the cached answer itself, frozen; every other caller a copy of its own", async () => {
		await broker.call("posts.get", { id: "p1" }, serializing); // the miss
		const hit = await broker.call<Post, object>("posts.get", { id: "p1" }, serializing);
		expect(await broker.call("posts.get", { id: "p1" }, serializing)).toBe(hit);
		expect(Object.isFrozen(hit) && Object.isFrozen(hit.tags)).toBe(true);
		expect(() => hit.tags.push("x")).toThrow(TypeError);

		const copy = await broker.call<Post, object>("posts.get", { id: "p1" });
		expect(copy).not.toBe(hit);
		copy.tags.push("changed by a caller");
		expect(await broker.call("posts.get", { id: "p1" })).toEqual({ id: "p1", tags: ["a"], at: null });
		expect(handled).toBe(1);
	});

	it("is not passed on to the calls made while handling that call", async () => {
		const fed = await broker.call<Post, object>("feed.read", {}, serializing);
		expect(fed.tags).toEqual(["a", "changed by feed"]);
		expect(await broker.call("posts.get", { id: "p1" }, serializing)).toEqual({ id: "p1", tags: ["a"], at: null });
	});

	it("writes a shared answer's JSON once, any other answer's as it is at that moment", async () => {
		const hit = await broker.call<Post, object>("posts.get", { id: "p1" }, serializing);
		const stringify = jest.spyOn(JSON, "stringify");
		try {
			const first = answerJson(hit);
			expect(first).toBe('{"id":"p1","tags":["a"],"at":null}');
			expect(answerJson(await broker.call("posts.get", { id: "p1" }, serializing))).toBe(first);
			expect(stringify).toHaveBeenCalledTimes(1);

			// a copy (or any answer that is not the cache's) can change between two serializations
			const copy = await broker.call<Post, object>("posts.get", { id: "p1" });
			expect(answerJson(copy)).toBe(first);
			copy.tags.push("b");
			expect(answerJson(copy)).toBe('{"id":"p1","tags":["a","b"],"at":null}');
			expect(answerJson("text")).toBe('"text"');
		} finally {
			stringify.mockRestore();
		}
	});

	it("copies an answer that is not plain JSON data for that caller too", async () => {
		const params = { id: "p2", withDate: true };
		await broker.call("posts.get", params, serializing);
		const [a, b] = [await broker.call("posts.get", params, serializing), await broker.call("posts.get", params, serializing)];
		expect(a).toEqual(b);
		expect(a).not.toBe(b);
		expect(Object.isFrozen(a)).toBe(false);
	});
});
