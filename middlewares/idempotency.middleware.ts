/**
 * `Idempotency-Key` (IETF httpapi draft "The Idempotency-Key HTTP Header Field") for any action that
 * declares `idempotencyKey: "required"` (or `"optional"`: honoured when sent). Generic: payments use
 * it, and so can any domain whose POST must not run twice (outbound messages…).
 *
 * - no key on a required action: 400 IDEMPOTENCY_KEY_REQUIRED;
 * - the first request runs; its status, Location and body (or its 4xx error) are stored with a hash of
 *   the request (action + params), scoped to the caller (tenant + user), for IDEMPOTENCY_TTL_S;
 * - the same key with the same request replays the stored answer, with `Idempotent-Replayed: true`;
 * - the same key with another request: 422 IDEMPOTENCY_KEY_REUSED;
 * - the same key while the first still runs: 409 IDEMPOTENCY_KEY_IN_PROGRESS;
 * - a 5xx or a crash stores nothing (the running mark expires), so the client's retry runs again: the
 *   handler reads the key with `idempotencyKeyOf(ctx)` and hands it on to the third party (a payment
 *   provider's own idempotency key) so that second run cannot charge twice.
 * Keys live in Redis (REDIS_URL: every node sees them) or, in embedded mode, in this process.
 */
import { createHash } from "node:crypto";
import type { ActionSchema, Context, Middleware, ServiceBroker } from "moleculer";
import { Errors } from "moleculer";
import type { Redis } from "ioredis";
import { config } from "../lib/config";
import type { Meta } from "../lib/context";
import { IdempotencyKeyInProgressError, IdempotencyKeyRequiredError, IdempotencyKeyReusedError, ReplayedClientError } from "../lib/errors";
import { redisClient } from "../lib/redis";

export type IdempotencyFlag = "required" | "optional";

interface Stored {
	state: "running" | "done";
	hash: string;
	status?: number;
	location?: string;
	body?: unknown;
	error?: { message: string; status: number; code: string; data?: unknown };
}

/** Where keys live: `claim` is an atomic "set if absent". */
interface KeyStore {
	claim(key: string, value: Stored, ttlMs: number): Promise<Stored | null>;
	save(key: string, value: Stored, ttlMs: number): Promise<void>;
	drop(key: string): Promise<void>;
	close(): Promise<void>;
}

class RedisKeyStore implements KeyStore {
	constructor(private readonly redis: Redis) {}
	async claim(key: string, value: Stored, ttlMs: number): Promise<Stored | null> {
		// SET NX answers OK to exactly one of any number of concurrent claims, on any node.
		const ok = await this.redis.set(key, JSON.stringify(value), "PX", ttlMs, "NX");
		if (ok) return null;
		const existing = await this.redis.get(key);
		return existing ? (JSON.parse(existing) as Stored) : this.claim(key, value, ttlMs);
	}
	async save(key: string, value: Stored, ttlMs: number) {
		await this.redis.set(key, JSON.stringify(value), "PX", ttlMs);
	}
	async drop(key: string) {
		await this.redis.del(key);
	}
	async close() {
		await this.redis.quit().catch(() => this.redis.disconnect());
	}
}

class MemoryKeyStore implements KeyStore {
	private readonly rows = new Map<string, { value: Stored; expiresAt: number }>();
	async claim(key: string, value: Stored, ttlMs: number) {
		const row = this.rows.get(key);
		if (row && row.expiresAt > Date.now()) return row.value;
		this.rows.set(key, { value, expiresAt: Date.now() + ttlMs });
		return null;
	}
	async save(key: string, value: Stored, ttlMs: number) {
		this.rows.set(key, { value, expiresAt: Date.now() + ttlMs });
		if (this.rows.size > 10_000) for (const [k, r] of this.rows) if (r.expiresAt <= Date.now()) this.rows.delete(k);
	}
	async drop(key: string) {
		this.rows.delete(key);
	}
	async close() {}
}

