/**
 * The cluster job engine: BullMQ on Redis (README, "Jobs, schedules and analytics" → "Engines"). One
 * BullMQ queue per job type (a worker serves one queue, so concurrency is per type); the job record is
 * BullMQ's own job (state, attempts, progress, logs, result, failure), so nothing is copied to a second
 * store that could disagree with it. Beside BullMQ's keys, under the same prefix:
 *   <prefix>:types              SET   every type some node registered a handler for
 *   <prefix>:ids                HASH  job id → type (the queue to look in)
 *   <prefix>:tenant:<tenant>    ZSET  the tenant's job ids by creation time (listing, newest first)
 *   <prefix>:cancelled          HASH  job id → when it was cancelled
 *   <prefix>:workers            HASH  "<node>|<type>" → the worker's last heartbeat
 * At least once: a worker whose process dies loses its lock after JOBS_LOCK_MS and another node runs the
 * job again (BullMQ's stalled-job check); `attemptsMade` counts every start.
 */
import { Queue, UnrecoverableError, Worker, type Job } from "bullmq";
import type { Redis } from "ioredis";
import { JobCancelledError, PermanentJobError } from "../../../lib/errors";
import { redisClient, redisConnectionOptions } from "../../../lib/redis";
import { newId } from "../../../mixins/db.mixin";
import type { Scoped } from "../../../mixins/tenant-records.mixin";
import { retryDelayMs } from "./backoff";
import { clampPercent, idempotentId } from "./memory-engine";
import { runAttempt } from "./run";
import type { Backoff, JobEngine, JobHandler, JobListQuery, JobRecord, JobSpec, JobStatus, WorkerInfo } from "./types";

interface JobData {
	tenantId: string | null;
	payload: Record<string, unknown>;
	timeoutMs: number;
	backoff: Backoff;
	idempotencyKey: string | null;
}

export interface BullEngineOptions {
	redisUrl: string;
	/** BullMQ key prefix (the namespace's) */
	prefix: string;
	node: string;
	lockMs: number;
	heartbeatMs: number;
	/** completed and cancelled records are kept this long */
	retentionMs: number;
	/** dead letters are kept this long */
	deadRetentionMs: number;
}

/** The failure reason BullMQ stores for a cancelled job. */
const CANCELLED = "cancelled: ";
/** How many of a tenant's latest jobs a filtered list looks through. */
const SCAN_LIMIT = 1000;
const MAX_LOG_LINES = 200;

export class BullJobEngine implements JobEngine {
	readonly kind = "bullmq" as const;
	private readonly redis: Redis;
	private readonly queues = new Map<string, Queue>();
	private readonly localWorkers = new Map<string, { worker: Worker; concurrency: number; counter: { active: number } }>();
	private readonly heartbeat: NodeJS.Timeout;
	private readonly connection: Record<string, unknown>;

	constructor(private readonly o: BullEngineOptions) {
		this.redis = redisClient(o.redisUrl, "durable");
		// BullMQ's workers block on Redis and retry forever through an outage: it asks for no per-request retry cap.
		this.connection = { ...redisConnectionOptions(o.redisUrl), maxRetriesPerRequest: null };
		this.heartbeat = setInterval(() => void this.beat().catch(() => undefined), o.heartbeatMs);
		this.heartbeat.unref();
	}

	private key(...parts: string[]): string {
		return [this.o.prefix, ...parts].join(":");
	}

	private queue(type: string): Queue {
		let q = this.queues.get(type);
		if (!q) {
			q = new Queue(type, { connection: this.connection, prefix: this.o.prefix });
			q.on("error", () => undefined);
			this.queues.set(type, q);
		}
		return q;
	}

	/** Redis holds everything: nothing to open. */
	async open(): Promise<void> {}

	knownTypes(): Promise<string[]> {
		return this.redis.smembers(this.key("types"));
	}

	async enqueue(spec: JobSpec): Promise<JobRecord> {
		const id = spec.idempotencyKey ? idempotentId(spec) : newId();
		const data: JobData = {
			tenantId: spec.tenantId,
			payload: spec.payload,
			timeoutMs: spec.timeoutMs,
			backoff: spec.backoff,
			idempotencyKey: spec.idempotencyKey ?? null,
		};
		await this.redis
			.multi()
			.hset(this.key("ids"), id, spec.type)
			.zadd(this.key("tenant", tenantKey(spec.tenantId)), "NX", Date.now(), id)
			.exec();
		// The same id a second time is not added again: BullMQ answers the job that holds it.
		await this.queue(spec.type).add(spec.type, data, {
			jobId: id,
			attempts: spec.attempts,
			backoff: { type: "valence" },
			...(spec.delayMs ? { delay: spec.delayMs } : {}),
			...(spec.priority ? { priority: spec.priority } : {}),
			keepLogs: MAX_LOG_LINES,
			removeOnComplete: { age: Math.ceil(this.o.retentionMs / 1000) },
			removeOnFail: { age: Math.ceil(this.o.deadRetentionMs / 1000) },
		});
		return (await this.get(id))!;
	}

