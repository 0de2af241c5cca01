/**
 * Schedules (README, "Jobs, schedules and analytics" → "Scheduler"): recurring (cron expression and IANA
 * time zone, through croner) and one-time (`runAt`) tasks, each firing enqueuing a job. `/api/schedules`
 * for a tenant's admins; `scheduler.ensure` for services declaring platform schedules. Every scheduler
 * node looks at every schedule each SCHEDULER_TICK_MS; a claim per (schedule, due time) in the shared
 * store (Redis in a cluster: SET NX PX) makes each due time fire once however many nodes run.
 */
import os from "node:os";
import { config } from "../../lib/config";
import { currentTenantUser, type Ctx } from "../../lib/context";
import { InvalidInputError, NotFoundError } from "../../lib/errors";
import { pageOf, pageParams, pageWindow } from "../../lib/paging";
import type { ServiceSchema } from "../../lib/schema";
import { newId } from "../../mixins/db.mixin";
import { JOB_TYPE_PATTERN } from "./jobs/handlers";
import type { JobRecord } from "./jobs/types";
import { nextTimes, parseCron, checkTimezone } from "./scheduler/cron";
import { platformJobMixins } from "./scheduler/platform-jobs";
import { dueTimes, fireDue } from "./scheduler/fire";
import { LocalScheduleStore, RedisScheduleStore, type HistoryEntry, type Misfire, type ScheduleRow, type ScheduleStore } from "./scheduler/store";

const id = { type: "string", min: 1, max: 64, pattern: /^[\w-]+$/ } as const;
/** five or six fields (seconds first), or a nickname such as @daily; croner checks the rest */
const cron = { type: "string", min: 5, max: 120, trim: true, pattern: /^(\S+( \S+){4,5}|@\w+)$/ } as const;
const timezone = { type: "string", min: 1, max: 64, default: "UTC" } as const;
const fields = {
	name: { type: "string", min: 1, max: 200, trim: true },
	cron: { ...cron, optional: true },
	runAt: { type: "date", convert: true, optional: true },
	timezone,
	jobType: { type: "string", min: 1, max: 64, pattern: JOB_TYPE_PATTERN },
	payload: { type: "object", default: {} },
	misfire: { type: "enum", values: ["skip", "runOnce"], default: "skip" },
	paused: { type: "boolean", default: false },
} as const;

interface ScheduleInput {
	name: string;
	cron?: string;
	runAt?: Date;
	timezone: string;
	jobType: string;
	payload: Record<string, unknown>;
	misfire: Misfire;
	paused: boolean;
}

export type ScheduleView = ScheduleRow & { nextRunAt: string | null; lastDueAt: string | null };

interface Methods {
	view(row: ScheduleRow): Promise<ScheduleView>;
	tenantSchedule(ctx: Ctx<unknown>, id: string): Promise<ScheduleRow>;
	checkDefinition(p: { cron?: string | null; runAt?: Date | string | null; timezone: string; jobType: string }): Promise<void>;
	enqueueFiring(row: ScheduleRow, dueMs: number, manual?: boolean): Promise<string>;
	tick(): Promise<void>;
}

interface Vars {
	store: ScheduleStore;
	timer?: NodeJS.Timeout;
	ticking: boolean;
	node: string;
}

