/**
 * The operator console (README, "Web app" → "Operator console"). Tabs, each a sub-route of `/console`:
 * - Overview: readiness of each dependency (`/health/ready`), services (`/health/services`) and, for
 *   operators, nodes × services (`/api/operator/nodes`);
 * - Traffic (operators): request rate, error rate and latency charts from `/api/operator/traffic`;
 * - Dead letters (operators): channel messages that failed every retry: inspect, replay, discard;
 * - Jobs and Schedules (the organisation's admins): `/api/jobs`, its dead letters, `/api/schedules`.
 * Who is an operator is the server's decision: a 403 `OPERATOR_REQUIRED` hides the operators' tabs.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { del, get, post, type ApiProblem, type Page } from "../../api";
import { Loading } from "../../components/loading";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { OkBad } from "../../components/status";
import { Table } from "../../components/table";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { href } from "../../router";
import { LineChart } from "./chart";
import { pointBetween, type Point, type TrafficSample } from "./traffic";
import { when } from "../../format";

interface NodeRow {
	id: string;
	available: boolean;
	local: boolean;
	cpu: number | null;
	lastHeartbeatAt: string | null;
	services: string[];
}

const TABS = [
	{ path: "/console", label: "Overview", operator: false },
	{ path: "/console/traffic", label: "Traffic", operator: true },
	{ path: "/console/dead-letters", label: "Dead letters", operator: true },
	{ path: "/console/jobs", label: "Jobs", operator: false },
	{ path: "/console/schedules", label: "Schedules", operator: false },
];

/** The nodes list, or null when this user is not an operator (403). */
function useNodes() {
	return useApi(
		signal =>
			get<{ nodes: NodeRow[] }>("/api/operator/nodes", undefined, { signal }).catch((e: ApiProblem) => {
				if (e.status === 403) return null;
				throw e;
			}),
		[],
		{ pollMs: 5000 },
	);
}

export default function Console({ route }: ScreenProps) {
	const nodes = useNodes();
	const operator = nodes.data !== undefined && nodes.data !== null;
	const tabs = TABS.filter(t => !t.operator || operator);
	const tab = TABS.find(t => t.path === route.path) ?? TABS[0];
	return (
		<>
			<h1>Operator console</h1>
			<nav class="tabs" aria-label="Console sections">
				{tabs.map(t => (
					<a key={t.path} href={href(t.path)} aria-current={t.path === tab.path ? "page" : undefined}>
						{t.label}
					</a>
				))}
			</nav>
			{nodes.data === null ? (
				<p class="hint">
					Cluster-wide views (nodes, traffic, channel dead letters) are for the platform's operators: the owners and administrators of the
					operator organisation.
				</p>
			) : null}
			{tab.operator && nodes.data === undefined ? (
				<Loading />
			) : tab.operator && !operator ? (
				<p>This section is for operators.</p>
			) : tab.path === "/console/traffic" ? (
				<Traffic />
			) : tab.path === "/console/dead-letters" ? (
				<DeadLetters />
			) : tab.path === "/console/jobs" ? (
				<Jobs />
			) : tab.path === "/console/schedules" ? (
				<Schedules />
			) : (
				<Overview nodes={nodes.data ?? null} nodesProblem={nodes.problem} />
			)}
		</>
	);
}

interface Ready {
	status: string;
	checks: { name: string; ok: boolean; error?: string; optional?: boolean }[];
}

