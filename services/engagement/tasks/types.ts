/** What the tasks service keeps and calls: `this`, its methods, and the answer helpers its modules share. */
import type { Ctx } from "../../../lib/context";
import { InvalidInputError } from "../../../lib/errors";
import type { KeyedMutex } from "../../../lib/keyed-mutex";
import type { DbSettings, ServiceThis } from "../../../lib/schema";
import type { OutboxMethods } from "../../../mixins/outbox.mixin";
import type { TenantDbMethods } from "../../../mixins/tenant.mixin";
import type { Edge } from "../graph";
import type { Task, TaskSnapshot, TaskVersion } from "../task-model";

/** any action context of this service (methods take the caller whatever its params) */
export type AnyCtx = Ctx<object>;
export type Fields = Partial<TaskSnapshot>;

export interface ListParams {
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
}
export type CreateParams = Omit<TaskSnapshot, "blockedBy"> & { teamId?: string };

export interface TasksMethods extends TenantDbMethods, OutboxMethods {
	// store.ts
	loadTask(ctx: AnyCtx, id: string): Promise<Task | null>;
	ifMatch(ctx: AnyCtx): string | undefined;
	versionOf(ctx: AnyCtx, taskId: string, v: number): Promise<TaskVersion>;
	// change.ts
	change(ctx: AnyCtx, current: Task, changes: Fields, expected: number | undefined, restoredFrom?: number): Promise<Task>;
	// creation.ts
	createNew(ctx: Ctx<CreateParams>): Promise<Task>;
	// listing.ts
	listPage(ctx: Ctx<ListParams>): Promise<{ rows: Task[]; nextCursor: string | null }>;
	// dependencies.ts
	edgesOf(ctx: AnyCtx): Promise<Edge[]>;
	planOpen(ctx: AnyCtx): Promise<{ order: { id: string; title: string | undefined }[]; criticalPath: string[]; criticalMinutes: number }>;
	addBlockerTo(ctx: Ctx<{ id: string; taskId: string; version?: number }>): Promise<Task>;
	deleteWithDependents(ctx: AnyCtx, task: Task): Promise<void>;
}
export interface TasksVars {
	dependencyLock: KeyedMutex;
}

export type TasksThis = ServiceThis<DbSettings, TasksMethods, TasksVars>;

/** Some of the tasks methods, written in a module beside the service (`this` is the service). */
export type TasksMethodsOf<K extends keyof TasksMethods> = Pick<TasksMethods, K> & ThisType<TasksThis>;

/** A version number from the path (checked after the task is found, so a foreign task is a plain 404). */
export function versionNumber(value: string): number {
	if (!/^[1-9]\d{0,8}$/.test(value))
		throw new InvalidInputError("Not a version number.", [{ field: "version", message: "must be a positive integer" }]);
	return Number(value);
}

/** The task as the answer, its version as the ETag. */
export const withEtag = (ctx: AnyCtx, task: Task): Task => {
	ctx.meta.$responseHeaders = { ...ctx.meta.$responseHeaders, ETag: `"${task.version}"` };
	return task;
};
