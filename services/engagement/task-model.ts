/** The task entity, its versioned fields and how two versions differ (README, "Engagement domain"). */

export const STATUSES = ["todo", "doing", "done", "cancelled"] as const;
export type TaskStatus = (typeof STATUSES)[number];
export const OPEN_STATUSES: readonly TaskStatus[] = ["todo", "doing"];
export const PRIORITIES = ["low", "medium", "high", "urgent"] as const;
export type Priority = (typeof PRIORITIES)[number];
/** stored beside `priority` so lists sort by importance, not by the word */
export const priorityRank = (p: Priority): number => PRIORITIES.indexOf(p) + 1;

export interface Task {
	id: string;
	title: string;
	description: string;
	status: TaskStatus;
	priority: Priority;
	dueAt: string | null;
	estimateMinutes: number;
	tags: string[];
	assigneeId: string | null;
	/** the team the task belongs to (set at creation; not versioned) */
	teamId?: string | null;
	/** ids of the tasks that block this one (`A blocks B`: A is in B's list) */
	blockedBy: string[];
	version: number;
	/** how many times the task was completed (a reopened and again completed task pays again) */
	completions: number;
	completedAt: string | null;
	createdBy: string;
	createdAt: string;
	updatedAt: string;
}

/** What a version records, and what restore puts back. */
export const VERSIONED_FIELDS = [
	"title",
	"description",
	"status",
	"priority",
	"dueAt",
	"estimateMinutes",
	"tags",
	"assigneeId",
	"blockedBy",
] as const;
export type VersionedField = (typeof VERSIONED_FIELDS)[number];
export type TaskSnapshot = Pick<Task, VersionedField>;

export interface TaskVersion {
	id: string;
	taskId: string;
	version: number;
	by: string;
	at: string;
	changed: VersionedField[];
	snapshot: TaskSnapshot;
	restoredFrom?: number;
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

export function snapshotOf(task: TaskSnapshot): TaskSnapshot {
	return Object.fromEntries(VERSIONED_FIELDS.map(f => [f, task[f]])) as TaskSnapshot;
}

/** The fields of `changes` whose value differs from `current`. */
export function changedFields(current: TaskSnapshot, changes: Partial<TaskSnapshot>): VersionedField[] {
	return VERSIONED_FIELDS.filter(f => f in changes && changes[f] !== undefined && !same(current[f], changes[f]));
}

/** Field by field, what changed from one snapshot to another. */
export function diffSnapshots(from: TaskSnapshot, to: TaskSnapshot): Record<string, { from: unknown; to: unknown }> {
	const out: Record<string, { from: unknown; to: unknown }> = {};
	for (const f of VERSIONED_FIELDS) if (!same(from[f], to[f])) out[f] = { from: from[f], to: to[f] };
	return out;
}

/** The version a caller based its write on: the body's `version`, else an `If-Match: "3"` header. */
export function expectedVersion(bodyVersion: number | undefined, ifMatch: string | undefined): number | undefined {
	if (bodyVersion !== undefined) return bodyVersion;
	const m = ifMatch?.match(/^\s*(?:W\/)?"?(\d+)"?\s*$/);
	return m ? Number(m[1]) : undefined;
}
