/**
 * Where schedules, their last due time, their firing locks and their history live: what every scheduler
 * node must see alike. In a cluster Redis (the engine the jobs already use); embedded the service's own
 * collections (NeDB or memory) and an in-process lock. README, "Jobs, schedules and analytics" → "Scheduler".
 */
import type { ServiceBroker } from "moleculer";
import type { Redis } from "ioredis";
import { redisClient } from "../../../lib/redis";
import { Collection } from "../../../mixins/collection";
import type { Scoped } from "../../../mixins/tenant-records.mixin";

export type Misfire = "skip" | "runOnce";

export interface ScheduleRow {
	id: string;
	/** null: a platform schedule */
	tenantId: string | null;
	name: string;
	/** a cron expression, or null for a one-time task (`runAt`) */
	cron: string | null;
	timezone: string;
	runAt: string | null;
	jobType: string;
	payload: Record<string, unknown>;
	misfire: Misfire;
	paused: boolean;
	createdBy: string;
	createdAt: string;
	updatedAt: string;
}

export interface HistoryEntry {
	dueAt: string;
	firedAt: string;
	jobId: string | null;
	/** enqueued: a job was made; skipped: missed due times left out (`missed` of them); failed: the enqueue failed */
	outcome: "enqueued" | "skipped" | "failed";
	missed: number;
	error: string | null;
	node: string;
}

export interface ScheduleStore {
	open(broker: ServiceBroker): Promise<void>;
	close(): Promise<void>;
	all(): Promise<ScheduleRow[]>;
	get(id: string): Promise<ScheduleRow | null>;
	/** writes take a `Scoped` row (through TenantRecordsMixin's methods), never a caller's bare id */
	put(row: Scoped<ScheduleRow>): Promise<void>;
	remove(row: Scoped<ScheduleRow>): Promise<void>;
	/** true for exactly one caller per (schedule, due time) while the claim lives */
	claim(id: string, dueMs: number, ttlMs: number): Promise<boolean>;
	/** the latest due time handled (fired or skipped) */
	lastDue(id: string): Promise<number | null>;
	/** raises the latest due time (never lowers it: a slow node cannot move it back) */
	advance(id: string, dueMs: number): Promise<void>;
	addHistory(id: string, entry: HistoryEntry, keep: number): Promise<void>;
	/** newest first */
	history(row: Scoped<ScheduleRow>, offset: number, limit: number): Promise<{ rows: HistoryEntry[]; total: number }>;
}

const MAX_SCRIPT = `local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1`;

export class RedisScheduleStore implements ScheduleStore {
	private readonly redis: Redis;
	constructor(
		url: string,
		private readonly prefix: string,
	) {
		this.redis = redisClient(url, "durable");
	}
	private k(...parts: string[]) {
		return [this.prefix, ...parts].join(":");
	}
	async open(): Promise<void> {}
	async close(): Promise<void> {
		this.redis.disconnect();
	}
	async all() {
		return (await this.redis.hvals(this.k("defs"))).map(j => JSON.parse(j) as ScheduleRow);
	}
	async get(id: string) {
		const j = await this.redis.hget(this.k("defs"), id);
		return j ? (JSON.parse(j) as ScheduleRow) : null;
	}
	async put(row: Scoped<ScheduleRow>) {
		await this.redis.hset(this.k("defs"), row.id, JSON.stringify(row));
	}
	async remove({ id }: Scoped<ScheduleRow>) {
		await this.redis.multi().hdel(this.k("defs"), id).hdel(this.k("last"), id).del(this.k("history", id)).exec();
	}
	async claim(id: string, dueMs: number, ttlMs: number) {
		return (await this.redis.set(this.k("lock", id, String(dueMs)), "1", "PX", ttlMs, "NX")) === "OK";
	}
	async lastDue(id: string) {
		const v = await this.redis.hget(this.k("last"), id);
		return v ? Number(v) : null;
	}
	async advance(id: string, dueMs: number) {
		await this.redis.eval(MAX_SCRIPT, 1, this.k("last"), id, String(dueMs));
	}
	async addHistory(id: string, entry: HistoryEntry, keep: number) {
		await this.redis
			.multi()
			.lpush(this.k("history", id), JSON.stringify(entry))
			.ltrim(this.k("history", id), 0, keep - 1)
			.exec();
	}
	async history({ id }: Scoped<ScheduleRow>, offset: number, limit: number) {
		const [total, rows] = await Promise.all([
			this.redis.llen(this.k("history", id)),
			this.redis.lrange(this.k("history", id), offset, offset + limit - 1),
		]);
		return { rows: rows.map(r => JSON.parse(r) as HistoryEntry), total };
	}
}

