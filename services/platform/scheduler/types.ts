/** What the scheduler service keeps and calls: the methods its modules add, its vars, and `this`. */
import type { Ctx } from "../../../lib/context";
import type { ServiceThis } from "../../../lib/schema";
import type { TenantRecordsMethods } from "../../../mixins/tenant-records.mixin";
import type { HistoryEntry, Misfire, ScheduleRow, ScheduleStore } from "./store";

/** A schedule as given to createSchedule and ensure (after validation). */
export interface ScheduleInput {
	name: string;
	cron?: string;
	runAt?: Date;
	timezone: string;
	jobType: string;
	payload: Record<string, unknown>;
	misfire: Misfire;
	paused: boolean;
}

export type ScheduleChanges = { id: string; name?: string; cron?: string; timezone?: string; payload?: Record<string, unknown>; misfire?: Misfire };

export type ScheduleView = ScheduleRow & { nextRunAt: string | null; lastDueAt: string | null };

/** What the tenant scoping lists: a page of the tenant's schedules, oldest first. */
export type ScheduleQuery = { page: number; pageSize: number };

/** Schedules reach the actions through the tenant scoping only (mixins/tenant-records.mixin.ts). */
export interface SchedulerMethods extends TenantRecordsMethods<ScheduleRow, ScheduleQuery> {
	// views.ts
	view(row: ScheduleRow): Promise<ScheduleView>;
	scheduleHistory(ctx: Ctx<{ id: string; page: number; pageSize: number }>): Promise<unknown>;
	// definitions.ts
	checkDefinition(p: { cron?: string | null; runAt?: Date | string | null; timezone: string; jobType: string }): Promise<void>;
	createSchedule(ctx: Ctx<ScheduleInput>): Promise<ScheduleView>;
	updateSchedule(ctx: Ctx<ScheduleChanges>): Promise<ScheduleView>;
	ensureSchedule(ctx: Ctx<ScheduleInput & { id: string }>): Promise<ScheduleView>;
	// firing.ts
	enqueueFiring(row: ScheduleRow, dueMs: number, manual?: boolean): Promise<string>;
	runNow(ctx: Ctx<{ id: string }>): Promise<HistoryEntry>;
	tick(): Promise<void>;
}

export interface SchedulerVars {
	store: ScheduleStore;
	timer?: NodeJS.Timeout;
	ticking: boolean;
	node: string;
}

export type SchedulerThis = ServiceThis<{ rest: string }, SchedulerMethods, SchedulerVars>;

/** Some of the scheduler methods, written in a module beside the service (`this` is the service). */
export type SchedulerMethodsOf<K extends keyof SchedulerMethods> = Pick<SchedulerMethods, K> & ThisType<SchedulerThis>;
