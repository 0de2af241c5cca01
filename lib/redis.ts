/**
 * The one way a service opens its own Redis client (the broker's cacher has its own). Two profiles,
 * because the callers want opposite things when Redis is slow or gone:
 * - `fast`: rate limits and throttles. A command fails at once (no offline queue, no retry, 250 ms
 *   timeout) and the caller falls back to its in-process state: a request is never held up by Redis.
 * - `durable`: counters that must come from Redis (round-robin turns, locks, job engines): commands
 *   wait through a short outage and fail only after retries, so the caller's message is retried.
 * Errors surface through the failing command; the client's own "error" events are swallowed so ioredis
 * does not log every reconnect as unhandled.
 */
import { Redis, type RedisOptions } from "ioredis";
import { redisConnectionOptions } from "./safe-redis-cacher";

export type RedisProfile = "fast" | "durable";

const PROFILES: Record<RedisProfile, RedisOptions> = {
	fast: { enableOfflineQueue: false, commandTimeout: 250, maxRetriesPerRequest: 0, retryStrategy: times => Math.min(times * 200, 2000) },
	durable: { enableOfflineQueue: true, commandTimeout: 2000, maxRetriesPerRequest: 2 },
};

export function redisClient(url: string, profile: RedisProfile, overrides: RedisOptions = {}): Redis {
	const client = new Redis({ ...redisConnectionOptions(url), ...PROFILES[profile], ...overrides });
	client.on("error", () => undefined);
	return client;
}

export { disconnectRedis, redisConnectionOptions } from "./safe-redis-cacher";