function Overview({ nodes, nodesProblem }: { nodes: { nodes: NodeRow[] } | null; nodesProblem: ApiProblem | null }) {
	// /health/ready answers 503 with the same body when something fails: read it either way
	const ready = useApi(
		async signal => {
			const res = await fetch("/health/ready", { signal, headers: { accept: "application/json" } });
			return (await res.json()) as Ready;
		},
		[],
		{ pollMs: 5000 },
	);
	const services = useApi(
		signal => get<{ services: { name: string; nodes: number; available: boolean }[] }>("/health/services", undefined, { auth: false, signal }),
		[],
		{
			pollMs: 5000,
		},
	);
	const serviceNames = useMemo(() => [...new Set(nodes?.nodes.flatMap(n => n.services) ?? [])].sort(), [nodes]);
	return (
		<>
			<h2>Readiness</h2>
			<ProblemBanner problem={ready.problem} />
			{ready.data ? (
				<>
					<p>
						This gateway node is <strong class={ready.data.status === "ready" ? "status-ok" : "status-bad"}>{ready.data.status}</strong>.
					</p>
					<Table
						caption="Dependencies of this node"
						rows={ready.data.checks}
						rowKey={c => c.name}
						empty="No dependency checks (the node is starting or draining)."
						columns={[
							{ label: "Dependency", cell: c => c.name + (c.optional ? " (optional)" : "") },
							{ label: "State", cell: c => <OkBad ok={c.ok}>{c.ok ? "answers" : "failing"}</OkBad> },
							{ label: "Detail", cell: c => c.error ?? "—" },
						]}
					/>
				</>
			) : (
				<Loading />
			)}
			{nodes ? (
				<>
					<h2>Nodes × services</h2>
					<ProblemBanner problem={nodesProblem} />
					<div class="table-wrap">
						<table class="matrix">
							<caption>Which node runs which service</caption>
							<thead>
								<tr>
									<th scope="col">Service</th>
									{nodes.nodes.map(n => (
										<th scope="col" key={n.id}>
											{n.id}
											{n.local ? " (this node)" : ""}
											<br />
											<OkBad ok={n.available}>{n.available ? "up" : "down"}</OkBad>
											{n.cpu !== null ? <span class="hint"> · CPU {Math.round(n.cpu)} %</span> : null}
										</th>
									))}
								</tr>
							</thead>
							<tbody>
								{serviceNames.map(s => (
									<tr key={s}>
										<th scope="row">{s}</th>
										{nodes.nodes.map(n => (
											<td class="cell" key={n.id}>
												{n.services.includes(s) ? (
													<OkBad ok={n.available}>{n.available ? "✓ runs" : "✗ down"}</OkBad>
												) : (
													<span class="hint">—</span>
												)}
											</td>
										))}
									</tr>
								))}
							</tbody>
						</table>
					</div>
				</>
			) : null}
			<h2>Services</h2>
			<ProblemBanner problem={services.problem} />
			{services.data ? (
				<Table
					caption="Services of the platform"
					rows={services.data.services}
					rowKey={s => s.name}
					rowClass={s => (s.available ? "" : "row-bad")}
					columns={[
						{ label: "Service", cell: s => s.name },
						{ label: "Nodes", cell: s => s.nodes, numeric: true },
						{ label: "Available", cell: s => <OkBad ok={s.available}>{s.available ? "yes" : "no"}</OkBad> },
					]}
				/>
			) : (
				<Loading />
			)}
		</>
	);
}

const POLL_MS = 2000;
const KEEP = 90; // points: 3 minutes at 2 s

const fmt =
	(unit: string, digits = 1) =>
	(v: number | null) =>
		v === null || v === undefined || Number.isNaN(v) ? "—" : `${v.toFixed(digits)} ${unit}`;

