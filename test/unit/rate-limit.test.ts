/** The memory store counts as rate-limiter-flexible's RateLimiterMemory does, synchronously. */
import { RateLimiterMemory, RateLimiterRes } from "rate-limiter-flexible";
import { MemoryWindows, RateLimiter } from "../../lib/rate-limit";

describe("rate limiting in memory", () => {
	it("decides like RateLimiterMemory, request after request", async () => {
		const rule = { max: 3, windowSec: 60 };
		const ours = new MemoryWindows();
		const theirs = new RateLimiterMemory({ points: rule.max, duration: rule.windowSec });
		for (let i = 0; i < 6; i++)
			for (const key of ["a", "b"]) {
				const mine = ours.consume(key, rule);
				const ref = await theirs.consume(key).then(
					r => ({ allowed: true, remaining: r.remainingPoints, resetSec: Math.ceil(r.msBeforeNext / 1000) }),
					(r: RateLimiterRes) => ({ allowed: false, remaining: 0, resetSec: Math.max(1, Math.ceil(r.msBeforeNext / 1000)) }),
				);
				expect({ i, key, ...mine }).toEqual({ i, key, limit: 3, ...ref });
			}
	});

	it("starts a key's window at its first request and a new one when it ends", () => {
		let now = 1_000_000;
		const w = new MemoryWindows(() => now);
		const rule = { max: 2, windowSec: 10 };
		expect(w.consume("k", rule)).toEqual({ allowed: true, limit: 2, remaining: 1, resetSec: 10 });
		now += 4000;
		expect(w.consume("k", rule)).toEqual({ allowed: true, limit: 2, remaining: 0, resetSec: 6 });
		expect(w.consume("k", rule)).toEqual({ allowed: false, limit: 2, remaining: 0, resetSec: 6 });
		now += 5999;
		expect(w.consume("k", rule)).toMatchObject({ allowed: false, resetSec: 1 });
		now += 1;
		expect(w.consume("k", rule)).toEqual({ allowed: true, limit: 2, remaining: 1, resetSec: 10 });
	});

	it("forgets ended windows, so many one-off clients do not pile up", () => {
		let now = 0;
		const w = new MemoryWindows(() => now);
		for (let i = 0; i < 1000; i++) w.consume(`ip:${i}`, { max: 5, windowSec: 30 });
		expect(w.size).toBe(1000);
		now += 61_000;
		w.consume("ip:new", { max: 5, windowSec: 30 });
		expect(w.size).toBe(1);
	});

	it("answers at once with the memory store and keeps rules apart", async () => {
		const limiter = new RateLimiter({ prefix: "t" });
		expect(limiter.store).toBe("memory");
		expect(limiter.consumeNow("default", { max: 1, windowSec: 60 }, "u:1")).toMatchObject({ allowed: true, remaining: 0 });
		expect(limiter.consumeNow("default", { max: 1, windowSec: 60 }, "u:1")).toMatchObject({ allowed: false });
		// another bucket, or the same bucket with another rule, counts separately
		expect(limiter.consumeNow("auth.login", { max: 1, windowSec: 60 }, "u:1")).toMatchObject({ allowed: true });
		await expect(limiter.consume("default", { max: 2, windowSec: 60 }, "u:1")).resolves.toMatchObject({ allowed: true, remaining: 1 });
		await limiter.close();
	});
});
