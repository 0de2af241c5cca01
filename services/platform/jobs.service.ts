/**
 * Background jobs (README, "Jobs, schedules and analytics"): `/api/jobs` for a tenant's admins, and
 * `jobs.add` for services. The engine holds the queue (BullMQ on Redis in a cluster, in-process
 * embedded: jobs/engine.ts); services run the types they own with JobHandlersMixin (jobs/handlers.ts).
 */
import { currentTenantUser, type Ctx } from "../../lib/context";
import { config } from "../../lib/config";
import { InvalidInputError, JobStateError, UnknownJobTypeError } from "../../lib/errors";
import { pageOf, pageParams } from "../../lib/paging";
import type { ServiceSchema, ServiceThis } from "../../lib/schema";
import { TenantRecordsMixin, type TenantRecordsMethods } from "../../mixins/tenant-records.mixin";
import { acquireJobEngine, defaultBackoff, releaseJobEngine } from "./jobs/engine";
import { CANCEL_EVENT, JOB_TYPE_PATTERN } from "./jobs/handlers";
import { JOB_STATUSES, type JobEngine, type JobRecord, type JobSpec, type JobStatus } from "./jobs/types";

/** A payload larger than this (as JSON) is refused: jobs carry ids and options, not documents. */
export const MAX_PAYLOAD_BYTES = 64 * 1024;

const id = { type: "string", min: 1, max: 64, pattern: /^[\w-]+$/ } as const;
const type = { type: "string", min: 1, max: 64, pattern: JOB_TYPE_PATTERN } as const;

export const enqueueParams = {
	type,
	payload: { type: "object", default: {} },
	priority: { type: "number", integer: true, min: 1, max: 1000, optional: true },
	delayMs: { type: "number", integer: true, min: 0, max: 30 * 24 * 3600_000, optional: true },
	attempts: { type: "number", integer: true, min: 1, max: 50, optional: true },
	backoff: {
		type: "object",
		optional: true,
		strict: "remove",
		props: {
			delayMs: { type: "number", integer: true, min: 0, max: 24 * 3600_000 },
			maxDelayMs: { type: "number", integer: true, min: 0, max: 7 * 24 * 3600_000, optional: true },
			jitter: { type: "number", min: 0, max: 1, optional: true },
		},
	},
	timeoutMs: { type: "number", integer: true, min: 100, max: 24 * 3600_000, optional: true },
	idempotencyKey: { type: "string", min: 1, max: 200, optional: true },
} as const;

export interface EnqueueParams {
	type: string;
	payload: Record<string, unknown>;
	priority?: number;
	delayMs?: number;
	attempts?: number;
	backoff?: { delayMs: number; maxDelayMs?: number; jitter?: number };
	timeoutMs?: number;
	idempotencyKey?: string;
}

/** What the tenant scoping lists: a tenant's jobs, or its dead letters. */
type JobQuery = { page: number; pageSize: number; status?: JobStatus; type?: string; deadLetters?: boolean };

/** Jobs reach the actions through the tenant scoping only (mixins/tenant-records.mixin.ts). */
interface Methods extends TenantRecordsMethods<JobRecord, JobQuery> {
	enqueueFor(tenantId: string | null, p: EnqueueParams): Promise<JobRecord>;
}

interface Vars {
	engine: JobEngine;
}