function Traffic() {
	const [points, setPoints] = useState<Point[]>([]);
	const [latest, setLatest] = useState<TrafficSample | null>(null);
	const [problem, setProblem] = useState<ApiProblem | null>(null);
	const prev = useRef<TrafficSample | null>(null);
	useEffect(() => {
		let stopped = false;
		let timer: ReturnType<typeof setTimeout> | undefined;
		const tick = async () => {
			try {
				const sample = await get<TrafficSample>("/api/operator/traffic");
				if (stopped) return;
				const p = prev.current && pointBetween(prev.current, sample);
				prev.current = sample;
				setLatest(sample);
				setProblem(null);
				if (p) setPoints(ps => [...ps.slice(-(KEEP - 1)), p]);
			} catch (e) {
				if (!stopped) setProblem(e as ApiProblem);
			}
			if (!stopped) timer = setTimeout(tick, POLL_MS);
		};
		void tick();
		return () => {
			stopped = true;
			clearTimeout(timer);
		};
	}, []);
	const xs = points.map(p => p.t);
	const last = points[points.length - 1];
	return (
		<>
			<p class="hint">Sampled every {POLL_MS / 1000} s from every node's counters; the console's own polling is left out.</p>
			<ProblemBanner problem={problem} />
			<div class="cards">
				<Card label="HTTP requests / s" value={fmt("", 1)(last?.httpRate ?? null)} />
				<Card label="HTTP problems" value={fmt("%", 1)(last?.httpErrorPct ?? null)} />
				<Card label="Latency p95" value={fmt("ms", 1)(last?.p95 ?? null)} />
				<Card label="Action calls / s" value={fmt("", 1)(last?.callRate ?? null)} />
			</div>
			<div class="charts">
				<LineChart
					windowS={(KEEP * POLL_MS) / 1000}
					title="Request rate"
					data={[xs, points.map(p => p.httpRate), points.map(p => p.callRate)]}
					series={[
						{ label: "HTTP requests/s", color: "#2350c8", format: fmt("req/s") },
						{ label: "action calls/s", color: "#7b8794", format: fmt("calls/s") },
					]}
				/>
				<LineChart
					windowS={(KEEP * POLL_MS) / 1000}
					title="Error rate"
					data={[xs, points.map(p => p.httpErrorPct), points.map(p => p.callErrorPct)]}
					series={[
						{ label: "HTTP problems", color: "#a51d2d", format: fmt("%") },
						{ label: "failed calls", color: "#d9822b", format: fmt("%") },
					]}
				/>
				<LineChart
					windowS={(KEEP * POLL_MS) / 1000}
					title="HTTP latency"
					data={[xs, points.map(p => p.p50), points.map(p => p.p95), points.map(p => p.p99)]}
					series={[
						{ label: "p50", color: "#1d6b3a", format: fmt("ms") },
						{ label: "p95", color: "#d9822b", format: fmt("ms") },
						{ label: "p99", color: "#a51d2d", format: fmt("ms") },
					]}
				/>
			</div>
			{latest ? (
				<Table
					caption="Per node, since it started"
					rows={latest.nodes}
					rowKey={n => n.node}
					columns={[
						{ label: "Node", cell: n => n.node },
						{ label: "HTTP requests", numeric: true, cell: n => (n.unreachable ? "unreachable" : (n.http?.requests ?? "—")) },
						{ label: "Action calls", numeric: true, cell: n => n.calls ?? "—" },
						{ label: "Failed calls", numeric: true, cell: n => n.errors ?? "—" },
						{ label: "Mean call time", numeric: true, cell: n => (n.timeCount ? `${(n.timeSum / n.timeCount).toFixed(1)} ms` : "—") },
						{
							label: "Busiest actions",
							cell: n =>
								(n.actions ?? [])
									.filter(a => a.action !== "api.rest")
									.slice(0, 5)
									.map(a => `${a.action} (${a.calls})`)
									.join(", ") || "—",
						},
					]}
				/>
			) : (
				<Loading />
			)}
		</>
	);
}

function Card({ label, value }: { label: string; value: string }) {
	return (
		<div class="card">
			<div class="value">{value}</div>
			<div class="label">{label}</div>
		</div>
	);
}

interface DeadLetter {
	id: string;
	channel: string;
	group: string | null;
	payload: unknown;
	failedAt: string;
	error?: string;
	attempts?: number;
}

/** Inspect, replay, discard: one table for both kinds (channel messages and jobs), one dialog to inspect. */
function Inspect({ title, value, onClose }: { title: string; value: unknown; onClose(): void }) {
	const ref = useRef<HTMLDialogElement>(null);
	useEffect(() => {
		ref.current?.showModal();
	}, []);
	return (
		<dialog ref={ref} aria-labelledby="inspect-title" onClose={onClose}>
			<h2 id="inspect-title">{title}</h2>
			<pre tabIndex={0} aria-label="Content">
				{JSON.stringify(value, null, 2)}
			</pre>
			<button type="button" onClick={() => ref.current?.close()}>
				Close
			</button>
		</dialog>
	);
}

/** Inspect, Replay and Discard of one dead letter or dead job (`name`: "dead letter <id>", "job <id>"). */
function DeadActions({ name, busy, onInspect, onAct }: { name: string; busy: boolean; onInspect(): void; onAct(how: "replay" | "discard"): void }) {
	return (
		<div class="toolbar">
			<button type="button" class="secondary small" onClick={onInspect} aria-label={`Inspect ${name}`}>
				Inspect
			</button>
			<button type="button" class="small" disabled={busy} onClick={() => onAct("replay")} aria-label={`Replay ${name}`}>
				Replay
			</button>
			<button type="button" class="danger small" disabled={busy} onClick={() => onAct("discard")} aria-label={`Discard ${name}`}>
				Discard
			</button>
		</div>
	);
}

