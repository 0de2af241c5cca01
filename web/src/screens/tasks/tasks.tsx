/**
 * Tasks (README, "Engagement domain" → Tasks): the list with filters and a new-task form at `/tasks`; a
 * task's detail at `/tasks/<id>` with its status (completing it pays xp by the tenant's rules), its
 * dependencies as nested lists (what it waits for, and what waits for it), and its versions (restore one).
 */
import { useState } from "preact/hooks";
import { get, patch, post, del } from "../../api";
import { Field } from "../../components/field";
import { Form } from "../../components/form";
import { Loaded, Loading } from "../../components/loading";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { StatusChip } from "../../components/status";
import { Table } from "../../components/table";
import { useAction, useApi } from "../../components/use-api";
import { SearchInput, SelectFilter } from "../../components/filters";
import type { ScreenProps } from "../../nav";
import { href } from "../../router";
import { Author } from "../social/common";
import { allTasks, PRIORITY_WORD, STATUS_WORD, TaskProblem, type Priority, type Status, type Task } from "./common";
import { when } from "../../format";

export default function Tasks({ route }: ScreenProps) {
	const id = route.path.startsWith("/tasks/") ? decodeURIComponent(route.path.slice("/tasks/".length)) : null;
	return id ? <TaskDetail key={id} id={id} /> : <TaskList />;
}

function TaskList() {
	const [status, setStatus] = useState("");
	const [priority, setPriority] = useState("");
	const [q, setQ] = useState("");
	const [query, setQuery] = useState("");
	const list = useApi(
		signal => get<{ rows: Task[]; nextCursor: string | null }>("/api/tasks", { status, priority, q: query, limit: 100 }, { signal }),
		[status, priority, query],
	);
	const [done, setDone] = useState<string | null>(null);
	const complete = useAction(async (t: Task) => {
		await patch(`/api/tasks/${encodeURIComponent(t.id)}`, { status: "done", version: t.version });
		setDone(`“${t.title}” is done.`);
		list.reload();
	});
	return (
		<>
			<h1>Tasks</h1>
			<p>
				Completing a task pays xp and coins by your organisation's rules: see <a href={href("/engagement/wallet")}>your wallet and level</a>.
			</p>
			<NewTask onCreated={t => (setDone(`“${t.title}” is created.`), list.reload())} />
			<h2>Your organisation's tasks</h2>
			<Form
				class="toolbar filters"
				role="search"
				onSubmit={() => {
					setQuery(q.trim());
				}}
			>
				<SelectFilter label="Status" value={status} onChange={setStatus} words={STATUS_WORD} />
				<SelectFilter label="Priority" value={priority} onChange={setPriority} words={PRIORITY_WORD} />
				<SearchInput label="Search" value={q} onInput={setQ} maxLength={200} />
				<button type="submit" class="secondary">
					Filter
				</button>
			</Form>
			{done ? <Notice kind="success">{done}</Notice> : null}
			<ProblemBanner problem={list.problem} />
			<TaskProblem problem={complete.problem} titles={new Map((list.data?.rows ?? []).map(t => [t.id, t.title]))} />
			<Loaded api={list}>
				{data => (
					<Table
						caption="Tasks"
						rows={data.rows}
						rowKey={t => t.id}
						empty="No task matches."
						columns={[
							{ label: "Title", cell: t => <a href={href(`/tasks/${encodeURIComponent(t.id)}`)}>{t.title}</a> },
							{ label: "Status", cell: t => <StatusChip status={t.status} words={STATUS_WORD} /> },
							{ label: "Priority", cell: t => PRIORITY_WORD[t.priority] },
							{ label: "Due", cell: t => when(t.dueAt) },
							{ label: "Waits for", numeric: true, cell: t => t.blockedBy.length },
							{
								label: "Action",
								cell: t =>
									t.status === "done" || t.status === "cancelled" ? (
										"—"
									) : (
										<button
											type="button"
											class="secondary small"
											disabled={complete.busy}
											onClick={() => void complete.run(t)}
											aria-label={`Mark “${t.title}” done`}
										>
											Done
										</button>
									),
							},
						]}
					/>
				)}
			</Loaded>
			<Plan version={list.data} />
		</>
	);
}

