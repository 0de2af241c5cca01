/**
 * Request limits that hold across gateway nodes: counters in Redis when configured (shared by every
 * gateway), in memory otherwise. When Redis fails the limiter lets requests through (fails open):
 * losing rate limiting for a while is better than losing the API.
 */
import Redis from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from "rate-limiter-flexible";
import type { RateLimitRule } from "./access";
import { disconnectRedis, redisConnectionOptions } from "./safe-redis-cacher";

export interface RateDecision {
	allowed: boolean;
	limit: number;
	remaining: number;
	/** seconds until the window resets */
	resetSec: number;
	/** set when the store failed and we let the request through */
	failedOpen?: boolean;
}

export class RateLimiter {
	private limiters = new Map<string, RateLimiterAbstract>();
	private redis?: Redis;

	constructor(private readonly opts: { redisUrl?: string; prefix: string; timeoutMs?: number }) {
		if (opts.redisUrl)
			this.redis = new Redis({
				...redisConnectionOptions(opts.redisUrl),
				enableOfflineQueue: false,
				commandTimeout: opts.timeoutMs ?? 250,
				maxRetriesPerRequest: 0,
				retryStrategy: times => Math.min(times * 200, 2000),
				lazyConnect: false,
			});
		// Errors surface through consume(); without a listener ioredis would log each reconnect as unhandled.
		this.redis?.on("error", () => undefined);
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
			const common = { keyPrefix: `${this.opts.prefix}:${id}`, points: rule.max, duration: rule.windowSec };
			limiter = this.redis ? new RateLimiterRedis({ ...common, storeClient: this.redis }) : new RateLimiterMemory(common);
			this.limiters.set(id, limiter);
		}
		return limiter;
	}

	/** Counts one request for `key` under `rule`. */
	async consume(name: string, rule: RateLimitRule, key: string): Promise<RateDecision> {
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
