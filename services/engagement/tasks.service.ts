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
import { DependencyCycleError, InvalidInputError, NotFoundError, OpenBlockersError, StaleVersionError, UnknownTeamError } from "../../lib/errors";
import { KeyedMutex } from "../../lib/keyed-mutex";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { escapeRegex } from "../../lib/text";
import { entityOf } from "../../middlewares/entity.middleware";
import { OutboxMixin, type OutboxMethods } from "../../mixins/outbox.mixin";
import { TenantDbMixin, type Row, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { afterCursor, decodeCursor, encodeCursor } from "./cursor";
import { cycleIfAdded, plan, type Edge } from "./graph";
import { requireMembers } from "./members";
import {
	changedFields,
	diffSnapshots,
	expectedVersion,
	OPEN_STATUSES,
	PRIORITIES,
	priorityRank,
	snapshotOf,
	STATUSES,
	type Task,
	type TaskSnapshot,
	type TaskVersion,
} from "./task-model";
import { idParam, normalizeDueAt, optionalTaskFieldParams, taskFieldParams, userIdParam } from "./task-params";

interface TasksMethods extends TenantDbMethods, OutboxMethods {
	loadTask(ctx: AnyCtx, id: string): Promise<Task | null>;
	change(ctx: AnyCtx, current: Task, changes: Partial<TaskSnapshot>, expected: number | undefined, restoredFrom?: number): Promise<Task>;
	edgesOf(ctx: AnyCtx): Promise<Edge[]>;
	versionOf(ctx: AnyCtx, taskId: string, v: number): Promise<TaskVersion>;
	ifMatch(ctx: AnyCtx): string | undefined;
}
interface TasksVars {
	dependencyLock: KeyedMutex;
}

type Fields = Partial<TaskSnapshot>;
/** any action context of this service (methods take the caller whatever its params) */
type AnyCtx = Ctx<object>;
const versionParam = { type: "number", integer: true, min: 1, optional: true, convert: true } as const;
const SORTS = { createdAt: "createdAt", updatedAt: "updatedAt", priority: "priorityRank" } as const;
const SORT_VALUES = Object.keys(SORTS).flatMap(s => [s, `-${s}`]);
/** A version number from the path (checked after the task is found, so a foreign task is a plain 404). */
function versionNumber(value: string): number {
	if (!/^[1-9]\d{0,8}$/.test(value))
		throw new InvalidInputError("Not a version number.", [{ field: "version", message: "must be a positive integer" }]);
	return Number(value);
}
const withEtag = (ctx: AnyCtx, task: Task): Task => {
	ctx.meta.$responseHeaders = { ...ctx.meta.$responseHeaders, ETag: `"${task.version}"` };
	return task;
};

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
			async handler(ctx: AnyCtx) {
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
		},
		listTasks: {
			rest: "GET /",
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
			async handler(
				ctx: Ctx<{
					cursor?: string;
					limit: number;
					status?: string;
					priority?: string;
					assigneeId?: string;
					teamId?: string;
					tag?: string;
					q?: string;
					dueBefore?: string;
					sort: string;
				}>,
			) {
				const { cursor, limit, status, priority, assigneeId, teamId, tag, q, dueBefore, sort } = ctx.params;
				const desc = sort.startsWith("-");
				const field = SORTS[sort.replace(/^-/, "") as keyof typeof SORTS];
				const and: Record<string, unknown>[] = [];
				if (status) and.push({ status });
				if (priority) and.push({ priority });
				if (assigneeId) and.push({ assigneeId });
				if (teamId) and.push({ teamId });
				if (tag) and.push({ tags: tag });
				if (dueBefore) and.push({ dueAt: { $ne: null, $lt: normalizeDueAt(dueBefore) } });
				if (q) {
					const re = new RegExp(escapeRegex(q), "i");
					and.push({ $or: [{ title: { $regex: re } }, { description: { $regex: re } }] });
				}
				if (cursor) and.push(afterCursor(field, desc, decodeCursor(cursor)));
				const dir = desc ? "-" : "";
				const rows = await this._find<Task>(ctx, {
					query: and.length ? { $and: and } : {},
					sort: [`${dir}${field}`, `${dir}_id`],
					limit: limit + 1,
				});
				const page = rows.slice(0, limit);
				const last = page[page.length - 1];
				const next =
					rows.length > limit && last
						? encodeCursor({ v: field === "priorityRank" ? priorityRank(last.priority) : last[field], id: last.id })
						: null;
				return { rows: page, nextCursor: next };
			},
		},
		createTask: {
			rest: "POST /",
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
			async handler(ctx: Ctx<Omit<TaskSnapshot, "blockedBy"> & { teamId?: string }>) {
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
		},
		getTask: {
			rest: "GET /:id",
			roles: ["member"],
			entity: "loadTask",
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return withEtag(ctx, entityOf<Task>(ctx));
			},
		},
		updateTask: {
			rest: "PATCH /:id",
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
				await this.dependencyLock.run(currentTenantUser(ctx).tenantId, async () => {
					// the tasks it blocked no longer wait for it (each change is a version of theirs)
					for (const row of await this.scopedScan<Row & Task>(ctx, { blockedBy: task.id }, ["_id"])) {
						const dependent = await this.loadTask(ctx, String(row._id));
						if (dependent) await this.change(ctx, dependent, { blockedBy: dependent.blockedBy.filter(b => b !== task.id) }, undefined);
					}
					await this._remove(ctx, { id: task.id });
				});
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
				const { id, taskId } = ctx.params;
				const expected = expectedVersion(ctx.params.version, this.ifMatch(ctx));
				if (id === taskId) throw new DependencyCycleError([id, id]);
				if (!(await this.loadTask(ctx, taskId)))
					throw new InvalidInputError("No such task.", [{ field: "taskId", message: "is not a task of this tenant" }]);
				// per tenant on this node: the cycle check and the edge it admits are one step
				const task = await this.dependencyLock.run(currentTenantUser(ctx).tenantId, async () => {
					const current = (await this.loadTask(ctx, id))!;
					if (current.blockedBy.includes(taskId)) return current;
					const cycle = cycleIfAdded(await this.edgesOf(ctx), taskId, id);
					if (cycle) throw new DependencyCycleError(cycle);
					return this.change(ctx, current, { blockedBy: [...current.blockedBy, taskId] }, expected);
				});
				return withEtag(ctx, task);
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
		async loadTask(ctx: AnyCtx, id: string) {
			const row = await this.scopedFindById(ctx, id);
			return row ? this.toEntity<Task>(row) : null;
		},
		ifMatch(ctx: AnyCtx) {
			const value = ctx.meta.headers?.["if-match"];
			return typeof value === "string" ? value : undefined;
		},
		async versionOf(ctx: AnyCtx, taskId: string, v: number) {
			const found = await ctx.call<TaskVersion | null, { taskId: string; version: number }>("taskversions.get", { taskId, version: v });
			if (!found) throw new NotFoundError("No such version.", String(v));
			return found;
		},
		async edgesOf(ctx: AnyCtx) {
			const rows = await this.scopedScan<Row & Task>(ctx, { "blockedBy.0": { $exists: true } }, ["blockedBy"]);
			return rows.flatMap(t => t.blockedBy.map(b => ({ from: b, to: String(t._id) })));
		},
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
	},
};

export default TasksService;