/** `GET /api/tasks/plan`: the open tasks in an order that respects every dependency, and the critical path by estimates. */
function Plan({ version }: { version: unknown }) {
	const plan = useApi(
		signal =>
			get<{ order: { id: string; title: string }[]; criticalPath: string[]; criticalMinutes: number }>("/api/tasks/plan", undefined, {
				signal,
			}),
		[version],
	);
	if (!plan.data) return <ProblemBanner problem={plan.problem} />;
	const titles = new Map(plan.data.order.map(t => [t.id, t.title]));
	const critical = new Set(plan.data.criticalPath);
	return (
		<section aria-labelledby="plan-h">
			<h2 id="plan-h">Plan</h2>
			{plan.data.order.length === 0 ? (
				<p class="hint">No open task.</p>
			) : (
				<>
					<p>
						An order of the open tasks in which nothing waits for a later one. The longest chain by estimates ({plan.data.criticalMinutes}{" "}
						min): {plan.data.criticalPath.length ? plan.data.criticalPath.map(id => `“${titles.get(id) ?? id}”`).join(" → ") : "—"}.
					</p>
					<ol class="plan">
						{plan.data.order.map(t => (
							<li key={t.id}>
								<a href={href(`/tasks/${encodeURIComponent(t.id)}`)}>{t.title}</a>
								{critical.has(t.id) ? <span class="tag"> on the longest chain</span> : null}
							</li>
						))}
					</ol>
				</>
			)}
		</section>
	);
}

function NewTask({ onCreated }: { onCreated(t: Task): void }) {
	const [title, setTitle] = useState("");
	const [description, setDescription] = useState("");
	const [priority, setPriority] = useState<Priority>("medium");
	const [due, setDue] = useState("");
	const [estimate, setEstimate] = useState("");
	const [tags, setTags] = useState("");
	const create = useAction((body: Record<string, unknown>) => post<Task>("/api/tasks", body));
	return (
		<details class="panel">
			<summary>New task</summary>
			<Form
				noValidate
				onSubmit={async () => {
					const body: Record<string, unknown> = { title, description, priority };
					if (due) body.dueAt = new Date(due).toISOString();
					if (estimate) body.estimateMinutes = Number(estimate);
					const t = tags
						.split(",")
						.map(s => s.trim())
						.filter(Boolean);
					if (t.length) body.tags = t;
					const r = await create.run(body);
					if (r.ok) {
						setTitle("");
						setDescription("");
						setDue("");
						setEstimate("");
						setTags("");
						onCreated(r.value);
					}
				}}
				problem={create.problem}
				fields={["title", "description", "dueAt", "estimateMinutes", "tags", "priority"]}
			>
				<Field label="Title" name="title" value={title} onInput={setTitle} required maxLength={200} />
				<Field label="Description" name="description" type="textarea" value={description} onInput={setDescription} />
				<div class="form-row">
					<div class="field">
						<label for="new-task-priority">Priority</label>
						<select id="new-task-priority" value={priority} onChange={e => setPriority(e.currentTarget.value as Priority)}>
							{(Object.keys(PRIORITY_WORD) as Priority[]).map(p => (
								<option key={p} value={p}>
									{PRIORITY_WORD[p]}
								</option>
							))}
						</select>
					</div>
					<Field label="Due" name="dueAt" type="datetime-local" value={due} onInput={setDue} />
					<Field label="Estimate (minutes)" name="estimateMinutes" type="number" value={estimate} onInput={setEstimate} />
					<Field label="Tags" name="tags" value={tags} onInput={setTags} hint="Comma separated." />
				</div>
				<button type="submit" disabled={create.busy}>
					Create task
				</button>
			</Form>
		</details>
	);
}

interface Version {
	id: string;
	version: number;
	by: string;
	at: string;
	changed: string[];
	restoredFrom?: number;
}

