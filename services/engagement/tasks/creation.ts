/** A new task: its assignee a member, its team (if any) a team of the tenant, version 1 recorded. */
import { currentTenantUser, type Ctx } from "../../../lib/context";
import { UnknownTeamError } from "../../../lib/errors";
import { requireMembers } from "../members";
import { priorityRank, snapshotOf, type Task, type TaskSnapshot } from "../task-model";
import { normalizeDueAt } from "../task-params";
import { withEtag, type CreateParams, type TasksMethodsOf } from "./types";

export const creationMethods: TasksMethodsOf<"createNew"> = {
	async createNew(ctx: Ctx<CreateParams>) {
		const user = currentTenantUser(ctx);
		const { title, description, status, priority, estimateMinutes, tags } = ctx.params;
		const assigneeId = ctx.params.assigneeId ?? null;
		await requireMembers(this, ctx, user.tenantId, [assigneeId], "assigneeId");
		// a team task: its completions may pay the team's wallet (rules with payTo "team"); set at creation only
		const teamId = ctx.params.teamId ?? null;
		if (teamId && !(await ctx.call("teams.teamOf", { id: teamId }))) throw new UnknownTeamError(teamId);
		const fields: TaskSnapshot = {
			title,
			description,
			status,
			priority,
			dueAt: normalizeDueAt(ctx.params.dueAt) ?? null,
			estimateMinutes,
			tags,
			assigneeId,
			blockedBy: [],
		};
		const task = await this._create<Task>(ctx, {
			...fields,
			teamId,
			priorityRank: priorityRank(priority),
			version: 1,
			completions: 0,
			completedAt: null,
			createdBy: user.id,
		});
		await ctx.call("taskversions.record", {
			taskId: task.id,
			version: 1,
			by: user.id,
			changed: Object.keys(fields),
			snapshot: snapshotOf(fields),
		});
		ctx.meta.$statusCode = 201;
		ctx.meta.$location = `/api/tasks/${task.id}`;
		return withEtag(ctx, task);
	},
};