/** 1–255 visible ASCII characters; the draft's structured-field string (`"…"`) or a bare token. */
const KEY = /^[\x21-\x7e]{1,255}$/;
function parseKey(header: unknown): string | undefined {
	if (typeof header !== "string") return undefined;
	const raw = header.trim();
	const key = raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"') ? raw.slice(1, -1) : raw;
	return KEY.test(key) ? key : undefined;
}

/** JSON with sorted keys: the same params hash the same whatever their order. */
function canonical(value: unknown): string {
	if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
	if (value && typeof value === "object")
		return `{${Object.keys(value)
			.sort()
			.map(k => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
			.join(",")}}`;
	return JSON.stringify(value) ?? "null";
}

/** The caller's Idempotency-Key, for a handler to derive a third party's idempotency key from. */
export function idempotencyKeyOf(ctx: Context): string | undefined {
	return (ctx.locals as { idempotencyKey?: string }).idempotencyKey;
}

/** How long a running request holds its key before a retry may run it again (a node that died mid-way). */
const RUNNING_MS = 60_000;

/** One store per broker (tests run several brokers in one process), opened on first use: nodes without such actions open no client. */
const stores = new WeakMap<ServiceBroker, KeyStore>();
function storeOf(broker: ServiceBroker): KeyStore {
	let store = stores.get(broker);
	if (!store) {
		const cfg = config();
		store = cfg.REDIS_URL ? new RedisKeyStore(redisClient(cfg.REDIS_URL, "durable")) : new MemoryKeyStore();
		stores.set(broker, store);
	}
	return store;
}

export const IdempotencyMiddleware: Middleware = {
	name: "Idempotency",
	async stopped(broker: ServiceBroker) {
		await stores.get(broker)?.close();
		stores.delete(broker);
	},
	localAction(handler, action: ActionSchema) {
		const flag = action.idempotencyKey;
		if (!flag) return handler;
		const next = handler as (ctx: Context) => Promise<unknown>;
		const ttlMs = config().IDEMPOTENCY_TTL_S * 1000;
		const namespace = config().NAMESPACE;
		return async function idempotent(ctx: Context) {
			const store = storeOf(ctx.broker);
			const meta = ctx.meta as Meta;
			const header = meta.headers?.["idempotency-key"];
			const key = parseKey(header);
			if (!key) {
				if (flag === "optional" && header === undefined) return next(ctx);
				throw new IdempotencyKeyRequiredError();
			}
			const who = `${meta.user?.tenantId ?? "-"}:${meta.user?.id ?? "-"}`;
			const storeKey = `${namespace}:idem:${who}:${key}`;
			const hash = createHash("sha256")
				.update(`${action.name}\n${canonical(ctx.params)}`)
				.digest("hex");
			const existing = await store.claim(storeKey, { state: "running", hash }, Math.max(RUNNING_MS, (action.timeout ?? 0) * 2));
			if (existing) {
				if (existing.hash !== hash) throw new IdempotencyKeyReusedError();
				if (existing.state === "running") throw new IdempotencyKeyInProgressError();
				meta.$responseHeaders = { ...meta.$responseHeaders, "Idempotent-Replayed": "true" };
				if (existing.error)
					throw new ReplayedClientError(existing.error.message, existing.error.status, existing.error.code, existing.error.data);
				if (existing.status) meta.$statusCode = existing.status;
				if (existing.location) meta.$location = existing.location;
				return existing.body;
			}
			(ctx.locals as { idempotencyKey?: string }).idempotencyKey = `${who}:${key}`;
			let body: unknown;
			try {
				body = await next(ctx);
			} catch (err) {
				const e = err as Errors.MoleculerError;
				// The caller's fault is the answer (stored, replayed); anything else may succeed on a retry.
				if (err instanceof Errors.MoleculerClientError && e.code >= 400 && e.code < 500)
					await store.save(
						storeKey,
						{ state: "done", hash, error: { message: e.message, status: e.code, code: e.type, data: e.data } },
						ttlMs,
					);
				else await store.drop(storeKey).catch(() => undefined);
				throw err;
			}
			await store.save(storeKey, { state: "done", hash, status: meta.$statusCode, location: meta.$location, body }, ttlMs);
			return body;
		};
	},
};