	private async job(id: string): Promise<Job | null> {
		const type = await this.redis.hget(this.key("ids"), id);
		if (!type) return null;
		return ((await this.queue(type).getJob(id)) as Job | undefined) ?? null;
	}

	async get(id: string): Promise<JobRecord | null> {
		const job = await this.job(id);
		return job ? this.toRecord(job) : null;
	}

	private async toRecord(job: Job): Promise<JobRecord> {
		const data = job.data as JobData;
		const [state, cancelledAt, logs] = await Promise.all([
			job.getState(),
			this.redis.hget(this.key("cancelled"), job.id!),
			this.queue(job.name).getJobLogs(job.id!, 0, MAX_LOG_LINES - 1, true),
		]);
		const attemptsMade = Math.max(job.attemptsStarted ?? 0, job.attemptsMade);
		const failedReason = job.failedReason ?? null;
		const progress =
			typeof job.progress === "object" && job.progress
				? (job.progress as { percent?: number; message?: string })
				: { percent: Number(job.progress) || 0 };
		return {
			id: job.id!,
			type: job.name,
			tenantId: data.tenantId,
			status: statusOf(state, attemptsMade, failedReason, !!cancelledAt),
			payload: data.payload,
			priority: job.opts.priority || null,
			attempts: job.opts.attempts ?? 1,
			attemptsMade,
			progress: { percent: clampPercent(progress.percent ?? 0), message: progress.message ?? null },
			result: job.returnvalue ?? null,
			error: failedReason?.startsWith(CANCELLED) ? failedReason.slice(CANCELLED.length) : failedReason,
			logs: logs.logs,
			idempotencyKey: data.idempotencyKey,
			createdAt: new Date(job.timestamp).toISOString(),
			startedAt: job.processedOn ? new Date(job.processedOn).toISOString() : null,
			finishedAt: job.finishedOn ? new Date(job.finishedOn).toISOString() : null,
		};
	}

	async list(tenantId: string | null, q: JobListQuery) {
		const key = this.key("tenant", tenantKey(tenantId));
		if (!q.status && !q.type) {
			const [total, ids] = await Promise.all([
				this.redis.zcard(key),
				this.redis.zrevrange(key, (q.page - 1) * q.pageSize, q.page * q.pageSize - 1),
			]);
			return { rows: await this.records(key, ids), total };
		}
		const all = (await this.records(key, await this.redis.zrevrange(key, 0, SCAN_LIMIT - 1))).filter(
			r => (!q.status || r.status === q.status) && (!q.type || r.type === q.type),
		);
		return { rows: all.slice((q.page - 1) * q.pageSize, q.page * q.pageSize), total: all.length };
	}

	/** The records of these ids, in order; ids whose job BullMQ removed (retention) leave the index. */
	private async records(indexKey: string, ids: string[]): Promise<JobRecord[]> {
		const jobs = await Promise.all(ids.map(id => this.job(id)));
		const gone = ids.filter((_, i) => !jobs[i]);
		if (gone.length)
			await this.redis
				.multi()
				.zrem(indexKey, ...gone)
				.hdel(this.key("ids"), ...gone)
				.exec();
		return Promise.all(jobs.filter((j): j is Job => !!j).map(j => this.toRecord(j)));
	}

	async cancel({ id }: Scoped<JobRecord>): Promise<JobRecord | null> {
		const job = await this.job(id);
		if (!job) return null;
		const state = await job.getState();
		if (state === "completed" || state === "failed" || (await this.redis.hexists(this.key("cancelled"), id))) return null;
		await this.redis.hset(this.key("cancelled"), id, new Date().toISOString());
		// A delayed job (a delay, or a retry's backoff) runs now, so a worker closes its record as cancelled.
		if (state === "delayed") await job.promote().catch(() => undefined);
		this.abortLocal(id);
		return this.toRecord(job);
	}

	abortLocal(id: string): void {
		for (const w of this.localWorkers.values()) w.worker.cancelJob(id, "cancelled");
	}

	async deadLetters(tenantId: string | null | undefined, q: { page: number; pageSize: number }) {
		const dead: JobRecord[] = [];
		for (const type of await this.knownTypes()) {
			const failed = (await this.queue(type).getFailed(0, SCAN_LIMIT - 1)) as Job[];
			for (const job of failed) {
				if (tenantId !== undefined && (job.data as JobData).tenantId !== tenantId) continue;
				const r = await this.toRecord(job);
				if (r.status === "dead") dead.push(r);
			}
		}
		dead.sort((a, b) => b.createdAt.localeCompare(a.createdAt));
		return { rows: dead.slice((q.page - 1) * q.pageSize, q.page * q.pageSize), total: dead.length };
	}

