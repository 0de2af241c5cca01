/**
 * Reports (README, "Platform: analytics" → "Reports"): run a series query into a CSV as a background job
 * (`POST /api/analytics/reports` → 202), watch its progress (`GET /:id`: the job's percent and message,
 * read every half second while it runs) and download the CSV with the token (`GET /:id/csv` through
 * `getBlob`). Fields the API refuses are explained next to them.
 */
import { useEffect, useState } from "preact/hooks";
import { del, get, getBlob, post, type ApiProblem, type Page } from "../../api";
import { Field } from "../../components/field";
import { Loading, Progress } from "../../components/loading";
import { ProblemBanner } from "../../components/problem-banner";
import { Table, when } from "../../components/table";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { BUCKET_OPTIONS, SelectField } from "./common";

type Status = "queued" | "running" | "ready" | "failed";

interface Report {
	id: string;
	name: string;
	query: { name: string; from: string; to: string; bucket: "day" | "hour"; by?: string; sum?: string };
	status: Status;
	jobId: string | null;
	rows: number | null;
	error: string | null;
	expiresAt: string;
	createdAt: string;
	progress?: { percent: number; message: string | null } | null;
}

const POLL_MS = 500;
const DAY = 86_400_000;
const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const final = (s: Status | undefined) => s === "ready" || s === "failed";

