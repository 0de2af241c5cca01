/**
 * The ledger in Redis (when REDIS_URL is set and MONGO_URI is not): shared by every gamification
 * node. Each append or transfer is ONE Lua script — the eventId check, the balance check and the
 * append run without anything in between, on whichever node calls. Keys (prefix `<ns>:eng:`):
 * `bal:{t}:{u}:{c}` the balance, `log:{t}:{u}:{c}` the entries (a list: sequence = position),
 * `cur:{t}:{u}` the user's currencies, `ev:{t}` eventId → entry, `ref:{t}:{refId}` entries of a fact.
 * Durability is Redis's: run it with AOF (appendfsync everysec or always) for a ledger of record.
 */
import type { Redis } from "ioredis";
import type { CallerScope } from "../../lib/context";
import { InsufficientFundsError } from "../../lib/errors";
import { redisClient } from "../../lib/redis";
import { newId } from "../../mixins/db.mixin";
import { tenantOf } from "../../mixins/tenant.mixin";
import type { AppendResult, LedgerBackend, LedgerEntry, NewEntry } from "./ledger";

/** Appends ARGV's entry (JSON without sequence/balanceAfter) to one wallet; shared by both scripts. */
const APPEND_FN = `
local function append(bal, log, cur, ref, useRef, currency, amount, json)
  local balance = tonumber(redis.call('GET', bal) or '0') + amount
  local seq = redis.call('LLEN', log) + 1
  local full = string.sub(json, 1, -2) .. ',"sequence":' .. string.format('%d', seq) .. ',"balanceAfter":' .. string.format('%d', balance) .. '}'
  redis.call('RPUSH', log, full)
  redis.call('SET', bal, string.format('%d', balance))
  redis.call('SADD', cur, currency)
  if useRef == '1' then redis.call('RPUSH', ref, full) end
  return full
end
`;

// KEYS: bal, log, cur, ev, ref  ARGV: eventId, amount, noOverdraw, json, currency, useRef
const APPEND_SCRIPT = `${APPEND_FN}
local seen = redis.call('HGET', KEYS[4], ARGV[1])
if seen then return {'dup', seen} end
local amount = tonumber(ARGV[2])
local balance = tonumber(redis.call('GET', KEYS[1]) or '0')
if ARGV[3] == '1' and balance + amount < 0 then return {'short', string.format('%d', balance)} end
local full = append(KEYS[1], KEYS[2], KEYS[3], KEYS[5], ARGV[6], ARGV[5], amount, ARGV[4])
redis.call('HSET', KEYS[4], ARGV[1], full)
return {'ok', full}
`;

// KEYS: balA, logA, curA, balB, logB, curB, ev, refA, refB  ARGV: eventIdA, eventIdB, amount(>0), jsonA, jsonB, currency, useRefA, useRefB
const TRANSFER_SCRIPT = `${APPEND_FN}
local seen = redis.call('HGET', KEYS[7], ARGV[1])
if seen then return {'dup', seen, redis.call('HGET', KEYS[7], ARGV[2])} end
local amount = tonumber(ARGV[3])
local balance = tonumber(redis.call('GET', KEYS[1]) or '0')
if balance - amount < 0 then return {'short', string.format('%d', balance)} end
local a = append(KEYS[1], KEYS[2], KEYS[3], KEYS[8], ARGV[7], ARGV[6], -amount, ARGV[4])
local b = append(KEYS[4], KEYS[5], KEYS[6], KEYS[9], ARGV[8], ARGV[6], amount, ARGV[5])
redis.call('HSET', KEYS[7], ARGV[1], a, ARGV[2], b)
return {'ok', a, b}
`;

type Commands = Redis & {
	ledgerAppend(...args: (string | number)[]): Promise<string[]>;
	ledgerTransfer(...args: (string | number)[]): Promise<string[]>;
};

export class RedisLedger implements LedgerBackend {
	private readonly redis: Commands;

	constructor(
		url: string,
		private readonly prefix: string,
	) {
		const client = redisClient(url, "durable");
		client.defineCommand("ledgerAppend", { numberOfKeys: 5, lua: APPEND_SCRIPT });
		client.defineCommand("ledgerTransfer", { numberOfKeys: 9, lua: TRANSFER_SCRIPT });
		// ioredis types commands added by defineCommand only at run time
		this.redis = client as Commands;
	}

