/** A schedule as answered (with its next and last due times) and its firing history. */
import { pageOf, pageWindow } from "../../../lib/paging";
import type { JobRecord } from "../jobs/types";
import { cachedCron, nextTimes } from "./cron";
import type { HistoryEntry } from "./store";
import type { SchedulerMethodsOf } from "./types";

export const viewMethods: SchedulerMethodsOf<"view" | "scheduleHistory"> = {
	async view(row) {
		const last = await this.store.lastDue(row.id);
		let nextRunAt: string | null = null;
		if (!row.paused) {
			if (row.cron) nextRunAt = nextTimes(cachedCron(row.cron, row.timezone), 1)[0]?.toISOString() ?? null;
			else if (last === null) nextRunAt = row.runAt;
		}
		return { ...row, nextRunAt, lastDueAt: last === null ? null : new Date(last).toISOString() };
	},

	async scheduleHistory(ctx) {
		const row = await this.scopedRecord(ctx, ctx.params.id);
		const { limit, offset } = pageWindow(ctx.params);
		const { rows, total } = await this.store.history(row, offset, limit);
		// the outcome of each firing's job, as it is now
		const withJobs = await Promise.all(
			rows.map(async (h: HistoryEntry) => {
				const job = h.jobId ? ((await ctx.call("jobs.find", { id: h.jobId })) as JobRecord | null) : null;
				return { ...h, jobStatus: job?.status ?? null };
			}),
		);
		return pageOf(withJobs, total, ctx.params);
	},
};