type Stored = ScheduleRow & { lastDueMs?: number | null };
type StoredHistory = HistoryEntry & { id: string; scheduleId: string; seq: number; createdAt?: string };

/** Embedded: one process, so the claim is a local set; rows and history persist in the service's collections. */
export class LocalScheduleStore implements ScheduleStore {
	private readonly defs = new Collection<Stored>({ collection: "schedules" });
	private readonly runs = new Collection<StoredHistory>({ collection: "schedule_history", indexes: [{ fields: ["scheduleId"] }] });
	private readonly claims = new Map<string, number>();
	private seq = Date.now() * 1000;

	async open(broker: ServiceBroker) {
		await this.defs.open(broker);
		await this.runs.open(broker);
	}
	async close() {
		await this.defs.close();
		await this.runs.close();
	}
	async all() {
		return (await this.defs.find({})).map(strip);
	}
	async get(id: string) {
		const row = await this.defs.findOne({ id });
		return row ? strip(row) : null;
	}
	async put(row: Scoped<ScheduleRow>) {
		const existing = await this.defs.findOne({ id: row.id });
		const { id: _id, ...fields } = row;
		if (existing) await this.defs.update({ id: row.id }, fields);
		else await this.defs.insert({ ...row, lastDueMs: null });
	}
	async remove({ id }: Scoped<ScheduleRow>) {
		await this.defs.remove({ id });
		await this.runs.remove({ scheduleId: id });
	}
	async claim(id: string, dueMs: number, ttlMs: number) {
		const now = Date.now();
		for (const [k, until] of this.claims) if (until < now) this.claims.delete(k);
		const key = `${id}:${dueMs}`;
		if (this.claims.has(key)) return false;
		this.claims.set(key, now + ttlMs);
		return true;
	}
	async lastDue(id: string) {
		return (await this.defs.findOne({ id }))?.lastDueMs ?? null;
	}
	async advance(id: string, dueMs: number) {
		await this.defs.update({ id, $or: [{ lastDueMs: null }, { lastDueMs: { $lt: dueMs } }] }, { lastDueMs: dueMs });
	}
	async addHistory(id: string, entry: HistoryEntry, keep: number) {
		await this.runs.insert({ ...entry, scheduleId: id, seq: ++this.seq });
		const total = await this.runs.count({ scheduleId: id });
		if (total > keep) {
			const old = await this.runs.find({ scheduleId: id }, { sort: ["seq"], limit: total - keep });
			await this.runs.remove({ id: { $in: old.map(o => o.id) } });
		}
	}
	async history({ id }: Scoped<ScheduleRow>, offset: number, limit: number) {
		const [rows, total] = await Promise.all([
			this.runs.find({ scheduleId: id }, { sort: ["-seq"], offset, limit }),
			this.runs.count({ scheduleId: id }),
		]);
		return { rows: rows.map(({ id: _i, scheduleId: _s, seq: _q, createdAt: _c, ...e }) => e as HistoryEntry), total };
	}
}

function strip(row: Stored): ScheduleRow {
	const { lastDueMs: _l, ...rest } = row;
	return rest;
}