function DeadLetters() {
	const list = useApi(signal => get<Page<DeadLetter>>("/api/operator/dead-letters", undefined, { signal }), [], { pollMs: 5000 });
	const [inspect, setInspect] = useState<DeadLetter | null>(null);
	const [done, setDone] = useState<string | null>(null);
	const act = useAction(async (d: DeadLetter, how: "replay" | "discard") => {
		if (how === "replay") await post(`/api/operator/dead-letters/${encodeURIComponent(d.id)}/replay`);
		else await del(`/api/operator/dead-letters/${encodeURIComponent(d.id)}`);
		setDone(how === "replay" ? `Dead letter ${d.id} was sent again to ${d.channel}.` : `Dead letter ${d.id} was discarded.`);
		list.reload();
	});
	return (
		<>
			<p>
				Channel messages that failed every retry. Replaying sends the message again to its channel (every consumer group receives it;
				consumers are idempotent); discarding deletes it.
			</p>
			<ProblemBanner problem={list.problem ?? act.problem} />
			{done ? <Notice kind="success">{done}</Notice> : null}
			{list.data ? (
				<Table
					caption={`Channel dead letters (${list.data.total})`}
					rows={list.data.rows}
					rowKey={d => d.id}
					empty="No dead letters: every channel message was handled."
					columns={[
						{ label: "Failed", cell: d => when(d.failedAt) },
						{ label: "Channel", cell: d => d.channel },
						{ label: "Group", cell: d => d.group ?? "—" },
						{ label: "Attempts", numeric: true, cell: d => d.attempts ?? "—" },
						{ label: "Error", cell: d => d.error ?? "—" },
						{
							label: "Actions",
							cell: d => (
								<DeadActions
									name={`dead letter ${d.id}`}
									busy={act.busy}
									onInspect={() => setInspect(d)}
									onAct={how => void act.run(d, how)}
								/>
							),
						},
					]}
				/>
			) : (
				<Loading />
			)}
			{inspect ? <Inspect title={`Dead letter ${inspect.id} (${inspect.channel})`} value={inspect} onClose={() => setInspect(null)} /> : null}
		</>
	);
}

interface Job {
	id: string;
	type: string;
	status: string;
	attempts: number;
	attemptsMade: number;
	progress?: { percent: number; message?: string } | null;
	error?: string | null;
	createdAt: string;
	finishedAt?: string | null;
}

function Jobs() {
	const [status, setStatus] = useState("");
	const jobs = useApi(signal => get<Page<Job>>("/api/jobs", { status, pageSize: 50 }, { signal }), [status], { pollMs: 5000 });
	const dead = useApi(signal => get<Page<Job>>("/api/jobs/dead-letters", { pageSize: 50 }, { signal }), [], { pollMs: 5000 });
	const workers = useApi(signal => get<{ rows?: unknown[] } | unknown[]>("/api/jobs/workers", undefined, { signal }), []);
	const [inspect, setInspect] = useState<Job | null>(null);
	const [done, setDone] = useState<string | null>(null);
	const act = useAction(async (j: Job, how: "replay" | "discard") => {
		if (how === "replay") await post(`/api/jobs/dead-letters/${encodeURIComponent(j.id)}/replay`);
		else await del(`/api/jobs/dead-letters/${encodeURIComponent(j.id)}`);
		setDone(how === "replay" ? `Job ${j.id} (${j.type}) runs again.` : `Job ${j.id} was discarded.`);
		dead.reload();
		jobs.reload();
	});
	const workerRows = (Array.isArray(workers.data) ? workers.data : (workers.data?.rows ?? [])) as {
		node: string;
		type: string;
		concurrency: number;
		active: number;
	}[];
	return (
		<>
			<p>Background jobs of this organisation.</p>
			<ProblemBanner problem={jobs.problem ?? dead.problem ?? act.problem} />
			{done ? <Notice kind="success">{done}</Notice> : null}
			<h2>Dead jobs</h2>
			{dead.data ? (
				<Table
					caption={`Jobs whose last attempt failed (${dead.data.total})`}
					rows={dead.data.rows}
					rowKey={j => j.id}
					empty="No dead jobs."
					columns={[
						{ label: "Type", cell: j => j.type },
						{ label: "Attempts", numeric: true, cell: j => `${j.attemptsMade}/${j.attempts}` },
						{ label: "Error", cell: j => j.error ?? "—" },
						{ label: "Finished", cell: j => when(j.finishedAt) },
						{
							label: "Actions",
							cell: j => (
								<DeadActions
									name={`job ${j.id}`}
									busy={act.busy}
									onInspect={() => setInspect(j)}
									onAct={how => void act.run(j, how)}
								/>
							),
						},
					]}
				/>
			) : (
				<Loading />
			)}
			<h2>Recent jobs</h2>
			<div class="toolbar">
				<label for="job-status">Status</label>
				<select id="job-status" value={status} onChange={e => setStatus((e.currentTarget as HTMLSelectElement).value)}>
					<option value="">all</option>
					{["waiting", "active", "failed", "completed", "dead", "cancelled"].map(s => (
						<option key={s} value={s}>
							{s}
						</option>
					))}
				</select>
			</div>
			{jobs.data ? (
				<Table
					caption={`Jobs (${jobs.data.total})`}
					rows={jobs.data.rows}
					rowKey={j => j.id}
					empty="No jobs."
					columns={[
						{ label: "Type", cell: j => j.type },
						{ label: "Status", cell: j => j.status },
						{
							label: "Progress",
							cell: j =>
								j.progress ? (
									<label>
										<span class="hint">{j.progress.message ?? ""} </span>
										<progress max={100} value={j.progress.percent} aria-label={`Progress of job ${j.id}`} />{" "}
										{Math.round(j.progress.percent)} %
									</label>
								) : (
									"—"
								),
						},
						{ label: "Attempts", numeric: true, cell: j => `${j.attemptsMade}/${j.attempts}` },
						{ label: "Created", cell: j => when(j.createdAt) },
					]}
				/>
			) : (
				<Loading />
			)}
			<h2>Workers</h2>
			<Table
				caption="Nodes running job handlers"
				rows={workerRows}
				rowKey={w => `${w.node}:${w.type}`}
				empty="No worker has reported."
				columns={[
					{ label: "Node", cell: w => w.node },
					{ label: "Type", cell: w => w.type },
					{ label: "Running", numeric: true, cell: w => `${w.active}/${w.concurrency}` },
				]}
			/>
			{inspect ? <Inspect title={`Job ${inspect.id} (${inspect.type})`} value={inspect} onClose={() => setInspect(null)} /> : null}
		</>
	);
}