function TaskDetail({ id }: { id: string }) {
	const path = `/api/tasks/${encodeURIComponent(id)}`;
	const task = useApi(signal => get<Task>(path, undefined, { signal }), [id]);
	const versions = useApi(signal => get<{ rows: Version[]; total: number }>(`${path}/versions`, { pageSize: 50 }, { signal }), [id]);
	const tasks = useApi(signal => allTasks(signal), [id]);
	const [notice, setNotice] = useState<string | null>(null);
	const refresh = () => {
		task.reload();
		versions.reload();
		tasks.reload();
	};
	const change = useAction(async (body: Record<string, unknown>, message: string) => {
		setNotice(null);
		try {
			await patch(path, { ...body, version: task.data!.version });
		} catch (err) {
			// a stale version: show the current one under the message
			if ((err as { code?: string }).code === "STALE_VERSION") refresh();
			throw err;
		}
		setNotice(message);
		refresh();
	});
	const [status, setStatus] = useState<Status | "">("");
	const [blocker, setBlocker] = useState("");
	const deps = useAction(async (action: "add" | "remove", other: string) => {
		if (action === "add") await post(`${path}/blockers`, { taskId: other, version: task.data!.version });
		else await del(`${path}/blockers/${encodeURIComponent(other)}?version=${task.data!.version}`);
		setNotice(action === "add" ? "The dependency is added." : "The dependency is removed.");
		setBlocker("");
		refresh();
	});
	const restore = useAction(async (v: number) => {
		await post(`${path}/versions/${v}/restore`, { expectedVersion: task.data!.version });
		setNotice(`Version ${v} is restored as a new version.`);
		refresh();
	});

	if (task.loading && !task.data) return <Loading />;
	if (!task.data)
		return (
			<>
				<h1>Task</h1>
				<ProblemBanner problem={task.problem} />
				<a href={href("/tasks")}>All tasks</a>
			</>
		);
	const t = task.data;
	const byId = new Map((tasks.data ?? []).map(x => [x.id, x]));
	const titles = new Map([...byId.values()].map(x => [x.id, x.title]));
	const blocks = (tasks.data ?? []).filter(x => x.blockedBy.includes(t.id));
	const candidates = (tasks.data ?? []).filter(x => x.id !== t.id && !t.blockedBy.includes(x.id));
	const open = t.status === "todo" || t.status === "doing";
	return (
		<>
			<p>
				<a href={href("/tasks")}>← All tasks</a>
			</p>
			<h1>{t.title}</h1>
			{notice ? <Notice kind="success">{notice}</Notice> : null}
			<dl class="fact-list">
				<dt>Status</dt>
				<dd data-field="status">{STATUS_WORD[t.status]}</dd>
				<dt>Priority</dt>
				<dd>{PRIORITY_WORD[t.priority]}</dd>
				<dt>Due</dt>
				<dd>{when(t.dueAt)}</dd>
				<dt>Estimate</dt>
				<dd>{t.estimateMinutes ? `${t.estimateMinutes} min` : "—"}</dd>
				<dt>Tags</dt>
				<dd>{t.tags.length ? t.tags.join(", ") : "—"}</dd>
				<dt>Version</dt>
				<dd>{t.version}</dd>
				{t.completedAt ? (
					<>
						<dt>Completed</dt>
						<dd>{when(t.completedAt)}</dd>
					</>
				) : null}
			</dl>
			{t.description ? <p class="task-description">{t.description}</p> : null}

			<h2>Progress</h2>
			<TaskProblem problem={change.problem} titles={titles} />
			<div class="toolbar">
				{open ? (
					<button
						type="button"
						disabled={change.busy}
						onClick={() => void change.run({ status: "done" }, "Done. Your reward is on its way to your wallet.")}
					>
						Mark as done
					</button>
				) : null}
				<label>
					Status{" "}
					<select value={status || t.status} onChange={e => setStatus(e.currentTarget.value as Status)}>
						{(Object.keys(STATUS_WORD) as Status[]).map(s => (
							<option key={s} value={s}>
								{STATUS_WORD[s]}
							</option>
						))}
					</select>
				</label>
				<button
					type="button"
					class="secondary"
					disabled={change.busy || !status || status === t.status}
					onClick={async () => {
						if ((await change.run({ status }, `The status is now ${STATUS_WORD[status as Status]}.`)).ok) setStatus("");
					}}
				>
					Change status
				</button>
			</div>

			<h2>Dependencies</h2>
			<ProblemBanner problem={tasks.problem} />
			<TaskProblem problem={deps.problem} titles={titles} />
			<div class="deps">
				<section aria-labelledby="waits-for">
					<h3 id="waits-for">Waits for</h3>
					{t.blockedBy.length ? (
						<DependencyTree
							ids={t.blockedBy}
							byId={byId}
							seen={new Set([t.id])}
							onRemove={b => void deps.run("remove", b)}
							busy={deps.busy}
						/>
					) : (
						<p class="hint">Nothing: this task can be done now.</p>
					)}
				</section>
				<section aria-labelledby="blocks">
					<h3 id="blocks">Blocks</h3>
					{blocks.length ? (
						<ul class="dep-tree">
							{blocks.map(b => (
								<li key={b.id}>
									<TaskLink task={b} />
								</li>
							))}
						</ul>
					) : (
						<p class="hint">No task waits for this one.</p>
					)}
				</section>
			</div>
			<Form
				class="toolbar"
				onSubmit={() => {
					if (blocker) void deps.run("add", blocker);
				}}
			>
				<label>
					This task waits for{" "}
					<select value={blocker} onChange={e => setBlocker(e.currentTarget.value)}>
						<option value="">Choose a task…</option>
						{candidates.map(c => (
							<option key={c.id} value={c.id}>
								{c.title} ({STATUS_WORD[c.status]})
							</option>
						))}
					</select>
				</label>
				<button type="submit" class="secondary" disabled={!blocker || deps.busy}>
					Add dependency
				</button>
			</Form>

			<h2>Versions</h2>
			<ProblemBanner problem={versions.problem} />
			<TaskProblem problem={restore.problem} titles={titles} />
			{versions.data ? (
				<Table
					caption={`History (${versions.data.total} versions)`}
					rows={versions.data.rows}
					rowKey={v => v.id}
					columns={[
						{ label: "Version", numeric: true, cell: v => v.version },
						{ label: "When", cell: v => when(v.at) },
						{ label: "By", cell: v => <Author id={v.by} /> },
						{
							label: "Changed",
							cell: v =>
								(v.restoredFrom ? `restored version ${v.restoredFrom}: ` : "") +
								(v.changed.length ? v.changed.join(", ") : "created"),
						},
						{
							label: "Action",
							cell: v =>
								v.version === t.version ? (
									"current"
								) : (
									<button
										type="button"
										class="secondary small"
										disabled={restore.busy}
										onClick={() => void restore.run(v.version)}
										aria-label={`Restore version ${v.version}`}
									>
										Restore
									</button>
								),
						},
					]}
				/>
			) : (
				<Loading label="Loading the history…" />
			)}
		</>
	);
}

