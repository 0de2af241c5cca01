/** The Redis store is shared by every gateway, and a Redis outage lets requests through. */
import { randomUUID } from "node:crypto";
import { RateLimiter } from "../../lib/rate-limit";

const REDIS = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

describe("rate limiter stores", () => {
	it("shares one budget between two limiters (two gateway nodes) on the same Redis", async () => {
		const prefix = `t${randomUUID()}`;
		const a = new RateLimiter({ redisUrl: REDIS, prefix });
		const b = new RateLimiter({ redisUrl: REDIS, prefix });
		try {
			const rule = { max: 3, windowSec: 30 };
			const decisions = [];
			for (const limiter of [a, b, a, b]) decisions.push(await limiter.consume("default", rule, "ip:1.2.3.4"));
			expect(decisions.map(d => d.allowed)).toEqual([true, true, true, false]);
			expect(decisions.every(d => !d.failedOpen)).toBe(true);
		} finally {
			await a.close();
			await b.close();
		}
	});

	it("fails open when Redis cannot be reached", async () => {
		// Port 1 on loopback: nothing listens there, the connection is refused at once.
		const limiter = new RateLimiter({ redisUrl: "redis://127.0.0.1:1", prefix: "down", timeoutMs: 100 });
		try {
			const d = await limiter.consume("default", { max: 1, windowSec: 30 }, "k");
			const again = await limiter.consume("default", { max: 1, windowSec: 30 }, "k");
			expect([d.allowed, again.allowed]).toEqual([true, true]);
			expect(again.failedOpen).toBe(true);
		} finally {
			await limiter.close();
		}
	});
});
