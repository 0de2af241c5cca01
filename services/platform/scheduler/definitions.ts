/** Defining schedules: a tenant's (create, update) and the platform's (ensure, under a stable id), each checked before it is stored. */
import { currentTenantUser } from "../../../lib/context";
import type { Scoped } from "../../../mixins/tenant-records.mixin";
import { ConflictError, InvalidInputError } from "../../../lib/errors";
import { newId } from "../../../mixins/db.mixin";
import { checkTimezone, parseCron } from "./cron";
import type { ScheduleRow } from "./store";
import type { ScheduleInput, SchedulerMethodsOf } from "./types";

/** What a stored schedule takes from the input that defines it (a tenant's or the platform's). */
const definitionOf = (p: ScheduleInput) => ({
	name: p.name,
	cron: p.cron ?? null,
	timezone: p.timezone,
	runAt: p.runAt ? p.runAt.toISOString() : null,
	jobType: p.jobType,
	payload: p.payload,
	misfire: p.misfire,
});

export const definitionMethods: SchedulerMethodsOf<"checkDefinition" | "createSchedule" | "updateSchedule" | "ensureSchedule"> = {
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

	async createSchedule(ctx) {
		const user = currentTenantUser(ctx);
		const p = ctx.params;
		await this.checkDefinition(p);
		const at = new Date().toISOString();
		const row: Scoped<ScheduleRow> = this.scopedNew(ctx, {
			id: newId(),
			...definitionOf(p),
			paused: p.paused,
			createdBy: user.id,
			createdAt: at,
			updatedAt: at,
		});
		await this.store.put(row);
		ctx.meta.$statusCode = 201;
		ctx.meta.$location = `/api/schedules/${row.id}`;
		return this.view(row);
	},

	async updateSchedule(ctx) {
		const row = await this.scopedRecord(ctx, ctx.params.id);
		const { id: _id, ...changes } = ctx.params;
		if (changes.cron && !row.cron)
			throw new InvalidInputError("A one-time task has no cron expression.", [{ field: "cron", message: "not allowed on a one-time task" }]);
		const next: Scoped<ScheduleRow> = {
			...row,
			...Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined)),
			updatedAt: new Date().toISOString(),
		};
		await this.checkDefinition(next);
		await this.store.put(next);
		return this.view(next);
	},

	async ensureSchedule(ctx) {
		const p = ctx.params;
		await this.checkDefinition(p);
		// a platform schedule, under the id its service chose (a tenant's schedule is never taken over)
		const found = await this.unscopedRecord(p.id);
		if (found && found.tenantId !== null) throw new ConflictError("A tenant's schedule has this id.", "SCHEDULE_ID_TAKEN");
		const existing = found;
		const at = new Date().toISOString();
		const row: Scoped<ScheduleRow> = this.platformRecord({
			id: p.id,
			...definitionOf(p),
			paused: existing?.paused ?? p.paused,
			createdBy: "system",
			createdAt: existing?.createdAt ?? at,
			updatedAt: at,
		});
		await this.store.put(row);
		return this.view(row);
	},
};
