/**
 * The lean memory cacher (lib/memory-cacher.ts) answers and counts like Moleculer's own: the same
 * hits, misses, expiries and copies, the same values of its get metrics, side by side on two brokers.
 */
import { Cachers, ServiceBroker } from "moleculer";
import { LeanMemoryCacher } from "../../lib/memory-cacher";
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
