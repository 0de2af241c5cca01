/**
 * One refresh at a time per connection (README, "Integrations" → "Refresh"): callers on one node queue on
 * a KeyedMutex (lib/keyed-mutex.ts, all there is in the embedded single-process setup); with REDIS_URL
 * the holder also takes a cluster-wide lock, `SET key token PX ttl NX`, so two nodes never spend the same
 * rotating refresh token. The lock is released only by its holder (a Lua compare-and-delete of the random
 * token), and expires by itself after `ttlMs` should the holder die. A node waiting for it polls; when
 * it gets the lock it reads the connection again and finds the token the other node stored.
 */
import { randomBytes } from "node:crypto";
import type { Redis } from "ioredis";
import { IntegrationProviderError } from "../../../lib/errors";
import { KeyedMutex } from "../../../lib/keyed-mutex";

const RELEASE = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`;
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export interface RefreshLockOptions {
	/** the lock's lifetime: longer than a refresh can take (the provider's timeout times its attempts) */
	ttlMs: number;
	/** how long a caller waits for another node's refresh before giving up */
	waitMs: number;
	pollMs?: number;
}

export class RefreshLock {
	private readonly local = new KeyedMutex();

	constructor(
		private readonly redis: Redis | null,
		private readonly prefix: string,
		private readonly opts: RefreshLockOptions,
	) {}

	run<T>(key: string, fn: () => Promise<T>): Promise<T> {
		const redis = this.redis;
		if (!redis) return this.local.run(key, fn);
		return this.local.run(key, async () => {
			const lockKey = `${this.prefix}:${key}`;
			const token = randomBytes(16).toString("base64url");
			const until = Date.now() + this.opts.waitMs;
			while ((await redis.set(lockKey, token, "PX", this.opts.ttlMs, "NX")) !== "OK") {
				if (Date.now() > until) throw new IntegrationProviderError("Another node is refreshing this connection's token. Try again.");
				await sleep(this.opts.pollMs ?? 50);
			}
			try {
				return await fn();
			} finally {
				await redis.eval(RELEASE, 1, lockKey, token).catch(() => undefined);
			}
		});
	}
}
