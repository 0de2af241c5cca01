/** What the task and engagement screens share: the task's shape and words for its status and priority. */
import { get } from "../../api";

export type Status = "todo" | "doing" | "done" | "cancelled";
export type Priority = "low" | "medium" | "high" | "urgent";

export interface Task {
	id: string;
	title: string;
	description: string;
	status: Status;
	priority: Priority;
	dueAt: string | null;
	estimateMinutes: number;
	tags: string[];
	assigneeId: string | null;
	blockedBy: string[];
	version: number;
	completions: number;
	completedAt: string | null;
	createdBy: string;
	createdAt: string;
	updatedAt: string;
}

export const STATUS_WORD: Record<Status, string> = { todo: "To do", doing: "In progress", done: "Done", cancelled: "Cancelled" };
export const PRIORITY_WORD: Record<Priority, string> = { low: "Low", medium: "Medium", high: "High", urgent: "Urgent" };

/** Every task of the tenant (cursor pages of 100, at most `max`), for dependency trees and pickers. */
export async function allTasks(signal?: AbortSignal, max = 1000): Promise<Task[]> {
	const out: Task[] = [];
	let cursor: string | null = null;
	do {
		const page: { rows: Task[]; nextCursor: string | null } = await get("/api/tasks", { limit: 100, cursor, sort: "createdAt" }, { signal });
		out.push(...page.rows);
		cursor = page.nextCursor;
	} while (cursor && out.length < max);
	return out;
}
