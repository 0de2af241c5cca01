/**
 * The one write of a task: a compare-and-set on (id, version) that records the new version and
 * publishes `tasks.completed` / `tasks.reopened` through the outbox with an eventId fixed by
 * (task, completion cycle), so a redelivery is recognisably the same event.
 */
import { currentTenantUser } from "../../../lib/context";
import { NotFoundError, OpenBlockersError, StaleVersionError } from "../../../lib/errors";
import { requireMembers } from "../members";
import { changedFields, OPEN_STATUSES, priorityRank, snapshotOf, type Task, type TaskSnapshot } from "../task-model";
import type { AnyCtx, Fields, TasksMethodsOf } from "./types";

export const changeMethods: TasksMethodsOf<"change"> = {
	async change(ctx: AnyCtx, current: Task, changes: Fields, expected: number | undefined, restoredFrom?: number) {
		const user = currentTenantUser(ctx);
		if (expected !== undefined && expected !== current.version) throw new StaleVersionError(current.version);
		const changed = changedFields(current, changes);
		if (!changed.length) return current;
		const next: TaskSnapshot = { ...snapshotOf(current), ...Object.fromEntries(changed.map(f => [f, changes[f]])) };
		const completing = next.status === "done" && current.status !== "done";
		const reopening = current.status === "done" && next.status !== "done";
		if (completing && next.blockedBy.length) {
			const blockers = await Promise.all(next.blockedBy.map(b => this.loadTask(ctx, b)));
			const open = blockers.filter((b): b is Task => !!b && OPEN_STATUSES.includes(b.status)).map(b => b.id);
			if (open.length) throw new OpenBlockersError(open);
		}
		if (changed.includes("assigneeId")) await requireMembers(this, ctx, user.tenantId, [next.assigneeId], "assigneeId");
		const now = new Date().toISOString();
		const set: Record<string, unknown> = { ...Object.fromEntries(changed.map(f => [f, next[f]])), version: current.version + 1 };
		if (changed.includes("priority")) set.priorityRank = priorityRank(next.priority);
		if (completing) Object.assign(set, { completions: current.completions + 1, completedAt: now });
		if (reopening) set.completedAt = null;
		const n = await this.scopedUpdateWhere(ctx, { id: current.id, version: current.version }, set);
		if (n === 0) {
			const fresh = await this.loadTask(ctx, current.id);
			if (!fresh) throw new NotFoundError("Not found.", current.id);
			throw new StaleVersionError(fresh.version);
		}
		await ctx.call("taskversions.record", {
			taskId: current.id,
			version: current.version + 1,
			by: user.id,
			changed,
			snapshot: next,
			...(restoredFrom && { restoredFrom }),
		});
		const task = (await this.loadTask(ctx, current.id))!;
		const base = {
			tenantId: user.tenantId,
			taskId: task.id,
			userId: task.assigneeId ?? task.createdBy,
			teamId: task.teamId ?? null,
			actorId: user.id,
			title: task.title,
			tags: task.tags,
		};
		if (completing)
			await this.publishEvent("tasks.completed", {
				...base,
				eventId: `task:${task.id}:completed:${task.completions}`,
				cycle: task.completions,
				completedAt: now,
				dueAt: task.dueAt,
				estimateMinutes: task.estimateMinutes,
			});
		if (reopening)
			await this.publishEvent("tasks.reopened", {
				...base,
				eventId: `task:${task.id}:reopened:${current.completions}`,
				cycle: current.completions,
				completedEventId: `task:${task.id}:completed:${current.completions}`,
				reopenedAt: now,
			});
		return task;
	},
};
