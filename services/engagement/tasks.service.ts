/**
 * Tasks (`/api/tasks`): tenant-scoped CRUD with a version per change (`taskversions`), optimistic
 * concurrency (a body `version` or `If-Match`; a stale write is 409 STALE_VERSION with the current
 * version), dependencies (`A blocks B`; a cycle is 422 naming its path, done with open blockers is
 * 409) and the plan. Every write is a compare-and-set on (id, version), so two writers based on the
 * same version cannot both land. `tasks.completed` / `tasks.reopened` go out through the outbox with
 * an eventId fixed by (task, completion cycle): a redelivery is recognisably the same event.
 * README, "Engagement domain".
 */
import { cursorParams } from "../../lib/paging";
import { currentTenantUser, type Ctx } from "../../lib/context";
import { KeyedMutex } from "../../lib/keyed-mutex";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { OutboxMixin } from "../../mixins/outbox.mixin";
import { TenantDbMixin } from "../../mixins/tenant.mixin";
import { diffSnapshots, expectedVersion, OPEN_STATUSES, PRIORITIES, STATUSES, type Task } from "./task-model";
import { idParam, normalizeDueAt, optionalTaskFieldParams, taskFieldParams, userIdParam } from "./task-params";
import { changeMethods } from "./tasks/change";
import { creationMethods } from "./tasks/creation";
import { dependencyMethods } from "./tasks/dependencies";
import { listingMethods, SORT_VALUES } from "./tasks/listing";
import { storeMethods } from "./tasks/store";
import {
	versionNumber,
	withEtag,
	type AnyCtx,
	type CreateParams,
	type Fields,
	type ListParams,
	type TasksMethods,
	type TasksVars,
} from "./tasks/types";

const versionParam = { type: "number", integer: true, min: 1, optional: true, convert: true } as const;