interface Schedule {
	id: string;
	name: string;
	cron?: string | null;
	runAt?: string | null;
	timezone: string;
	jobType: string;
	paused: boolean;
	nextRunAt: string | null;
	lastDueAt?: string | null;
}

function Schedules() {
	const list = useApi(signal => get<Page<Schedule>>("/api/schedules", { pageSize: 100 }, { signal }), [], { pollMs: 10000 });
	const [done, setDone] = useState<string | null>(null);
	const act = useAction(async (s: Schedule, how: "pause" | "resume" | "run") => {
		await post(`/api/schedules/${encodeURIComponent(s.id)}/${how}`);
		setDone(how === "run" ? `${s.name} runs now.` : how === "pause" ? `${s.name} is paused.` : `${s.name} is resumed.`);
		list.reload();
	});
	return (
		<>
			<p>Schedules of this organisation: each firing enqueues a job.</p>
			<ProblemBanner problem={list.problem ?? act.problem} />
			{done ? <Notice kind="success">{done}</Notice> : null}
			{list.data ? (
				<Table
					caption={`Schedules (${list.data.total})`}
					rows={list.data.rows}
					rowKey={s => s.id}
					empty="No schedules."
					columns={[
						{ label: "Name", cell: s => s.name },
						{ label: "When", cell: s => (s.cron ? `${s.cron} (${s.timezone})` : when(s.runAt)) },
						{ label: "Job", cell: s => s.jobType },
						{ label: "Next run", cell: s => (s.paused ? "paused" : when(s.nextRunAt)) },
						{ label: "Last due", cell: s => when(s.lastDueAt) },
						{
							label: "Actions",
							cell: s => (
								<div class="toolbar">
									<button
										type="button"
										class="secondary small"
										disabled={act.busy}
										onClick={() => void act.run(s, s.paused ? "resume" : "pause")}
										aria-label={`${s.paused ? "Resume" : "Pause"} ${s.name}`}
									>
										{s.paused ? "Resume" : "Pause"}
									</button>
									<button
										type="button"
										class="small"
										disabled={act.busy}
										onClick={() => void act.run(s, "run")}
										aria-label={`Run ${s.name} now`}
									>
										Run now
									</button>
								</div>
							),
						},
					]}
				/>
			) : (
				<Loading />
			)}
		</>
	);
}