const JobsService: ServiceSchema<Record<string, never>, Methods, Vars> = {
	name: "jobs",
	mixins: [
		TenantRecordsMixin<JobRecord, JobQuery, ServiceThis<Record<string, never>, Methods, Vars>>({
			get(jobId) {
				// eslint-disable-next-line no-restricted-syntax -- the record source the scoping reads through
				return this.engine.get(jobId);
			},
			list(tenantId, { deadLetters, ...q }) {
				// eslint-disable-next-line no-restricted-syntax -- the record source the scoping reads through
				return deadLetters ? this.engine.deadLetters(tenantId, q) : this.engine.list(tenantId, q);
			},
		}),
	],
	actions: {
		listWorkers: {
			rest: "GET /workers",
			roles: ["admin"],
			params: { $$strict: "remove" },
			async handler() {
				return { rows: await this.engine.workers() };
			},
		},
		listDeadLetters: {
			rest: "GET /dead-letters",
			roles: ["admin"],
			params: { ...pageParams, $$strict: "remove" },
			async handler(ctx: Ctx<{ page: number; pageSize: number }>) {
				const { page, pageSize } = ctx.params;
				const { rows, total } = await this.scopedRecords(ctx, { page, pageSize, deadLetters: true });
				return pageOf(rows, total, { page, pageSize });
			},
		},
		replayDeadLetter: {
			rest: "POST /dead-letters/:id/replay",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const job = await this.scopedRecord(ctx, ctx.params.id);
				const replayed = await this.engine.replay(job);
				if (!replayed) throw new JobStateError("replayed", job.status);
				return replayed;
			},
		},
		discardDeadLetter: {
			rest: "DELETE /dead-letters/:id",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const job = await this.scopedRecord(ctx, ctx.params.id);
				if (!(await this.engine.discard(job))) throw new JobStateError("discarded", job.status);
				ctx.meta.$statusCode = 204;
				return null;
			},
		},
		listJobs: {
			rest: "GET /",
			roles: ["admin"],
			params: {
				...pageParams,
				status: { type: "enum", values: JOB_STATUSES, optional: true },
				type: { ...type, optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ page: number; pageSize: number; status?: JobStatus; type?: string }>) {
				const { page, pageSize, status, type } = ctx.params;
				const { rows, total } = await this.scopedRecords(ctx, { page, pageSize, status, type });
				return pageOf(rows, total, { page, pageSize });
			},
		},
		getJob: {
			rest: "GET /:id",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.scopedRecord(ctx, ctx.params.id);
			},
		},
		enqueue: {
			rest: "POST /",
			roles: ["admin"],
			params: enqueueParams,
			async handler(ctx: Ctx<EnqueueParams>) {
				const job = await this.enqueueFor(currentTenantUser(ctx).tenantId, ctx.params);
				ctx.meta.$statusCode = 202;
				ctx.meta.$responseHeaders = { Location: `/api/jobs/${job.id}` };
				return job;
			},
		},
		cancel: {
			rest: "POST /:id/cancel",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const job = await this.scopedRecord(ctx, ctx.params.id);
				const cancelled = await this.engine.cancel(job);
				if (!cancelled) throw new JobStateError("cancelled", job.status);
				// the node whose handler runs it aborts the handler's signal
				if (job.status === "active") await ctx.broadcast(CANCEL_EVENT, { id: job.id });
				return cancelled;
			},
		},

		/** For services: enqueue a job for a tenant (or a platform job: `tenantId: null`). */
		add: {
			visibility: "public",
			params: { ...enqueueParams, tenantId: { type: "string", min: 1, max: 64, nullable: true } },
			handler(ctx: Ctx<EnqueueParams & { tenantId: string | null }>) {
				const { tenantId, ...spec } = ctx.params;
				return this.enqueueFor(tenantId, spec);
			},
		},
		/** For operators (REPL): the dead letters of every tenant and the platform (unscoped, deliberately). */
		allDeadLetters: {
			visibility: "public",
			params: { ...pageParams },
			async handler(ctx: Ctx<{ page: number; pageSize: number }>) {
				const { page, pageSize } = ctx.params;
				// eslint-disable-next-line no-restricted-syntax -- operators' view across tenants (REPL `jobs-dead`), on purpose
				const { rows, total } = await this.engine.deadLetters(undefined, { page, pageSize });
				return pageOf(rows, total, { page, pageSize });
			},
		},
		/** For operators (REPL): replays a dead job of any tenant; null if it is not dead. */
		replayAny: {
			visibility: "public",
			params: { id },
			async handler(ctx: Ctx<{ id: string }>) {
				const job = await this.unscopedRecord(ctx.params.id);
				return job && this.engine.replay(job);
			},
		},
		/** For operators (REPL): discards a dead job of any tenant; whether it was one. */
		discardAny: {
			visibility: "public",
			params: { id },
			async handler(ctx: Ctx<{ id: string }>) {
				const job = await this.unscopedRecord(ctx.params.id);
				return !!job && this.engine.discard(job);
			},
		},
		/** The job types some node handles (what may be enqueued or scheduled). */
		types: {
			visibility: "public",
			async handler() {
				return (await this.engine.knownTypes()).sort();
			},
		},
		/** For services and operators: one job of any tenant, or null. */
		find: {
			visibility: "public",
			params: { id },
			handler(ctx: Ctx<{ id: string }>) {
				return this.unscopedRecord(ctx.params.id);
			},
		},
	},
	methods: {
		async enqueueFor(tenantId, p) {
			if (!(await this.engine.knownTypes()).includes(p.type)) throw new UnknownJobTypeError(p.type);
			if (Buffer.byteLength(JSON.stringify(p.payload)) > MAX_PAYLOAD_BYTES)
				throw new InvalidInputError("The payload is too large.", [
					{ field: "payload", message: `at most ${MAX_PAYLOAD_BYTES} bytes as JSON` },
				]);
			const cfg = config();
			const base = defaultBackoff(cfg);
			const spec: JobSpec = {
				type: p.type,
				tenantId,
				payload: p.payload,
				priority: p.priority,
				delayMs: p.delayMs,
				attempts: p.attempts ?? cfg.JOBS_DEFAULT_ATTEMPTS,
				backoff: p.backoff
					? { delayMs: p.backoff.delayMs, maxDelayMs: p.backoff.maxDelayMs ?? base.maxDelayMs, jitter: p.backoff.jitter ?? base.jitter }
					: base,
				timeoutMs: p.timeoutMs ?? cfg.JOBS_TIMEOUT_MS,
				idempotencyKey: p.idempotencyKey,
			};
			return this.engine.enqueue(spec);
		},
	},
	created() {
		this.engine = acquireJobEngine();
		const cfg = config();
		if (cfg.TRANSPORTER && !cfg.REDIS_URL)
			this.logger.warn(
				'jobs: a cluster node without REDIS_URL runs the in-process job engine: jobs are not shared with other nodes (README, "Jobs, schedules and analytics")',
			);
	},
	async started() {
		await this.engine.open(this.broker);
	},
	async stopped() {
		await releaseJobEngine();
	},
};

export default JobsService;
