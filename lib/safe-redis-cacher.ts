/**
 * Moleculer's Redis cacher rejects the whole call when Redis errors, and waits as long as Redis does.
 * A cache must never be why a request fails or hangs: every command here has a short timeout
 * (ioredis `commandTimeout`), failures count as a miss, and after a failure the cacher steps aside
 * (`connected = false`, which the Cacher middleware honours) until the next successful PING.
 * An invalidation (del/clean) that failed may have left stale entries behind, so the first read after
 * the outage clears the whole cache before trusting it again.
 */
import { Cachers } from "moleculer";

export interface SafeRedisCacherOptions {
	url: string;
	prefix: string;
	ttl: number;
	timeoutMs: number;
}

export class SafeRedisCacher extends Cachers.Redis {
	constructor(opts: SafeRedisCacherOptions) {
		super({
			prefix: opts.prefix,
			ttl: opts.ttl,
			// pingInterval is what brings the cacher back once Redis answers again.
			pingInterval: 1000,
			redis: {
				...redisConnectionOptions(opts.url),
				commandTimeout: opts.timeoutMs,
				connectTimeout: opts.timeoutMs * 4,
				enableOfflineQueue: false,
				maxRetriesPerRequest: 0,
				retryStrategy: (times: number) => Math.min(times * 200, 2000),
				// commands issued in the same tick go out in one write (README, "Running a cluster" → "Redis")
				enableAutoPipelining: true,
			},
		} as ConstructorParameters<typeof Cachers.Redis>[0]);
	}

	private stepAside(op: string, err: unknown) {
		if ((this as { connected?: boolean }).connected !== false)
			this.logger.warn(`Redis cacher ${op} failed; serving without cache until Redis answers.`, String(err));
		(this as { connected?: boolean }).connected = false;
	}

	private missedInvalidation = false;

	private async clearIfStale(): Promise<boolean> {
		if (!this.missedInvalidation) return true;
		try {
			await super.clean();
			this.missedInvalidation = false;
			this.logger.info("Redis cacher cleared the cache after missed invalidations.");
			return true;
		} catch (err) {
			this.stepAside("clean", err);
			return false;
		}
	}

	override async get(key: string) {
		if (!(await this.clearIfStale())) return this.opts.missingResponse;
		return super.get(key).catch(err => {
			this.stepAside("get", err);
			return this.opts.missingResponse;
		});
	}

	override async getWithTTL(key: string) {
		if (!(await this.clearIfStale())) return { data: this.opts.missingResponse, ttl: null };
		return super.getWithTTL(key).catch(err => {
			this.stepAside("get", err);
			return { data: this.opts.missingResponse, ttl: null };
		});
	}

	override set(key: string, data: unknown, ttl?: number) {
		return super.set(key, data, ttl).catch(err => this.stepAside("set", err));
	}

	override del(deleteTargets: string | string[]) {
		return super.del(deleteTargets).catch(err => {
			this.missedInvalidation = true;
			this.stepAside("del", err);
		});
	}

	/**
	 * Moleculer's close sends QUIT, which never completes while Redis is frozen or gone (no offline queue,
	 * reconnects pending): stop the ping timer and the reconnects, and wait for the socket to close.
	 */
	override async close() {
		// Moleculer's RedisCacher typings declare neither its ping timer nor its client.
		const self = this as unknown as { pingTimer?: NodeJS.Timeout | null; client?: import("ioredis").Redis | null };
		if (self.pingTimer) clearInterval(self.pingTimer);
		self.pingTimer = null;
		if (self.client) await disconnectRedis(self.client);
	}

	override clean(match?: string | string[]) {
		return super.clean(match).catch(err => {
			this.missedInvalidation = true;
			this.stepAside("clean", err);
		});
	}
}

/** ioredis options from a redis:// URL (host, port, db, username, password, TLS). */
export function redisConnectionOptions(url: string) {
	const u = new URL(url);
	return {
		host: u.hostname,
		port: Number(u.port || 6379),
		db: u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0,
		username: u.username ? decodeURIComponent(u.username) : undefined,
		password: u.password ? decodeURIComponent(u.password) : undefined,
		tls: u.protocol === "rediss:" ? {} : undefined,
	};
}

/** Disconnects an ioredis client (no QUIT: it never completes while Redis is frozen or gone) and waits for its socket to close. */
export async function disconnectRedis(client: import("ioredis").Redis): Promise<void> {
	if (client.status === "end") return;
	const ended = new Promise<void>(resolve => {
		client.once("end", () => resolve());
		setTimeout(resolve, 1000).unref();
	});
	client.disconnect();
	await ended;
}
