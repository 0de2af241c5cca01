/**
 * Dependencies (`A blocks B`) and the plan they give. Per tenant on this node the dependency lock
 * makes a cycle check and the edge it admits one step; a cycle is 422 naming its path.
 */
import { currentTenantUser, type Ctx } from "../../../lib/context";
import { DependencyCycleError, InvalidInputError } from "../../../lib/errors";
import type { Row } from "../../../mixins/tenant.mixin";
import { cycleIfAdded, plan } from "../graph";
import { expectedVersion, OPEN_STATUSES, type Task } from "../task-model";
import type { AnyCtx, TasksMethodsOf } from "./types";

export const dependencyMethods: TasksMethodsOf<"edgesOf" | "planOpen" | "addBlockerTo" | "deleteWithDependents"> = {
	async edgesOf(ctx: AnyCtx) {
		const rows = await this.scopedScan<Row & Task>(ctx, { "blockedBy.0": { $exists: true } }, ["blockedBy"]);
		return rows.flatMap(t => t.blockedBy.map(b => ({ from: b, to: String(t._id) })));
	},
	async planOpen(ctx: AnyCtx) {
		const open = await this.scopedScan<Row & Task>(ctx, { status: { $in: OPEN_STATUSES } }, ["title", "estimateMinutes", "blockedBy"]);
		const nodes = open.map(t => ({ id: String(t._id), weight: t.estimateMinutes ?? 0 }));
		const edges = open.flatMap(t => (t.blockedBy ?? []).map(b => ({ from: b, to: String(t._id) })));
		const result = plan(nodes, edges);
		const titles = new Map(open.map(t => [String(t._id), t.title]));
		return {
			order: result.order.map(id => ({ id, title: titles.get(id) })),
			criticalPath: result.criticalPath,
			criticalMinutes: result.criticalLength,
		};
	},
	async addBlockerTo(ctx: Ctx<{ id: string; taskId: string; version?: number }>) {
		const { id, taskId } = ctx.params;
		const expected = expectedVersion(ctx.params.version, this.ifMatch(ctx));
		if (id === taskId) throw new DependencyCycleError([id, id]);
		if (!(await this.loadTask(ctx, taskId)))
			throw new InvalidInputError("No such task.", [{ field: "taskId", message: "is not a task of this tenant" }]);
		// per tenant on this node: the cycle check and the edge it admits are one step
		return this.dependencyLock.run(currentTenantUser(ctx).tenantId, async () => {
			const current = (await this.loadTask(ctx, id))!;
			if (current.blockedBy.includes(taskId)) return current;
			const cycle = cycleIfAdded(await this.edgesOf(ctx), taskId, id);
			if (cycle) throw new DependencyCycleError(cycle);
			return this.change(ctx, current, { blockedBy: [...current.blockedBy, taskId] }, expected);
		});
	},
	/** Removes the task; the tasks it blocked no longer wait for it (each change is a version of theirs). */
	async deleteWithDependents(ctx: AnyCtx, task: Task) {
		await this.dependencyLock.run(currentTenantUser(ctx).tenantId, async () => {
			for (const row of await this.scopedScan<Row & Task>(ctx, { blockedBy: task.id }, ["_id"])) {
				const dependent = await this.loadTask(ctx, String(row._id));
				if (dependent) await this.change(ctx, dependent, { blockedBy: dependent.blockedBy.filter(b => b !== task.id) }, undefined);
			}
			await this._remove(ctx, { id: task.id });
		});
	},
};
