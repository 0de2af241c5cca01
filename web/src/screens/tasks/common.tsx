/** What the task and engagement screens share: the task's shape and words for its status and priority. */
import { get, type ApiProblem } from "../../api";
import { ProblemBanner } from "../../components/problem-banner";

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

/**
 * A task problem in plain words: the API names tasks by id (open blockers, a cycle's path); the screen
 * knows their titles. Other problems go to the ProblemBanner as they are.
 */
export function TaskProblem({ problem, titles }: { problem: ApiProblem | null | undefined; titles: Map<string, string> }) {
	if (!problem) return null;
	const named = (text: string) => text.replace(/[A-Za-z0-9_-]{12,}/g, id => (titles.has(id) ? `“${titles.get(id)}”` : id));
	const plain: Record<string, () => string> = {
		OPEN_BLOCKERS: () => `${named(problem.detail).replace("Open tasks block this one:", "This task waits for open tasks:")} Finish them first.`,
		DEPENDENCY_CYCLE: () => `${named(problem.detail)} A task cannot wait for itself, even through others.`,
		STALE_VERSION: () => "Someone changed this task meanwhile. The page shows the current version now: check it and try again.",
	};
	const text = plain[problem.code]?.();
	if (!text) return <ProblemBanner problem={problem} />;
	return (
		<div class="banner banner-error" role="alert" data-code={problem.code}>
			<p>
				<strong>{text}</strong>
			</p>
		</div>
	);
}