const TasksService: ServiceSchema<DbSettings, TasksMethods, TasksVars> = {
	name: "tasks",
	mixins: [
		TenantDbMixin({ collection: "engagement_tasks", indexes: [{ fields: ["status"] }, { fields: ["assigneeId"] }] }),
		OutboxMixin({ collection: "engagement_tasks_outbox" }),
	],
	settings: {
		fields: [
			"id",
			"title",
			"description",
			"status",
			"priority",
			"dueAt",
			"estimateMinutes",
			"tags",
			"assigneeId",
			"teamId",
			"blockedBy",
			"version",
			"completions",
			"completedAt",
			"createdBy",
			"createdAt",
			"updatedAt",
		],
	},
	created() {
		this.dependencyLock = new KeyedMutex();
	},
	actions: {
		plan: {
			rest: "GET /plan",
			roles: ["member"],
			summary: "Open tasks in an order that respects every dependency, and the critical path by estimates.",
			params: { $$strict: "remove" },
			handler(ctx: AnyCtx) {
				return this.planOpen(ctx);
			},
		},
		listTasks: {
			rest: "GET /",
			scopes: ["tasks:read"],
			roles: ["member"],
			summary: "Tasks of the tenant, filtered, sorted, a cursor page at a time; `q` searches title and description.",
			params: {
				...cursorParams,
				status: { type: "enum", values: STATUSES, optional: true },
				priority: { type: "enum", values: PRIORITIES, optional: true },
				assigneeId: { ...userIdParam, optional: true },
				teamId: { ...idParam, optional: true },
				tag: { type: "string", max: 40, optional: true, lowercase: true, trim: true },
				q: { type: "string", max: 200, optional: true, trim: true },
				dueBefore: { type: "string", max: 40, optional: true },
				sort: { type: "enum", values: SORT_VALUES, default: "-createdAt" },
				$$strict: "remove",
			},
			handler(ctx: Ctx<ListParams>) {
				return this.listPage(ctx);
			},
		},
		createTask: {
			rest: "POST /",
			scopes: ["tasks:write"],
			roles: ["member"],
			params: {
				...taskFieldParams,
				description: { ...taskFieldParams.description, default: "" },
				status: { type: "enum", values: ["todo", "doing"], default: "todo" },
				priority: { ...taskFieldParams.priority, default: "medium" },
				dueAt: { ...taskFieldParams.dueAt, optional: true },
				estimateMinutes: { ...taskFieldParams.estimateMinutes, default: 0 },
				tags: { ...taskFieldParams.tags, default: [] },
				assigneeId: { ...taskFieldParams.assigneeId, optional: true },
				teamId: { ...idParam, optional: true },
				$$strict: "remove",
			},
			handler(ctx: Ctx<CreateParams>) {
				return this.createNew(ctx);
			},
		},
		getTask: {
			rest: "GET /:id",
			scopes: ["tasks:read"],
			roles: ["member"],
			entity: "loadTask",
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return withEtag(ctx, entityOf<Task>(ctx));
			},
		},
		updateTask: {
			rest: "PATCH /:id",
			scopes: ["tasks:write"],
			roles: ["member"],
			entity: "loadTask",
			summary: "Change fields. Send the `version` you read (or `If-Match`); a stale one is 409 with the current version.",
			params: { id: idParam, version: versionParam, ...optionalTaskFieldParams, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; version?: number } & Fields>) {
				const { id: _id, version, ...changes } = ctx.params;
				if ("dueAt" in changes) changes.dueAt = normalizeDueAt(changes.dueAt);
				const task = await this.change(ctx, entityOf<Task>(ctx), changes, expectedVersion(version, this.ifMatch(ctx)));
				return withEtag(ctx, task);
			},
		},
		deleteTask: {
			rest: "DELETE /:id",
			roles: ["member"],
			entity: "loadTask",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const task = entityOf<Task>(ctx);
				await this.deleteWithDependents(ctx, task);
				await ctx.call("taskversions.removeOf", { taskId: task.id });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},
		listVersions: {
			rest: "GET /:id/versions",
			roles: ["member"],
			entity: "loadTask",
			params: {
				id: idParam,
				page: { type: "number", integer: true, min: 1, default: 1, convert: true },
				pageSize: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ id: string; page: number; pageSize: number }>) {
				return ctx.call("taskversions.list", { taskId: ctx.params.id, page: ctx.params.page, pageSize: ctx.params.pageSize });
			},
		},
		getVersion: {
			rest: "GET /:id/versions/:version",
			roles: ["member"],
			entity: "loadTask",
			params: { id: idParam, version: { type: "string", min: 1, max: 12 }, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string; version: string }>) {
				return this.versionOf(ctx, ctx.params.id, versionNumber(ctx.params.version));
			},
		},
		diffVersions: {
			rest: "GET /:id/diff",
			roles: ["member"],
			entity: "loadTask",
			summary: "What changed from version `from` to version `to`, field by field.",
			params: {
				id: idParam,
				from: { type: "number", integer: true, min: 1, convert: true },
				to: { type: "number", integer: true, min: 1, convert: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ id: string; from: number; to: number }>) {
				const [a, b] = await Promise.all([
					this.versionOf(ctx, ctx.params.id, ctx.params.from),
					this.versionOf(ctx, ctx.params.id, ctx.params.to),
				]);
				return { from: a.version, to: b.version, changes: diffSnapshots(a.snapshot, b.snapshot) };
			},
		},
		restoreVersion: {
			rest: "POST /:id/versions/:version/restore",
			roles: ["member"],
			entity: "loadTask",
			summary:
				"Puts the fields of version `version` back, as a new version (the history is never rewritten). `expectedVersion` (or If-Match): the current version you base this on.",
			params: { id: idParam, version: { type: "string", min: 1, max: 12 }, expectedVersion: versionParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; version: string; expectedVersion?: number }>) {
				const old = await this.versionOf(ctx, ctx.params.id, versionNumber(ctx.params.version));
				const task = await this.dependencyLock.run(currentTenantUser(ctx).tenantId, () =>
					this.change(ctx, entityOf<Task>(ctx), old.snapshot, expectedVersion(ctx.params.expectedVersion, this.ifMatch(ctx)), old.version),
				);
				return withEtag(ctx, task);
			},
		},
		addBlocker: {
			rest: "POST /:id/blockers",
			roles: ["member"],
			entity: "loadTask",
			summary: "`taskId` blocks this task. An edge that would close a cycle is 422 DEPENDENCY_CYCLE with the cycle's path.",
			params: { id: idParam, taskId: idParam, version: versionParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; taskId: string; version?: number }>) {
				return withEtag(ctx, await this.addBlockerTo(ctx));
			},
		},
		removeBlocker: {
			rest: "DELETE /:id/blockers/:blockerId",
			roles: ["member"],
			entity: "loadTask",
			params: { id: idParam, blockerId: idParam, version: versionParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; blockerId: string; version?: number }>) {
				const current = entityOf<Task>(ctx);
				const task = await this.change(
					ctx,
					current,
					{ blockedBy: current.blockedBy.filter(b => b !== ctx.params.blockerId) },
					expectedVersion(ctx.params.version, this.ifMatch(ctx)),
				);
				return withEtag(ctx, task);
			},
		},
		// Internal, for challenges: a user's open tasks, and how many they completed since a time.
		openOf: {
			visibility: "public",
			params: { userId: userIdParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ userId: string }>) {
				const { userId } = ctx.params;
				const rows = await this._find<Task>(ctx, {
					query: { status: { $in: OPEN_STATUSES }, $or: [{ assigneeId: userId }, { assigneeId: null, createdBy: userId }] },
					sort: ["_id"],
					limit: 200,
				});
				return rows.map(({ title, tags, priority }) => ({ title, tags, priority }));
			},
		},
		completedCount: {
			visibility: "public",
			params: {
				userId: userIdParam,
				since: { type: "string", max: 40 },
				tag: { type: "string", max: 40, optional: true, nullable: true },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ userId: string; since: string; tag?: string | null }>) {
				const { userId, since, tag } = ctx.params;
				return this.scopedCount(ctx, {
					status: "done",
					completedAt: { $gte: since },
					$or: [{ assigneeId: userId }, { assigneeId: null, createdBy: userId }],
					...(tag && { tags: tag }),
				});
			},
		},
	},
	methods: {
		...storeMethods,
		...changeMethods,
		...creationMethods,
		...listingMethods,
		...dependencyMethods,
	},
};

export default TasksService;
