/**
 * Failed-login counting per account: after `max` failures within `windowSec` the account answers
 * 429 until the window passes. Counters live in Redis when REDIS_URL is set (shared by every auth
 * node), in memory otherwise. A store failure lets the attempt through (fails open), like the
 * gateway's rate limiter: a Redis outage must not lock everyone out.
 */
import { createHash } from "node:crypto";
import Redis from "ioredis";
import { RateLimiterMemory, RateLimiterRedis, type RateLimiterAbstract } from "rate-limiter-flexible";
import { redisConnectionOptions } from "../../lib/safe-redis-cacher";

export interface ThrottleOptions {
	redisUrl?: string;
	prefix: string;
	max: number;
	windowSec: number;
}

export class FailureThrottle {
	private readonly limiter: RateLimiterAbstract;
	private readonly redis?: Redis;

	constructor(private readonly opts: ThrottleOptions) {
		const common = { keyPrefix: opts.prefix, points: opts.max, duration: opts.windowSec };
		if (opts.redisUrl) {
			this.redis = new Redis({
				...redisConnectionOptions(opts.redisUrl),
				enableOfflineQueue: false,
				commandTimeout: 250,
				maxRetriesPerRequest: 0,
				retryStrategy: times => Math.min(times * 200, 2000),
			});
			this.redis.on("error", () => undefined);
			this.limiter = new RateLimiterRedis({ ...common, storeClient: this.redis });
		} else {
			this.limiter = new RateLimiterMemory(common);
		}
	}

	/** Resolves once the store can answer (Redis connected), or at once for memory. */
	ready(): Promise<void> {
		const redis = this.redis;
		if (!redis || redis.status === "ready") return Promise.resolve();
		return new Promise(resolve => redis.once("ready", () => resolve()));
	}

	// Account names are personal data: the store sees a digest.
	private key(account: string): string {
		return createHash("sha256").update(account).digest("base64url");
	}

	/** Seconds until the account may try again, or 0 when it may try now. */
	async blockedFor(account: string): Promise<number> {
		try {
			const res = await this.limiter.get(this.key(account));
			if (res && res.consumedPoints >= this.opts.max) return Math.max(1, Math.ceil(res.msBeforeNext / 1000));
		} catch {
			/* fail open */
		}
		return 0;
	}

	async fail(account: string): Promise<void> {
		await this.limiter.penalty(this.key(account), 1).catch(() => undefined);
	}

	async reset(account: string): Promise<void> {
		await this.limiter.delete(this.key(account)).catch(() => undefined);
	}

	close(): void {
		this.redis?.disconnect();
	}
}
