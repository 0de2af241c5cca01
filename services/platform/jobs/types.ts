/**
 * The shapes of background jobs (README, "Jobs, schedules and analytics"): what a caller enqueues, the
 * record every engine answers with, and what a handler sees. Both engines (BullMQ on Redis in a cluster,
 * the in-process one embedded) speak exactly these.
 */
import type { ServiceBroker } from "moleculer";
import type { Scoped } from "../../../mixins/tenant-records.mixin";

/**
 * waiting: not started yet (or delayed) · active: a handler runs it · failed: an attempt failed and a retry
 * is due · completed · dead: the last attempt failed (it is in the dead letters) · cancelled.
 */
export type JobStatus = "waiting" | "active" | "completed" | "failed" | "dead" | "cancelled";
export const JOB_STATUSES: JobStatus[] = ["waiting", "active", "completed", "failed", "dead", "cancelled"];

export interface Backoff {
	/** delay before the first retry; doubles with every further one */
	delayMs: number;
	/** the doubling stops here */
	maxDelayMs: number;
	/** 0..1: each delay is drawn from [d × (1 − jitter), d] so retries of many jobs do not align */
	jitter: number;
}

export interface JobSpec {
	type: string;
	/** null: a platform job (no tenant) */
	tenantId: string | null;
	payload: Record<string, unknown>;
	/** 1 runs first; jobs without a priority run before prioritised ones (BullMQ's rule, kept embedded) */
	priority?: number;
	delayMs?: number;
	/** attempts in all, the first included */
	attempts: number;
	backoff: Backoff;
	timeoutMs: number;
	/** a second enqueue with the same key (same tenant and type) answers the existing job */
	idempotencyKey?: string;
}

export interface JobRecord {
	id: string;
	type: string;
	tenantId: string | null;
	status: JobStatus;
	payload: Record<string, unknown>;
	priority: number | null;
	/** attempts allowed */
	attempts: number;
	/** attempts that ran (started), including one a dead node never finished */
	attemptsMade: number;
	progress: { percent: number; message: string | null };
	result: unknown;
	error: string | null;
	logs: string[];
	idempotencyKey: string | null;
	createdAt: string;
	startedAt: string | null;
	finishedAt: string | null;
}

/** What a handler is given: its job, a signal (cancel or timeout), and ways to report. */
export interface JobContext {
	id: string;
	type: string;
	tenantId: string | null;
	payload: Record<string, unknown>;
	/** 1 for the first attempt */
	attempt: number;
	/** aborted when the job is cancelled or runs past its timeout: stop, and throw `signal.reason` */
	signal: AbortSignal;
	progress(percent: number, message?: string): Promise<void>;
	/** an append-only log line on the job record */
	log(line: string): Promise<void>;
}

export type JobHandler = (job: JobContext) => Promise<unknown>;

export interface WorkerInfo {
	node: string;
	type: string;
	concurrency: number;
	active: number;
	lastHeartbeat: string;
}

export interface JobListQuery {
	status?: JobStatus;
	type?: string;
	page: number;
	pageSize: number;
}

export interface JobEngine {
	readonly kind: "bullmq" | "embedded";
	/** ready to use (the embedded engine opens its store and takes up a previous process' jobs); every user calls it, once is done */
	open(broker: ServiceBroker): Promise<void>;
	/** the types some node registered a handler for (enqueueing any other is refused) */
	knownTypes(): Promise<string[]>;
	enqueue(spec: JobSpec): Promise<JobRecord>;
	get(id: string): Promise<JobRecord | null>;
	/** a tenant's jobs (null: platform jobs), newest first */
	list(tenantId: string | null, q: JobListQuery): Promise<{ rows: JobRecord[]; total: number }>;
	/**
	 * waiting or active: the job is cancelled (an active handler sees its signal abort); else null.
	 * Mutations take a `Scoped` record (from TenantRecordsMixin's methods), never a caller's bare id.
	 */
	cancel(job: Scoped<JobRecord>): Promise<JobRecord | null>;
	/** aborts the job if a handler on this node runs it (the broadcast half of `cancel` in a cluster) */
	abortLocal(id: string): void;
	deadLetters(tenantId: string | null | undefined, q: { page: number; pageSize: number }): Promise<{ rows: JobRecord[]; total: number }>;
	/** a dead job runs again with a fresh set of attempts */
	replay(job: Scoped<JobRecord>): Promise<JobRecord | null>;
	discard(job: Scoped<JobRecord>): Promise<boolean>;
	/** start running jobs of `type` on this node */
	work(type: string, concurrency: number, handler: JobHandler): Promise<void>;
	workers(): Promise<WorkerInfo[]>;
	close(): Promise<void>;
}