function TaskLink({ task }: { task: Task }) {
	return (
		<>
			<a href={href(`/tasks/${encodeURIComponent(task.id)}`)}>{task.title}</a> <StatusChip status={task.status} words={STATUS_WORD} />
		</>
	);
}

/** What a task waits for, and what those wait for, as nested lists (the graph is a DAG; `seen` stops at a repeat). */
function DependencyTree({
	ids,
	byId,
	seen,
	onRemove,
	busy,
}: {
	ids: string[];
	byId: Map<string, Task>;
	seen: Set<string>;
	onRemove?(id: string): void;
	busy?: boolean;
}) {
	return (
		<ul class="dep-tree">
			{ids.map(id => {
				const d = byId.get(id);
				const below = d && !seen.has(id) ? d.blockedBy : [];
				return (
					<li key={id}>
						{d ? <TaskLink task={d} /> : <span class="hint">a task not loaded</span>}
						{onRemove ? (
							<button
								type="button"
								class="link remove"
								disabled={busy}
								onClick={() => onRemove(id)}
								aria-label={`Remove the dependency on “${d?.title ?? id}”`}
							>
								Remove
							</button>
						) : null}
						{below.length ? <DependencyTree ids={below} byId={byId} seen={new Set([...seen, id])} /> : null}
					</li>
				);
			})}
		</ul>
	);
}
