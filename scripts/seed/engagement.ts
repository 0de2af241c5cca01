/** Engagement: the campaign's tasks (versions, dependencies, some done: xp, coins, badges), a skill tree, an ELO board. */
import { waitUntil } from "./client";
import { user, type SeedContext } from "./context";
import { BOARD, MATCHES, OWNER, SEED, SKILL_UNLOCKS, SKILLS, TASKS } from "./data";

export const engagementUnits = () => TASKS.length * 2 + 1 + SKILLS.length + SKILL_UNLOCKS.length + 1 + MATCHES.length;

interface Task {
	id: string;
	title: string;
	status: string;
	blockedBy: string[];
	version: number;
	[field: string]: unknown;
}

async function allTasks(ctx: SeedContext, token: string): Promise<Task[]> {
	const out: Task[] = [];
	let cursor: string | null = null;
	do {
		const page: { rows: Task[]; nextCursor: string | null } = await ctx.api.get(
			`/api/tasks?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
			token,
		);
		out.push(...page.rows);
		cursor = page.nextCursor;
	} while (cursor);
	return out;
}

export async function seedEngagement(ctx: SeedContext): Promise<void> {
	const { api, progress, tally } = ctx;
	const admin = user(ctx, OWNER.key).token;

	progress.begin("engagement: tasks");
	const byTitle = new Map((await allTasks(ctx, admin)).map(t => [t.title, t]));
	for (const t of TASKS) {
		let task = byTitle.get(t.title);
		const a = user(ctx, t.assignee);
		const created = !task;
		if (!task) {
			task = (await api.post("/api/tasks", a.token, {
				title: t.title,
				description: t.description,
				priority: t.priority,
				estimateMinutes: t.estimateMinutes,
				dueAt: t.dueAt,
				tags: t.tags,
				assigneeId: a.id,
			})) as Task;
			byTitle.set(t.title, task);
		}
		tally.add("tasks", created);
		for (const edit of t.edits ?? []) {
			if (Object.entries(edit).every(([k, v]) => task![k] === v)) continue;
			task = (await api.patch(`/api/tasks/${task.id}`, a.token, { ...edit, version: task.version })) as Task;
			byTitle.set(t.title, task);
			tally.add("task versions", true);
		}
		for (const blocker of t.after ?? []) {
			const b = byTitle.get(blocker)!;
			if (task.blockedBy.includes(b.id)) continue;
			task = (await api.post(`/api/tasks/${task.id}/blockers`, a.token, { taskId: b.id })) as Task;
			byTitle.set(t.title, task);
			tally.add("task dependencies", true);
		}
		progress.tick();
	}

	// work through the plan: blockers first (the list is in dependency order)
	progress.begin("engagement: work done");
	const doneBy = new Map<string, number>();
	for (const t of TASKS) {
		const a = user(ctx, t.assignee);
		let task = byTitle.get(t.title)!;
		if (t.status === "done") doneBy.set(t.assignee, (doneBy.get(t.assignee) ?? 0) + 1);
		const steps = t.status === "done" ? ["doing", "done"] : t.status === "doing" ? ["doing"] : [];
		for (const s of steps) {
			if (task.status === s || (s === "doing" && task.status === "done")) continue;
			task = (await api.patch(`/api/tasks/${task.id}`, a.token, { status: s, version: task.version })) as Task;
			tally.add(s === "done" ? "tasks completed" : "tasks started", true);
		}
		progress.tick();
	}

	// completions pay xp and coins and count towards badges through the tasks.completed channel: wait for them
	progress.begin("engagement: rewards");
	await waitUntil("xp and badges for every completed task", async () => {
		for (const [key, n] of doneBy) {
			const me = await api.get("/api/gamification/me", user(ctx, key).token);
			if ((me.counters?.tasksCompleted ?? 0) < n) return false;
		}
		return true;
	});
	progress.tick();

	progress.begin("engagement: skills");
	const tree = (await api.get("/api/skills", admin)) as { key: string }[];
	for (const s of SKILLS) {
		const had = tree.some(x => x.key === s.key);
		if (!had) await api.post("/api/skills", admin, s);
		tally.add("skills", !had);
		progress.tick();
	}
	for (const u of SKILL_UNLOCKS) {
		const a = user(ctx, u.user);
		const mine = (await api.get("/api/skills", a.token)) as { key: string; state: string }[];
		const had = mine.find(x => x.key === u.skill)?.state === "unlocked";
		if (!had) await api.post(`/api/skills/${u.skill}/unlock`, a.token, {});
		tally.add("skills unlocked", !had);
		progress.tick();
	}

	progress.begin("engagement: leaderboard");
	const board = await api.call("GET", `/api/gamification/boards/${BOARD.key}`, { token: admin, ok: [404] });
	if (board.status === 404) await api.post("/api/gamification/boards", admin, BOARD);
	tally.add("leaderboards", board.status === 404);
	progress.tick();
	for (const [i, [a, b, scoreA]] of MATCHES.entries()) {
		const res = await api.post(`/api/gamification/boards/${BOARD.key}/results`, admin, {
			playerA: user(ctx, a).id,
			playerB: user(ctx, b).id,
			scoreA,
			eventId: `${SEED}:match:${i + 1}`,
		});
		tally.add("match results", !res.duplicate);
		progress.tick();
	}
}
