/**
 * Round-robin turns shared by every assignment node: Redis `INCR` on `<namespace>:rr:<tenantId>:<ruleId>`
 * (atomic, so two nodes never get the same turn) when REDIS_URL is set, a counter in this process
 * otherwise (embedded mode: one node).
 */
import type { Redis } from "ioredis";
import { redisClient } from "../../lib/redis";

export interface TurnCounter {
	/** 1, 2, 3, … for each call on the same key. */
	next(tenantId: string, ruleId: string): Promise<number>;
	close(): Promise<void>;
}

export class MemoryTurnCounter implements TurnCounter {
	private counts = new Map<string, number>();
	async next(tenantId: string, ruleId: string) {
		const key = `${tenantId}:${ruleId}`;
		const n = (this.counts.get(key) ?? 0) + 1;
		this.counts.set(key, n);
		return n;
	}
	async close() {}
}

export class RedisTurnCounter implements TurnCounter {
	private redis: Redis;
	constructor(
		url: string,
		private readonly namespace: string,
	) {
		// A turn comes from Redis or the call fails (and the channel message is retried): never a local guess.
		this.redis = redisClient(url, "durable");
	}
	key(tenantId: string, ruleId: string) {
		return `${this.namespace}:rr:${tenantId}:${ruleId}`;
	}
	async next(tenantId: string, ruleId: string) {
		return this.redis.incr(this.key(tenantId, ruleId));
	}
	async close() {
		await this.redis.quit().catch(() => this.redis.disconnect());
	}
}

/** The pool member whose turn `turn` (1-based) is. */
export function pick<T>(pool: readonly T[], turn: number): T {
	return pool[(turn - 1) % pool.length];
}