const SchedulerService: ServiceSchema<{ rest: string }, Methods, Vars> = {
	name: "scheduler",
	// platform.compact and platform.outbox-relay, and their schedules (README, "Platform jobs")
	mixins: platformJobMixins,
	settings: { rest: "/schedules" },
	actions: {
		nextTimes: {
			rest: "GET /next",
			roles: ["member"],
			params: { cron, timezone, count: { type: "number", integer: true, min: 1, max: 50, default: 5, convert: true }, $$strict: "remove" },
			handler(ctx: Ctx<{ cron: string; timezone: string; count: number }>) {
				const { cron, timezone, count } = ctx.params;
				return { cron, timezone, times: nextTimes(parseCron(cron, timezone), count).map(d => d.toISOString()) };
			},
		},
		listSchedules: {
			rest: "GET /",
			roles: ["admin"],
			params: { ...pageParams, $$strict: "remove" },
			async handler(ctx: Ctx<{ page: number; pageSize: number }>) {
				const tenantId = currentTenantUser(ctx).tenantId;
				const mine = (await this.store.all()).filter(r => r.tenantId === tenantId).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
				const { limit, offset } = pageWindow(ctx.params);
				return pageOf(await Promise.all(mine.slice(offset, offset + limit).map(r => this.view(r))), mine.length, ctx.params);
			},
		},
		getSchedule: {
			rest: "GET /:id",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				return this.view(await this.tenantSchedule(ctx, ctx.params.id));
			},
		},
		history: {
			rest: "GET /:id/history",
			roles: ["admin"],
			params: { id, ...pageParams, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; page: number; pageSize: number }>) {
				const row = await this.tenantSchedule(ctx, ctx.params.id);
				const { limit, offset } = pageWindow(ctx.params);
				const { rows, total } = await this.store.history(row.id, offset, limit);
				// the outcome of each firing's job, as it is now
				const withJobs = await Promise.all(
					rows.map(async (h: HistoryEntry) => {
						const job = h.jobId ? ((await ctx.call("jobs.find", { id: h.jobId })) as JobRecord | null) : null;
						return { ...h, jobStatus: job?.status ?? null };
					}),
				);
				return pageOf(withJobs, total, ctx.params);
			},
		},
		createSchedule: {
			rest: "POST /",
			roles: ["admin"],
			params: fields,
			async handler(ctx: Ctx<ScheduleInput>) {
				const user = currentTenantUser(ctx);
				const p = ctx.params;
				await this.checkDefinition(p);
				const at = new Date().toISOString();
				const row: ScheduleRow = {
					id: newId(),
					tenantId: user.tenantId,
					name: p.name,
					cron: p.cron ?? null,
					timezone: p.timezone,
					runAt: p.runAt ? p.runAt.toISOString() : null,
					jobType: p.jobType,
					payload: p.payload,
					misfire: p.misfire,
					paused: p.paused,
					createdBy: user.id,
					createdAt: at,
					updatedAt: at,
				};
				await this.store.put(row);
				ctx.meta.$statusCode = 201;
				ctx.meta.$responseHeaders = { Location: `/api/schedules/${row.id}` };
				return this.view(row);
			},
		},
		updateSchedule: {
			rest: "PATCH /:id",
			roles: ["admin"],
			params: {
				id,
				name: { ...fields.name, optional: true },
				cron: { ...cron, optional: true },
				timezone: { ...timezone, default: undefined, optional: true },
				payload: { type: "object", optional: true },
				misfire: { ...fields.misfire, default: undefined, optional: true },
				$$strict: "remove",
			},
			async handler(
				ctx: Ctx<{ id: string; name?: string; cron?: string; timezone?: string; payload?: Record<string, unknown>; misfire?: Misfire }>,
			) {
				const row = await this.tenantSchedule(ctx, ctx.params.id);
				const { id: _id, ...changes } = ctx.params;
				if (changes.cron && !row.cron)
					throw new InvalidInputError("A one-time task has no cron expression.", [
						{ field: "cron", message: "not allowed on a one-time task" },
					]);
				const next: ScheduleRow = {
					...row,
					...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)),
					updatedAt: new Date().toISOString(),
				};
				await this.checkDefinition(next);
				await this.store.put(next);
				return this.view(next);
			},
		},
		deleteSchedule: {
			rest: "DELETE /:id",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = await this.tenantSchedule(ctx, ctx.params.id);
				await this.store.remove(row.id);
				ctx.meta.$statusCode = 204;
				return null;
			},
		},
		pause: {
			rest: "POST /:id/pause",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = { ...(await this.tenantSchedule(ctx, ctx.params.id)), paused: true, updatedAt: new Date().toISOString() };
				await this.store.put(row);
				return this.view(row);
			},
		},
		resume: {
			rest: "POST /:id/resume",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = { ...(await this.tenantSchedule(ctx, ctx.params.id)), paused: false, updatedAt: new Date().toISOString() };
				await this.store.put(row);
				// due times that passed while paused are missed ones: the misfire policy applies to them
				return this.view(row);
			},
		},
		runNow: {
			rest: "POST /:id/run",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = await this.tenantSchedule(ctx, ctx.params.id);
				const now = Date.now();
				const jobId = await this.enqueueFiring(row, now, true);
				const entry: HistoryEntry = {
					dueAt: new Date(now).toISOString(),
					firedAt: new Date().toISOString(),
					jobId,
					outcome: "enqueued",
					missed: 0,
					error: null,
					node: this.node,
				};
				await this.store.addHistory(row.id, entry, config().SCHEDULER_HISTORY_MAX);
				ctx.meta.$statusCode = 202;
				return entry;
			},
		},

		/** For services: creates or updates a platform schedule (no tenant) under a stable id. */
		ensure: {
			visibility: "public",
			params: { id, ...fields },
			async handler(ctx: Ctx<ScheduleInput & { id: string }>) {
				const p = ctx.params;
				await this.checkDefinition(p);
				const existing = await this.store.get(p.id);
				const at = new Date().toISOString();
				const row: ScheduleRow = {
					id: p.id,
					tenantId: null,
					name: p.name,
					cron: p.cron ?? null,
					timezone: p.timezone,
					runAt: p.runAt ? p.runAt.toISOString() : null,
					jobType: p.jobType,
					payload: p.payload,
					misfire: p.misfire,
					paused: existing?.paused ?? p.paused,
					createdBy: "system",
					createdAt: existing?.createdAt ?? at,
					updatedAt: at,
				};
				await this.store.put(row);
				return this.view(row);
			},
		},
	},
	methods: {
		async view(row) {
			const last = await this.store.lastDue(row.id);
			let nextRunAt: string | null = null;
			if (!row.paused) {
				if (row.cron) nextRunAt = nextTimes(parseCron(row.cron, row.timezone), 1)[0]?.toISOString() ?? null;
				else if (last === null) nextRunAt = row.runAt;
			}
			return { ...row, nextRunAt, lastDueAt: last === null ? null : new Date(last).toISOString() };
		},
		async tenantSchedule(ctx, scheduleId) {
			const row = await this.store.get(scheduleId);
			if (!row || row.tenantId !== currentTenantUser(ctx).tenantId) throw new NotFoundError("Not found.", scheduleId);
			return row;
		},
		async checkDefinition(p) {
			if (!p.cron === !p.runAt)
				throw new InvalidInputError("Give either a cron expression or a runAt time.", [
					{ field: p.cron ? "runAt" : "cron", message: "give exactly one of cron and runAt" },
				]);
			if (p.cron) parseCron(p.cron, p.timezone);
			else checkTimezone(p.timezone);
			const types = (await this.broker.call("jobs.types")) as string[];
			if (!types.includes(p.jobType))
				throw new InvalidInputError("No service handles this job type.", [
					{ field: "jobType", message: `no service handles jobs of type '${p.jobType}'` },
				]);
		},
		async enqueueFiring(row, dueMs, manual = false) {
			const job = (await this.broker.call("jobs.add", {
				type: row.jobType,
				tenantId: row.tenantId,
				payload: { ...row.payload, scheduledFor: new Date(dueMs).toISOString(), scheduleId: row.id },
				idempotencyKey: `schedule-${row.id}-${manual ? "manual-" : ""}${dueMs}`,
			})) as JobRecord;
			return job.id;
		},
		async tick() {
			if (this.ticking) return;
			this.ticking = true;
			try {
				const cfg = config();
				for (const row of await this.store.all()) {
					await fireDue(row, {
						store: this.store,
						now: Date.now(),
						graceMs: cfg.SCHEDULER_MISFIRE_GRACE_MS,
						historyMax: cfg.SCHEDULER_HISTORY_MAX,
						node: this.node,
						enqueue: (r, due) => this.enqueueFiring(r, due),
					}).catch(err => this.logger.warn(`schedule ${row.id} could not fire`, { error: (err as Error).message }));
				}
			} catch (err) {
				this.logger.warn("scheduler tick failed", { error: (err as Error).message });
			} finally {
				this.ticking = false;
			}
		},
	},
	created() {
		const cfg = config();
		this.node = cfg.NODE_ID ?? `${os.hostname()}-${process.pid}`;
		this.ticking = false;
		this.store = cfg.REDIS_URL ? new RedisScheduleStore(cfg.REDIS_URL, `${cfg.NAMESPACE}:sched`) : new LocalScheduleStore();
		if (cfg.TRANSPORTER && !cfg.REDIS_URL)
			this.logger.warn(
				'scheduler: a cluster node without REDIS_URL claims due times in-process: several scheduler nodes would each fire them (README, "Jobs, schedules and analytics")',
			);
	},
	async started() {
		await this.store.open(this.broker);
		this.timer = setInterval(() => void this.tick(), config().SCHEDULER_TICK_MS);
	},
	async stopped() {
		clearInterval(this.timer);
		while (this.ticking) await new Promise(r => setTimeout(r, 20));
		await this.store.close();
	},
};

export { dueTimes };
export default SchedulerService;