	async replay({ id }: Scoped<JobRecord>): Promise<JobRecord | null> {
		const job = await this.job(id);
		if (!job || (await this.toRecord(job)).status !== "dead") return null;
		await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
		return this.get(id);
	}

	async discard({ id }: Scoped<JobRecord>): Promise<boolean> {
		const job = await this.job(id);
		if (!job || (await this.toRecord(job)).status !== "dead") return false;
		await job.remove();
		await this.redis
			.multi()
			.hdel(this.key("ids"), id)
			.zrem(this.key("tenant", tenantKey((job.data as JobData).tenantId)), id)
			.exec();
		return true;
	}

	async work(type: string, concurrency: number, handler: JobHandler): Promise<void> {
		// a second service of the same type in this process (two brokers in one test) shares the first worker; a second one would leak
		if (this.localWorkers.has(type)) return;
		const counter = { active: 0 };
		const worker = new Worker(type, (job, _token, signal) => this.process(job as Job, handler, counter, signal), {
			connection: this.connection,
			prefix: this.o.prefix,
			concurrency,
			lockDuration: this.o.lockMs,
			stalledInterval: this.o.lockMs,
			maxStalledCount: 2,
			settings: { backoffStrategy: (attemptsMade, _type, _err, job) => retryDelayMs((job?.data as JobData).backoff, attemptsMade) },
		});
		worker.on("error", () => undefined);
		this.localWorkers.set(type, { worker, concurrency, counter });
		await this.redis.sadd(this.key("types"), type);
		await this.beat();
	}

	private async process(job: Job, handler: JobHandler, slot: { active: number }, signal?: AbortSignal): Promise<unknown> {
		const data = job.data as JobData;
		if (await this.redis.hexists(this.key("cancelled"), job.id!)) throw new UnrecoverableError(CANCELLED + "The job was cancelled.");
		slot.active++;
		try {
			return await runAttempt(
				handler,
				{
					id: job.id!,
					type: job.name,
					tenantId: data.tenantId,
					payload: data.payload,
					attempt: Math.max(job.attemptsStarted ?? 0, job.attemptsMade + 1),
					progress: (percent, message) => job.updateProgress({ percent: clampPercent(percent), message: message ?? null }),
					log: async line => void (await job.log(String(line).slice(0, 2000))),
				},
				{ timeoutMs: data.timeoutMs, cancel: signal ?? new AbortController().signal },
			);
		} catch (err) {
			if (err instanceof JobCancelledError || signal?.aborted) throw new UnrecoverableError(CANCELLED + "The job was cancelled.");
			if (err instanceof PermanentJobError) throw new UnrecoverableError(err.message);
			throw err;
		} finally {
			slot.active--;
		}
	}

	private async beat(): Promise<void> {
		if (!this.localWorkers.size) return;
		const at = new Date().toISOString();
		const fields: Record<string, string> = {};
		for (const [type, w] of this.localWorkers)
			fields[`${this.o.node}|${type}`] = JSON.stringify({
				node: this.o.node,
				type,
				concurrency: w.concurrency,
				active: w.counter.active,
				lastHeartbeat: at,
			} satisfies WorkerInfo);
		await this.redis.hset(this.key("workers"), fields);
	}

	async workers(): Promise<WorkerInfo[]> {
		const all = await this.redis.hgetall(this.key("workers"));
		const cutoff = Date.now() - 3 * this.o.heartbeatMs;
		const out: WorkerInfo[] = [];
		const stale: string[] = [];
		for (const [field, json] of Object.entries(all)) {
			const w = JSON.parse(json) as WorkerInfo;
			if (Date.parse(w.lastHeartbeat) < cutoff) stale.push(field);
			else out.push(w);
		}
		if (stale.length) await this.redis.hdel(this.key("workers"), ...stale);
		return out.sort((a, b) => a.node.localeCompare(b.node) || a.type.localeCompare(b.type));
	}

	async close(): Promise<void> {
		clearInterval(this.heartbeat);
		const fields = [...this.localWorkers.keys()].map(t => `${this.o.node}|${t}`);
		await Promise.all([...this.localWorkers.values()].map(w => w.worker.close(true).catch(() => undefined)));
		if (fields.length) await this.redis.hdel(this.key("workers"), ...fields).catch(() => undefined);
		await Promise.all([...this.queues.values()].map(q => q.close().catch(() => undefined)));
		this.redis.disconnect();
	}
}

const tenantKey = (tenantId: string | null) => tenantId ?? "_platform";

function statusOf(state: string, attemptsMade: number, failedReason: string | null, cancelled: boolean): JobStatus {
	if (state === "completed") return "completed";
	if (state === "failed") return failedReason?.startsWith(CANCELLED) ? "cancelled" : "dead";
	// cancelled at once, an active one too (its handler's signal is aborting)
	if (cancelled) return "cancelled";
	if (state === "active") return "active";
	return attemptsMade > 0 && failedReason ? "failed" : "waiting";
}
