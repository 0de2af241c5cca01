/**
 * Failed sign-in throttling (README, "Identity: authentication and tenants" → "Lockout policy").
 *
 * Counted per (account, client address), not per account: whoever fails from one address is slowed
 * down, nobody else. The first `freeFailures` failures of a pair cost nothing; each further one makes
 * that pair wait `baseDelaySec`·2^(n−freeFailures−1) seconds (at most `maxDelaySec`) before it may
 * try again. A pair's count is forgotten `windowSec` after its last failure (plus the delay it earned),
 * and at once when it signs in successfully.
 *
 * Against guessing spread over many addresses there is a ceiling per account, all addresses together:
 * `accountMax` failures within `windowSec`. Past it, addresses the account has signed in from
 * successfully within `knownAddressSec` still get through (so a distributed attack does not lock the
 * owner out of their usual places); others wait for the window to end.
 *
 * State lives in Redis when REDIS_URL is set (shared by every auth node; updates are one Lua script,
 * so concurrent failures all count), in memory otherwise. A store failure lets the attempt through
 * (fails open), like the gateway's rate limiter: a Redis outage must not lock everyone out.
 * Account names and addresses are personal data: the store only sees digests.
 */
import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import { redisClient } from "../../lib/redis";

export interface ThrottlePolicy {
	/** failures of one (account, address) pair before delays start */
	freeFailures: number;
	/** first delay after the free failures; doubles with each further failure */
	baseDelaySec: number;
	maxDelaySec: number;
	/** how long failures are remembered (per pair: after its last failure; per account: a fixed window) */
	windowSec: number;
	/** failures of one account from all addresses within `windowSec` before unknown addresses must wait */
	accountMax: number;
	/** an address the account signed in from stays "known" this long */
	knownAddressSec: number;
}

export interface ThrottleOptions extends Partial<ThrottlePolicy> {
	redisUrl?: string;
	prefix: string;
	/** the clock (ms); tests move it instead of sleeping */
	now?: () => number;
}

export const DEFAULT_POLICY: ThrottlePolicy = {
	freeFailures: 5,
	baseDelaySec: 1,
	maxDelaySec: 15 * 60,
	windowSec: 15 * 60,
	accountMax: 100,
	knownAddressSec: 30 * 24 * 3600,
};

interface Keys {
	pair: string;
	account: string;
	known: string;
}

interface Snapshot {
	/** ms epoch until which the pair must wait (0: none) */
	pairUntil: number;
	accountFailures: number;
	/** ms epoch at which the account's window ends */
	accountResetAt: number;
	known: boolean;
}

interface Store {
	read(k: Keys, now: number): Promise<Snapshot>;
	fail(k: Keys, now: number, p: ThrottlePolicy): Promise<{ failures: number; until: number }>;
	succeed(k: Keys, now: number, p: ThrottlePolicy): Promise<void>;
	forget(k: Partial<Keys>): Promise<void>;
	close(): void;
}

/** The delay (ms) a pair earns with its `failures`-th failure. */
export function delayAfter(failures: number, p: ThrottlePolicy): number {
	if (failures <= p.freeFailures) return 0;
	return Math.min(p.baseDelaySec * 2 ** (failures - p.freeFailures - 1), p.maxDelaySec) * 1000;
}

class MemoryStore implements Store {
	private pairs = new Map<string, { failures: number; until: number; expires: number }>();
	private accounts = new Map<string, { failures: number; expires: number }>();
	private known = new Map<string, number>();

	private live<T extends { expires: number }>(map: Map<string, T>, key: string, now: number): T | undefined {
		const v = map.get(key);
		if (v && v.expires <= now) map.delete(key);
		return v && v.expires > now ? v : undefined;
	}

	private prune(now: number) {
		if (this.pairs.size + this.accounts.size + this.known.size < 10_000) return;
		for (const [k, v] of this.pairs) if (v.expires <= now) this.pairs.delete(k);
		for (const [k, v] of this.accounts) if (v.expires <= now) this.accounts.delete(k);
		for (const [k, v] of this.known) if (v <= now) this.known.delete(k);
	}

	async read(k: Keys, now: number): Promise<Snapshot> {
		const pair = this.live(this.pairs, k.pair, now);
		const account = this.live(this.accounts, k.account, now);
		const known = (this.known.get(k.known) ?? 0) > now;
		return { pairUntil: pair?.until ?? 0, accountFailures: account?.failures ?? 0, accountResetAt: account?.expires ?? 0, known };
	}

	async fail(k: Keys, now: number, p: ThrottlePolicy) {
		this.prune(now);
		const failures = (this.live(this.pairs, k.pair, now)?.failures ?? 0) + 1;
		const delay = delayAfter(failures, p);
		const until = now + delay;
		this.pairs.set(k.pair, { failures, until, expires: now + p.windowSec * 1000 + delay });
		const account = this.live(this.accounts, k.account, now);
		if (account) account.failures++;
		else this.accounts.set(k.account, { failures: 1, expires: now + p.windowSec * 1000 });
		return { failures, until };
	}

	async succeed(k: Keys, now: number, p: ThrottlePolicy) {
		this.pairs.delete(k.pair);
		this.known.set(k.known, now + p.knownAddressSec * 1000);
	}

	async forget(k: Partial<Keys>) {
		if (k.pair) this.pairs.delete(k.pair);
		if (k.account) this.accounts.delete(k.account);
	}

	close() {}
}

