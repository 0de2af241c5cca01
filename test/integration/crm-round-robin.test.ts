/**
 * The shared round-robin turn counter against the real Redis: two counters (as two assignment
 * nodes would hold) drawing concurrently never get the same turn, and keys are per tenant and rule.
 */
import { randomUUID } from "node:crypto";
import Redis from "ioredis";
import { MemoryTurnCounter, pick, RedisTurnCounter } from "../../services/crm/round-robin";

const REDIS = "redis://127.0.0.1:6379";

describe("crm round-robin turns", () => {
	const namespace = `rrtest${randomUUID().slice(0, 8)}`;
	const nodeA = new RedisTurnCounter(REDIS, namespace);
	const nodeB = new RedisTurnCounter(REDIS, namespace);

	afterAll(async () => {
		const redis = new Redis(REDIS);
		const keys = await redis.keys(`${namespace}:*`);
		if (keys.length) await redis.del(...keys);
		redis.disconnect();
		await nodeA.close();
		await nodeB.close();
	});

	it("gives 200 concurrent draws from two nodes 200 distinct consecutive turns, spread evenly over the pool", async () => {
		const draws = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 ? nodeA : nodeB).next("tenant-1", "rule-1")));
		expect([...draws].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
		const pool = ["a", "b", "c", "d"];
		const counts = draws.reduce<Record<string, number>>((acc, t) => ({ ...acc, [pick(pool, t)]: (acc[pick(pool, t)] ?? 0) + 1 }), {});
		expect(counts).toEqual({ a: 50, b: 50, c: 50, d: 50 });
		const redis = new Redis(REDIS);
		try {
			expect(await redis.get(`${namespace}:rr:tenant-1:rule-1`)).toBe("200");
		} finally {
			redis.disconnect();
		}
	});

	it("keeps separate turns per tenant and per rule", async () => {
		expect(await nodeA.next("tenant-2", "rule-1")).toBe(1);
		expect(await nodeB.next("tenant-2", "rule-2")).toBe(1);
		expect(await nodeB.next("tenant-2", "rule-1")).toBe(2);
	});

	it("counts in the process without Redis", async () => {
		const m = new MemoryTurnCounter();
		expect([await m.next("t", "r"), await m.next("t", "r"), await m.next("t", "x")]).toEqual([1, 2, 1]);
	});
});