/** The CSV, fetched with the token and handed to the browser as a file. */
async function download(r: Report) {
	const url = URL.createObjectURL(await getBlob(`/api/analytics/reports/${encodeURIComponent(r.id)}/csv`));
	const a = document.createElement("a");
	a.href = url;
	a.download = `${r.name.replace(/[^\w.-]+/g, "-") || "report"}.csv`;
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** A report this screen saw queued or running: its progress bar, polled until it is ready or failed. */
function Watch({ row, onSettled }: { row: Report; onSettled(): void }) {
	const [settled, setSettled] = useState(false);
	const live = useApi(signal => get<Report>(`/api/analytics/reports/${encodeURIComponent(row.id)}`, undefined, { signal }), [row.id], {
		pollMs: settled ? undefined : POLL_MS,
	});
	const r = live.data ?? row;
	useEffect(() => {
		if (final(r.status) && !settled) {
			setSettled(true);
			onSettled();
		}
	}, [r.status]);
	// the row says ready before the job records its last step: ready is 100 %
	const percent = r.status === "ready" ? 100 : r.progress?.percent;
	const message =
		r.status === "ready" ? `Ready: ${r.rows ?? 0} rows` : r.status === "queued" ? "Waiting to start" : (r.progress?.message ?? undefined);
	return (
		<div class="an-watch" data-report={r.id}>
			{r.status === "failed" ? (
				<p class="field-error">Failed: {r.error ?? "the job did not finish"}</p>
			) : (
				<Progress label={`${r.name}: ${percent === undefined ? "starting" : `${Math.round(percent)} %`}`} value={percent} message={message} />
			)}
			{live.problem ? <ProblemBanner problem={live.problem} /> : null}
		</div>
	);
}

function RunForm({ onStarted }: { onStarted(r: Report): void }) {
	const now = Date.now();
	const [name, setName] = useState("");
	const [event, setEvent] = useState("");
	const [from, setFrom] = useState(utcDay(now - 7 * DAY));
	const [to, setTo] = useState(utcDay(now + DAY));
	const [bucket, setBucket] = useState<"day" | "hour">("day");
	const [by, setBy] = useState("");
	const [sum, setSum] = useState("");
	const run = useAction(async () => {
		const query: Record<string, string> = { name: event.trim(), bucket };
		if (from) query.from = `${from}T00:00:00.000Z`;
		if (to) query.to = `${to}T00:00:00.000Z`;
		if (by.trim()) query.by = by.trim();
		if (sum.trim()) query.sum = sum.trim();
		const r = await post<Report>("/api/analytics/reports", { name: name.trim(), query });
		onStarted(r);
	});
	// the range is checked by the series query, whose problems name `from` and `to`
	const err = (p: ApiProblem | null, f: string) => p?.fieldError(`query.${f}`) ?? p?.fieldError(f);
	return (
		<form
			class="an-run"
			onSubmit={e => {
				e.preventDefault();
				void run.run();
			}}
		>
			<ProblemBanner problem={run.problem} fields={["name", "query", "from", "to"]} />
			<div class="form-grid">
				<Field label="Report name" name="name" value={name} onInput={setName} problem={run.problem} required maxLength={200} />
				<Field
					label="Event name"
					name="query.name"
					value={event}
					onInput={setEvent}
					problem={run.problem}
					required
					placeholder="task.completed"
					maxLength={64}
				/>
				<Field
					type="date"
					problem={null}
					label="From (UTC day)"
					name="query.from"
					value={from}
					onInput={setFrom}
					error={err(run.problem, "from")}
					required
				/>
				<Field
					type="date"
					problem={null}
					label="To (UTC day, not included)"
					name="query.to"
					value={to}
					onInput={setTo}
					error={err(run.problem, "to")}
					required
				/>
				<SelectField
					label="Bucket"
					name="query.bucket"
					value={bucket}
					onChange={v => setBucket(v as "day" | "hour")}
					problem={run.problem}
					options={BUCKET_OPTIONS}
				/>
				<Field
					label="Dimension (by)"
					name="query.by"
					value={by}
					onInput={setBy}
					problem={run.problem}
					hint="Optional: a property, one line per value"
					maxLength={64}
				/>
				<Field
					label="Sum of property"
					name="query.sum"
					value={sum}
					onInput={setSum}
					problem={run.problem}
					hint="Optional: a numeric property"
					maxLength={64}
				/>
			</div>
			<button type="submit" disabled={run.busy}>
				Run report
			</button>
		</form>
	);
}

export default function Reports(_: ScreenProps) {
	const list = useApi(signal => get<Page<Report>>("/api/analytics/reports", { pageSize: 50 }, { signal }));
	// reports seen queued or running keep their progress bar (at 100 % once ready)
	const [watched, setWatched] = useState<Set<string>>(new Set());
	useEffect(() => {
		const running = (list.data?.rows ?? []).filter(r => !final(r.status)).map(r => r.id);
		if (running.some(id => !watched.has(id))) setWatched(w => new Set([...w, ...running]));
	}, [list.data]);
	const csv = useAction(download);
	const remove = useAction(async (r: Report) => {
		await del(`/api/analytics/reports/${encodeURIComponent(r.id)}`);
		list.reload();
	});
	const rows = list.data?.rows ?? [];
	return (
		<>
			<h1>Reports</h1>
			<p>A report counts one event over a range into a CSV file. It runs in the background: its progress shows below.</p>
			<section class="panel" aria-labelledby="an-run-title">
				<h2 id="an-run-title">Run a report</h2>
				<RunForm
					onStarted={r => {
						setWatched(w => new Set([...w, r.id]));
						list.reload();
					}}
				/>
			</section>
			<ProblemBanner problem={list.problem ?? csv.problem ?? remove.problem} />
			{list.loading && !list.data ? (
				<Loading />
			) : (
				<Table
					caption="Reports"
					rows={rows}
					rowKey={r => r.id}
					empty="No report yet: run one above. Reports are kept for a week."
					columns={[
						{ label: "Name", cell: r => r.name },
						{
							label: "Query",
							cell: r => (
								<span class="an-query">
									{r.query.name}, {r.query.from.slice(0, 10)} to {r.query.to.slice(0, 10)} per {r.query.bucket}
									{r.query.by ? `, by ${r.query.by}` : ""}
									{r.query.sum ? `, sum of ${r.query.sum}` : ""}
								</span>
							),
						},
						{
							label: "Status",
							cell: r =>
								watched.has(r.id) ? (
									<Watch row={r} onSettled={list.reload} />
								) : r.status === "failed" ? (
									<span class="field-error">Failed: {r.error}</span>
								) : (
									`Ready: ${r.rows ?? 0} rows`
								),
						},
						{ label: "Started", cell: r => when(r.createdAt) },
						{
							label: "Actions",
							cell: r => (
								<div class="toolbar">
									{r.status === "ready" ? (
										<button type="button" class="secondary" onClick={() => void csv.run(r)} disabled={csv.busy}>
											Download CSV<span class="sr-only"> of {r.name}</span>
										</button>
									) : null}
									<button type="button" class="secondary" onClick={() => void remove.run(r)} disabled={remove.busy}>
										Delete<span class="sr-only"> {r.name}</span>
									</button>
								</div>
							),
						},
					]}
				/>
			)}
		</>
	);
}