// KEYS: pair, account. ARGV: now, freeFailures, baseDelayMs, maxDelayMs, windowMs. Returns { failures, until }.
const FAIL_SCRIPT = `
local now = tonumber(ARGV[1])
local f = redis.call('HINCRBY', KEYS[1], 'f', 1)
local delay = 0
if f > tonumber(ARGV[2]) then delay = math.min(tonumber(ARGV[3]) * 2 ^ (f - tonumber(ARGV[2]) - 1), tonumber(ARGV[4])) end
local untilMs = math.floor(now + delay)
redis.call('HSET', KEYS[1], 'u', untilMs)
redis.call('PEXPIRE', KEYS[1], math.floor(tonumber(ARGV[5]) + delay))
if redis.call('INCR', KEYS[2]) == 1 then redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[5])) end
return { f, untilMs }
`;

type RedisWithFail = Redis & { throttleFail(pair: string, account: string, ...args: (string | number)[]): Promise<[number, number]> };

class RedisStore implements Store {
	readonly redis: RedisWithFail;

	constructor(url: string) {
		// fails at once when Redis is slow or gone: the throttle then lets the attempt through (fails open)
		this.redis = redisClient(url, "fast") as RedisWithFail;
		this.redis.defineCommand("throttleFail", { numberOfKeys: 2, lua: FAIL_SCRIPT });
	}

	async read(k: Keys, now: number): Promise<Snapshot> {
		const res = await this.redis.multi().hget(k.pair, "u").get(k.account).pttl(k.account).exists(k.known).exec();
		if (!res) throw new Error("redis: transaction aborted");
		const [[e1, until], [e2, failures], [e3, ttl], [e4, known]] = res as [Error | null, unknown][];
		if (e1 || e2 || e3 || e4) throw e1 ?? e2 ?? e3 ?? e4;
		return {
			pairUntil: Number(until ?? 0),
			accountFailures: Number(failures ?? 0),
			accountResetAt: Number(ttl) > 0 ? now + Number(ttl) : 0,
			known: Number(known) === 1,
		};
	}

	async fail(k: Keys, now: number, p: ThrottlePolicy) {
		const [failures, until] = await this.redis.throttleFail(
			k.pair,
			k.account,
			now,
			p.freeFailures,
			p.baseDelaySec * 1000,
			p.maxDelaySec * 1000,
			p.windowSec * 1000,
		);
		return { failures: Number(failures), until: Number(until) };
	}

	async succeed(k: Keys, _now: number, p: ThrottlePolicy) {
		await this.redis
			.multi()
			.del(k.pair)
			.set(k.known, "1", "PX", p.knownAddressSec * 1000)
			.exec();
	}

	async forget(k: Partial<Keys>) {
		const keys = [k.pair, k.account].filter((x): x is string => !!x);
		if (keys.length) await this.redis.del(...keys);
	}

	close() {
		this.redis.disconnect();
	}
}

export class FailureThrottle {
	readonly policy: ThrottlePolicy;
	private readonly store: Store;
	private readonly now: () => number;

	constructor(private readonly opts: ThrottleOptions) {
		const { redisUrl, prefix: _prefix, now, ...policy } = opts;
		this.policy = { ...DEFAULT_POLICY, ...Object.fromEntries(Object.entries(policy).filter(([, v]) => v !== undefined)) };
		this.now = now ?? Date.now;
		this.store = redisUrl ? new RedisStore(redisUrl) : new MemoryStore();
	}

	/** Resolves once the store can answer (Redis connected), or at once for memory. */
	ready(): Promise<void> {
		const redis = this.store instanceof RedisStore ? this.store.redis : undefined;
		if (!redis || redis.status === "ready") return Promise.resolve();
		return new Promise(resolve => redis.once("ready", () => resolve()));
	}

	private digest(...parts: string[]): string {
		return createHash("sha256").update(parts.join("\0")).digest("base64url");
	}

	private keys(account: string, address: string | null | undefined): Keys {
		const addr = address || "-";
		const p = this.opts.prefix;
		return {
			pair: `${p}:pair:${this.digest(account, addr)}`,
			account: `${p}:acct:${this.digest(account)}`,
			known: `${p}:known:${this.digest(account, addr)}`,
		};
	}

	/** Seconds until this address may try this account again, or 0 when it may try now. */
	async blockedFor(account: string, address: string | null | undefined): Promise<number> {
		const now = this.now();
		try {
			const s = await this.store.read(this.keys(account, address), now);
			if (s.pairUntil > now) return Math.max(1, Math.ceil((s.pairUntil - now) / 1000));
			if (!s.known && s.accountFailures >= this.policy.accountMax) return Math.max(1, Math.ceil((s.accountResetAt - now) / 1000));
		} catch {
			/* fail open */
		}
		return 0;
	}

	/** Records a failure; returns the pair's failure count and the seconds it must now wait (0: none). */
	async fail(account: string, address: string | null | undefined): Promise<{ failures: number; retryAfterSec: number }> {
		const now = this.now();
		try {
			const { failures, until } = await this.store.fail(this.keys(account, address), now, this.policy);
			return { failures, retryAfterSec: until > now ? Math.ceil((until - now) / 1000) : 0 };
		} catch {
			return { failures: 0, retryAfterSec: 0 };
		}
	}

	/** A successful sign-in: the pair starts over and the address becomes known to the account. */
	async succeeded(account: string, address: string | null | undefined): Promise<void> {
		await this.store.succeed(this.keys(account, address), this.now(), this.policy).catch(() => undefined);
	}

	/** Forgets the account's ceiling count (and this address's pair, when given): after a password reset. */
	async reset(account: string, address?: string | null): Promise<void> {
		const k = this.keys(account, address);
		await this.store.forget({ account: k.account, ...(address !== undefined ? { pair: k.pair } : {}) }).catch(() => undefined);
	}

	close(): void {
		this.store.close();
	}
}