	private keys(t: string, u: string, c: string) {
		const p = this.prefix;
		return { bal: `${p}bal:${t}:${u}:${c}`, log: `${p}log:${t}:${u}:${c}`, cur: `${p}cur:${t}:${u}` };
	}
	/** the key of a fact's entries, and whether there is one ("0": the key is a placeholder never written) */
	private ref(t: string, refId: string | null): [string, string] {
		return refId ? [`${this.prefix}ref:${t}:${refId}`, "1"] : [`${this.prefix}noref`, "0"];
	}
	private json(e: NewEntry): string {
		const { userId, currency, amount, reason, refType, refId, eventId, day } = e;
		return JSON.stringify({ id: newId(), userId, currency, amount, reason, refType, refId, eventId, day, at: new Date().toISOString() });
	}

	async append(scope: CallerScope, e: NewEntry, noOverdraw: boolean): Promise<AppendResult> {
		const t = tenantOf(scope);
		const k = this.keys(t, e.userId, e.currency);
		const [ref, useRef] = this.ref(t, e.refId);
		const [status, value] = await this.redis.ledgerAppend(
			k.bal,
			k.log,
			k.cur,
			`${this.prefix}ev:${t}`,
			ref,
			e.eventId,
			e.amount,
			noOverdraw ? "1" : "0",
			this.json(e),
			e.currency,
			useRef,
		);
		if (status === "short") throw new InsufficientFundsError(e.currency, Number(value), -e.amount);
		return { entry: JSON.parse(value) as LedgerEntry, duplicate: status === "dup" };
	}

	async transfer(scope: CallerScope, debit: NewEntry, credit: NewEntry) {
		const t = tenantOf(scope);
		const a = this.keys(t, debit.userId, debit.currency);
		const b = this.keys(t, credit.userId, credit.currency);
		const [refA, useA] = this.ref(t, debit.refId);
		const [refB, useB] = this.ref(t, credit.refId);
		const [status, x, y] = await this.redis.ledgerTransfer(
			a.bal,
			a.log,
			a.cur,
			b.bal,
			b.log,
			b.cur,
			`${this.prefix}ev:${t}`,
			refA,
			refB,
			debit.eventId,
			credit.eventId,
			credit.amount,
			this.json(debit),
			this.json(credit),
			debit.currency,
			useA,
			useB,
		);
		if (status === "short") throw new InsufficientFundsError(debit.currency, Number(x), credit.amount);
		return { debit: JSON.parse(x) as LedgerEntry, credit: JSON.parse(y) as LedgerEntry, duplicate: status === "dup" };
	}

	async balances(scope: CallerScope, userId: string) {
		const t = tenantOf(scope);
		const currencies = (await this.redis.smembers(`${this.prefix}cur:${t}:${userId}`)).sort();
		if (!currencies.length) return {};
		const values = await this.redis.mget(currencies.map(c => this.keys(t, userId, c).bal));
		return Object.fromEntries(currencies.map((c, i) => [c, Number(values[i] ?? 0)]));
	}

	async entries(scope: CallerScope, userId: string, currency: string, limit: number, before?: number) {
		const { log } = this.keys(tenantOf(scope), userId, currency);
		if (before !== undefined && before <= 1) return [];
		// sequence n sits at index n-1
		const rows =
			before === undefined
				? await this.redis.lrange(log, -limit, -1)
				: await this.redis.lrange(log, Math.max(0, before - 1 - limit), before - 2);
		return rows.map(r => JSON.parse(r) as LedgerEntry).reverse();
	}

	async entriesOfRef(scope: CallerScope, refId: string) {
		const rows = await this.redis.lrange(this.ref(tenantOf(scope), refId)[0], 0, -1);
		return rows.map(r => JSON.parse(r) as LedgerEntry);
	}

	/** SCANs the tenant's balance keys of the currency: one pass over the tenant's wallets of it (a leaderboard, not a hot path). */
	async walletsOf(scope: CallerScope, currency: string) {
		const head = `${this.prefix}bal:${tenantOf(scope)}:`;
		const tail = `:${currency}`;
		const keys: string[] = [];
		let cursor = "0";
		do {
			const [next, batch] = await this.redis.scan(cursor, "MATCH", `${head}*${tail}`, "COUNT", 500);
			cursor = next;
			keys.push(...batch);
		} while (cursor !== "0");
		const users = keys.map(k => k.slice(head.length, -tail.length)).filter(u => u && !u.includes(":"));
		if (!users.length) return [];
		const values = await this.redis.mget(users.map(u => this.keys(tenantOf(scope), u, currency).bal));
		return users.map((userId, i) => ({ userId, balance: Number(values[i] ?? 0) }));
	}

	async close() {
		await this.redis.quit().catch(() => undefined);
	}
}
