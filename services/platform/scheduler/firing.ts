/** Firing: each tick fires every due schedule once (fire.ts claims each due time), and an admin may run one now; a firing enqueues a job. */
import { config } from "../../../lib/config";
import type { JobRecord } from "../jobs/types";
import { fireDue } from "./fire";
import type { HistoryEntry } from "./store";
import type { SchedulerMethodsOf } from "./types";

export const firingMethods: SchedulerMethodsOf<"enqueueFiring" | "runNow" | "tick"> = {
	async enqueueFiring(row, dueMs, manual = false) {
		const job = (await this.broker.call("jobs.add", {
			type: row.jobType,
			tenantId: row.tenantId,
			payload: { ...row.payload, scheduledFor: new Date(dueMs).toISOString(), scheduleId: row.id },
			idempotencyKey: `schedule-${row.id}-${manual ? "manual-" : ""}${dueMs}`,
		})) as JobRecord;
		return job.id;
	},

	async runNow(ctx) {
		const row = await this.scopedRecord(ctx, ctx.params.id);
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

	async tick() {
		if (this.ticking) return;
		this.ticking = true;
		try {
			const cfg = config();
			// eslint-disable-next-line no-restricted-syntax -- the clock fires every tenant's due schedules, on purpose
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
};
