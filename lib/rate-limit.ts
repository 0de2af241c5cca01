/**
 * Request limits that hold across gateway nodes: counters in Redis when configured (shared by every
 * gateway), in memory otherwise. When Redis fails the limiter lets requests through (fails open):
 * losing rate limiting for a while is better than losing the API.
 *
 * The memory store counts exactly as rate-limiter-flexible's RateLimiterMemory does (a fixed window
 * per key that starts with the key's first request), synchronously: `consumeNow` answers without a
 * promise or a timer per key, so the embedded gateway pays a map lookup per request.
 */
import type { Redis } from "ioredis";
import { RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { RateLimitRule } from "./access";
import { disconnectRedis, redisClient } from "./redis";

export interface RateDecision {
	allowed: boolean;
	limit: number;
	remaining: number;
	/** seconds until the window resets */
	resetSec: number;
	/** set when the store failed and we let the request through */
	failedOpen?: boolean;
}

/** Fixed windows per key, in this process: what RateLimiterMemory keeps, without its timer per key. */
export class MemoryWindows {
	private readonly windows = new Map<string, { points: number; endsAt: number }>();
	private lastSweep: number;

	constructor(private readonly now: () => number = Date.now) {
		this.lastSweep = now();
	}

	get size(): number {
		return this.windows.size;
	}

	consume(id: string, rule: RateLimitRule): RateDecision {
		const now = this.now();
		// expired windows are dropped once a minute (RateLimiterMemory drops each one with a timer)
		if (now - this.lastSweep >= 60_000) this.sweep(now);
		let w = this.windows.get(id);
		if (!w || w.endsAt <= now) {
			w = { points: 0, endsAt: now + rule.windowSec * 1000 };
			this.windows.set(id, w);
		}
		w.points++;
		const msBeforeNext = w.endsAt - now;
		if (w.points > rule.max) return { allowed: false, limit: rule.max, remaining: 0, resetSec: Math.max(1, Math.ceil(msBeforeNext / 1000)) };
		return { allowed: true, limit: rule.max, remaining: rule.max - w.points, resetSec: Math.ceil(msBeforeNext / 1000) };
	}

	sweep(now = this.now()): void {
		this.lastSweep = now;
		for (const [id, w] of this.windows) if (w.endsAt <= now) this.windows.delete(id);
	}
}

export class RateLimiter {
	private limiters = new Map<string, RateLimiterAbstract>();
	private redis?: Redis;
	private readonly memory = new MemoryWindows();

	constructor(private readonly opts: { redisUrl?: string; prefix: string; timeoutMs?: number }) {
		// the `fast` profile (fails at once, never queues); the counters of concurrent requests go out in one write
		if (opts.redisUrl)
			this.redis = redisClient(opts.redisUrl, "fast", {
				enableAutoPipelining: true,
				lazyConnect: false,
				...(opts.timeoutMs ? { commandTimeout: opts.timeoutMs } : {}),
			});
		this.firstConnect = this.redis
			? new Promise<void>(resolve => {
					this.redis!.once("ready", () => resolve());
					setTimeout(resolve, opts.timeoutMs ?? 250).unref();
				})
			: Promise.resolve();
	}

	/** Resolves once Redis first answers (or its timeout passed), so a fresh node does not start failing open. */
	private firstConnect: Promise<void>;

	get store(): "redis" | "memory" {
		return this.redis ? "redis" : "memory";
	}

	private limiter(name: string, rule: RateLimitRule): RateLimiterAbstract {
		const id = `${name}:${rule.max}:${rule.windowSec}`;
		let limiter = this.limiters.get(id);
		if (!limiter) {
			limiter = new RateLimiterRedis({
				keyPrefix: `${this.opts.prefix}:${id}`,
				points: rule.max,
				duration: rule.windowSec,
				storeClient: this.redis!,
			});
			this.limiters.set(id, limiter);
		}
		return limiter;
	}

	/** With the memory store: counts one request for `key` under `rule` and decides at once. With Redis: undefined (use `consume`). */
	consumeNow(name: string, rule: RateLimitRule, key: string): RateDecision | undefined {
		if (this.redis) return undefined;
		return this.memory.consume(`${name}:${rule.max}:${rule.windowSec}:${key}`, rule);
	}

	/** Counts one request for `key` under `rule`. */
	async consume(name: string, rule: RateLimitRule, key: string): Promise<RateDecision> {
		const now = this.consumeNow(name, rule, key);
		if (now) return now;
		await this.firstConnect;
		try {
			const res = await this.limiter(name, rule).consume(key);
			return { allowed: true, limit: rule.max, remaining: res.remainingPoints, resetSec: Math.ceil(res.msBeforeNext / 1000) };
		} catch (res) {
			if (res instanceof RateLimiterRes)
				return { allowed: false, limit: rule.max, remaining: 0, resetSec: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
			return { allowed: true, limit: rule.max, remaining: rule.max, resetSec: rule.windowSec, failedOpen: true };
		}
	}

	/** Closes the connection and waits until its socket is gone (a test or a stopping node leaves nothing open). */
	async close(): Promise<void> {
		if (this.redis) await disconnectRedis(this.redis);
	}
}
