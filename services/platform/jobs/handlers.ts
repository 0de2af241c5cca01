/**
 * How a service runs jobs of the types it owns (README, "Jobs, schedules and analytics" → "Handlers"):
 *
 *   mixins: [JobHandlersMixin<Service & MyMethods>({
 *     "crm.report": { concurrency: 2, async handler(job) { await job.progress(50); return { rows: 10 }; } },
 *   })],
 *
 * On start the node's job engine runs a worker per type (concurrency: JOBS_CONCURRENCY, else the
 * type's `concurrency`, else 1), and the type becomes enqueueable. `this` in a handler is the service.
 * Handlers run at least once per job: write them idempotent (a node that dies mid-job leaves the job
 * to another). A handler acts for `job.tenantId` with `asSystem(job.tenantId)` from lib/context.
 */
import type { Service } from "moleculer";
import type { Ctx } from "../../../lib/context";
import type { MixinSchema } from "../../../lib/schema";
import { acquireJobEngine, concurrencyOf, releaseJobEngine } from "./engine";
import type { JobContext, JobEngine } from "./types";

export interface JobTypeDefinition {
	/** handlers of this type running at once on one node (JOBS_CONCURRENCY overrides it) */
	concurrency?: number;
	handler(job: JobContext): Promise<unknown>;
}

/** A job type's name: lowercase words joined by dots (the owner first: `crm.report`). */
export const JOB_TYPE_PATTERN = /^[a-z][a-z0-9_-]*(\.[a-z0-9_-]+)*$/;

/** Broadcast by the jobs service when an active job is cancelled: the node running it aborts its signal. */
export const CANCEL_EVENT = "jobs.cancelRequested";

interface HandlerVars {
	jobHandlersEngine?: JobEngine;
}

export function JobHandlersMixin<TThis = Service>(
	types: Record<string, JobTypeDefinition & ThisType<TThis>>,
): MixinSchema<object, object, HandlerVars> {
	for (const type of Object.keys(types))
		if (!JOB_TYPE_PATTERN.test(type) || type.length > 64) throw new Error(`JobHandlersMixin: '${type}' is not a valid job type name`);
	return {
		events: {
			[CANCEL_EVENT](ctx: Ctx<{ id: string }>) {
				this.jobHandlersEngine?.abortLocal(ctx.params.id);
			},
		},
		async started() {
			const engine = acquireJobEngine();
			this.jobHandlersEngine = engine;
			await engine.open(this.broker);
			for (const [type, def] of Object.entries(types))
				await engine.work(type, concurrencyOf(type, def.concurrency ?? 1), job => def.handler.call(this, job));
		},
		async stopped() {
			if (!this.jobHandlersEngine) return;
			this.jobHandlersEngine = undefined;
			await releaseJobEngine();
		},
	};
}
