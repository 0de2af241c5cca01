/**
 * Schedules (README, "Jobs, schedules and analytics" → "Scheduler"): recurring (cron expression and IANA
 * time zone, through croner) and one-time (`runAt`) tasks, each firing enqueuing a job. `/api/schedules`
 * for a tenant's admins; `scheduler.ensure` for services declaring platform schedules. Every scheduler
 * node looks at every schedule each SCHEDULER_TICK_MS; a claim per (schedule, due time) in the shared
 * store (Redis in a cluster: SET NX PX) makes each due time fire once however many nodes run.
 */
import os from "node:os";
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import { pageOf, pageParams, pageWindow } from "../../lib/paging";
import type { ServiceSchema } from "../../lib/schema";
import { TenantRecordsMixin } from "../../mixins/tenant-records.mixin";
import { JOB_TYPE_PATTERN } from "./jobs/handlers";
import { nextTimes, parseCron } from "./scheduler/cron";
import { definitionMethods } from "./scheduler/definitions";
import { dueTimes } from "./scheduler/fire";
import { firingMethods } from "./scheduler/firing";
import { platformJobMixins } from "./scheduler/platform-jobs";
import { LocalScheduleStore, RedisScheduleStore, type ScheduleRow } from "./scheduler/store";
import type { ScheduleChanges, ScheduleInput, ScheduleQuery, SchedulerMethods, SchedulerThis, SchedulerVars } from "./scheduler/types";
import { viewMethods } from "./scheduler/views";

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

const SchedulerService: ServiceSchema<{ rest: string }, SchedulerMethods, SchedulerVars> = {
	name: "scheduler",
	// platform.compact and platform.outbox-relay, and their schedules (README, "Platform jobs")
	mixins: [
		// every action reads schedules through this scoping (mixins/tenant-records.mixin.ts)
		TenantRecordsMixin<ScheduleRow, ScheduleQuery, SchedulerThis>({
			get(scheduleId) {
				// eslint-disable-next-line no-restricted-syntax -- the record source the scoping reads through
				return this.store.get(scheduleId);
			},
			async list(tenantId, q) {
				// eslint-disable-next-line no-restricted-syntax -- the record source the scoping reads through
				const mine = (await this.store.all()).filter(r => r.tenantId === tenantId).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
				const { limit, offset } = pageWindow(q);
				return { rows: mine.slice(offset, offset + limit), total: mine.length };
			},
		}),
		...platformJobMixins,
	],
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
				const { rows, total } = await this.scopedRecords(ctx, { page: ctx.params.page, pageSize: ctx.params.pageSize });
				return pageOf(await Promise.all(rows.map(r => this.view(r))), total, ctx.params);
			},
		},
		getSchedule: {
			rest: "GET /:id",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				return this.view(await this.scopedRecord(ctx, ctx.params.id));
			},
		},
		history: {
			rest: "GET /:id/history",
			roles: ["admin"],
			params: { id, ...pageParams, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string; page: number; pageSize: number }>) {
				return this.scheduleHistory(ctx);
			},
		},
		createSchedule: {
			rest: "POST /",
			roles: ["admin"],
			params: fields,
			handler(ctx: Ctx<ScheduleInput>) {
				return this.createSchedule(ctx);
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
			handler(ctx: Ctx<ScheduleChanges>) {
				return this.updateSchedule(ctx);
			},
		},
		deleteSchedule: {
			rest: "DELETE /:id",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				await this.store.remove(await this.scopedRecord(ctx, ctx.params.id));
				ctx.meta.$statusCode = 204;
				return null;
			},
		},
		pause: {
			rest: "POST /:id/pause",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = { ...(await this.scopedRecord(ctx, ctx.params.id)), paused: true, updatedAt: new Date().toISOString() };
				await this.store.put(row);
				return this.view(row);
			},
		},
		resume: {
			rest: "POST /:id/resume",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = { ...(await this.scopedRecord(ctx, ctx.params.id)), paused: false, updatedAt: new Date().toISOString() };
				await this.store.put(row);
				// due times that passed while paused are missed ones: the misfire policy applies to them
				return this.view(row);
			},
		},
		runNow: {
			rest: "POST /:id/run",
			roles: ["admin"],
			params: { id, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.runNow(ctx);
			},
		},

		/** For services: creates or updates a platform schedule (no tenant) under a stable id. */
		ensure: {
			visibility: "public",
			params: { id, ...fields },
			handler(ctx: Ctx<ScheduleInput & { id: string }>) {
				return this.ensureSchedule(ctx);
			},
		},
	},
	methods: {
		...viewMethods,
		...definitionMethods,
		...firingMethods,
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
