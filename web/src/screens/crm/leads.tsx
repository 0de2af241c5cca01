/**
 * Leads as a board by status (README, "Web app" → "CRM screens"): drag a card to another column, or use
 * its "Status" select (the keyboard way); a move the workflow refuses (409 INVALID_TRANSITION) is
 * explained on the card. Create a lead; import a CSV in batches with a progress bar.
 * Calls `GET /api/leads?status=…`, `POST /api/leads`, `PATCH /api/leads/:id`, `POST /api/leads/import`.
 */
import { useEffect, useState } from "preact/hooks";
import { asProblem, get, patch, post, type ApiProblem, type Page } from "../../api";
import { Field } from "../../components/field";
import { SearchInput } from "../../components/filters";
import { Form } from "../../components/form";
import { Loading, Progress } from "../../components/loading";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { href } from "../../router";
import type { SignedIn } from "../../session";
import { explainMove, money, STATUS_LABEL, STATUSES, toMinor, type Lead, type LeadStatus } from "./common";
import { memberName } from "./members";

type Columns = Record<LeadStatus, { rows: Lead[]; total: number }>;

export default function Leads({ session }: ScreenProps) {
	const [q, setQ] = useState("");
	const [search, setSearch] = useState("");
	const board = useApi(
		async signal => {
			const pages = await Promise.all(
				STATUSES.map(status => get<Page<Lead>>("/api/leads", { status, q: search, pageSize: 100, sort: "-updatedAt" }, { signal })),
			);
			return Object.fromEntries(STATUSES.map((s, i) => [s, { rows: pages[i].rows, total: pages[i].total }])) as Columns;
		},
		[search],
	);
	const [cols, setCols] = useState<Columns | null>(null);
	useEffect(() => {
		if (board.data) setCols(board.data);
	}, [board.data]);
	const [cardErrors, setCardErrors] = useState<Record<string, string>>({});
	const [moving, setMoving] = useState<string | null>(null);
	const [announce, setAnnounce] = useState("");
	const [dragOver, setDragOver] = useState<LeadStatus | null>(null);
	const [creating, setCreating] = useState(false);

	async function move(lead: Lead, to: LeadStatus) {
		if (lead.status === to || !cols) return;
		setMoving(lead.id);
		setCardErrors(e => ({ ...e, [lead.id]: "" }));
		try {
			const updated = await patch<Lead>(`/api/leads/${encodeURIComponent(lead.id)}`, { status: to });
			setCols(c => {
				if (!c) return c;
				const next = { ...c };
				next[lead.status] = { rows: c[lead.status].rows.filter(r => r.id !== lead.id), total: c[lead.status].total - 1 };
				next[to] = { rows: [updated, ...c[to].rows], total: c[to].total + 1 };
				return next;
			});
			setAnnounce(`${lead.name} moved to ${STATUS_LABEL[to]}.`);
		} catch (err) {
			const p = asProblem(err);
			setCardErrors(e => ({ ...e, [lead.id]: explainMove(p, lead.status, to) }));
			setAnnounce(`${lead.name} was not moved: ${explainMove(p, lead.status, to)}`);
			if (p.code === "CONCURRENT_UPDATE") board.reload();
		} finally {
			setMoving(null);
		}
	}

	const find = (id: string) => (cols ? STATUSES.flatMap(s => cols[s].rows).find(r => r.id === id) : undefined);

	return (
		<>
			<h1>Leads</h1>
			<div class="toolbar toolbar-end">
				<button type="button" onClick={() => setCreating(c => !c)} aria-expanded={creating}>
					New lead
				</button>
				<Form
					role="search"
					class="inline-form"
					onSubmit={() => {
						setSearch(q.trim());
					}}
				>
					<SearchInput label="Search leads" value={q} onInput={setQ} maxLength={200} placeholder="Name, e-mail or company" />
					<button type="submit" class="secondary small">
						Search
					</button>
				</Form>
			</div>
			{creating ? (
				<CreateLead
					onCreated={lead => {
						setCreating(false);
						setCols(c => (c ? { ...c, new: { rows: [lead, ...c.new.rows], total: c.new.total + 1 } } : c));
						setAnnounce(`${lead.name} was added to New.`);
					}}
				/>
			) : null}
			<p class="sr-only" role="status" aria-live="polite">
				{announce}
			</p>
			<p class="hint">Drag a card to another column, or choose its status in the card’s menu.</p>
			<ProblemBanner problem={board.problem} />
			{!cols ? (
				<Loading />
			) : (
				<div class="board" aria-label="Leads by status">
					{STATUSES.map(status => (
						<section
							key={status}
							class={`board-column${dragOver === status ? " drop-target" : ""}`}
							aria-labelledby={`col-${status}`}
							data-status={status}
							onDragOver={e => {
								e.preventDefault();
								if (e.dataTransfer) e.dataTransfer.dropEffect = "move";
								setDragOver(status);
							}}
							onDragLeave={e => {
								if (!(e.currentTarget as HTMLElement).contains(e.relatedTarget as Node)) setDragOver(null);
							}}
							onDrop={e => {
								e.preventDefault();
								setDragOver(null);
								const lead = find(e.dataTransfer?.getData("text/plain") ?? "");
								if (lead) void move(lead, status);
							}}
						>
							<h2 id={`col-${status}`}>
								{STATUS_LABEL[status]} <span class="count">{cols[status].total}</span>
							</h2>
							<ul>
								{cols[status].rows.map(lead => (
									<Card
										key={lead.id}
										lead={lead}
										session={session}
										busy={moving === lead.id}
										error={cardErrors[lead.id]}
										onMove={to => void move(lead, to)}
									/>
								))}
							</ul>
							{cols[status].total > cols[status].rows.length ? (
								<p class="hint">{cols[status].total - cols[status].rows.length} more (search to narrow the board)</p>
							) : null}
						</section>
					))}
				</div>
			)}
			<ImportCsv onDone={() => board.reload()} />
		</>
	);
}

function Card({
	lead,
	session,
	busy,
	error,
	onMove,
}: {
	lead: Lead;
	session: SignedIn;
	busy: boolean;
	error?: string;
	onMove(to: LeadStatus): void;
}) {
	const selectId = `status-${lead.id}`;
	return (
		<li
			class={`lead-card${error ? " lead-card-refused" : ""}`}
			draggable
			data-lead={lead.id}
			onDragStart={e => {
				e.dataTransfer?.setData("text/plain", lead.id);
				if (e.dataTransfer) e.dataTransfer.effectAllowed = "move";
			}}
		>
			<a href={href("/crm/lead", { id: lead.id })} class="lead-name">
				{lead.name}
			</a>
			{lead.company ? <span class="hint">{lead.company}</span> : null}
			<span class="lead-meta">
				{lead.value ? `${money(lead.value)} · ` : ""}
				{lead.assignedTo ? memberName(session, lead.assignedTo) : "Unassigned"}
			</span>
			<label for={selectId} class="sr-only">
				Status of {lead.name}
			</label>
			<select
				id={selectId}
				class="small"
				value={lead.status}
				disabled={busy}
				onChange={e => onMove((e.currentTarget as HTMLSelectElement).value as LeadStatus)}
			>
				{STATUSES.map(s => (
					<option key={s} value={s}>
						{STATUS_LABEL[s]}
					</option>
				))}
			</select>
			{error ? (
				<p class="field-error" role="alert">
					{error}
				</p>
			) : null}
		</li>
	);
}

function CreateLead({ onCreated }: { onCreated(lead: Lead): void }) {
	const [f, setF] = useState({ name: "", email: "", phone: "", company: "", country: "", source: "", amount: "", currency: "EUR" });
	const set = (k: keyof typeof f) => (v: string) => setF(o => ({ ...o, [k]: v }));
	const create = useAction(async () => {
		const amount = toMinor(f.amount, f.currency.toUpperCase());
		const body: Record<string, unknown> = { name: f.name };
		for (const k of ["email", "phone", "company", "source"] as const) if (f[k].trim()) body[k] = f[k].trim();
		if (f.country.trim()) body.country = f.country.trim().toUpperCase();
		if (amount !== undefined) body.value = { amount, currency: f.currency.trim().toUpperCase() };
		return post<Lead>("/api/leads", body);
	});
	const p = create.problem;
	return (
		<Form
			class="panel"
			aria-labelledby="new-lead-heading"
			onSubmit={async () => {
				const r = await create.run();
				if (r.ok) onCreated(r.value);
			}}
			problem={p}
			fields={["name", "email", "phone", "company", "country", "source", "value"]}
			head={<h2 id="new-lead-heading">New lead</h2>}
		>
			<div class="form-grid">
				<Field label="Name" name="name" value={f.name} onInput={set("name")} required maxLength={200} autoFocus />
				<Field label="E-mail" name="email" type="email" value={f.email} onInput={set("email")} maxLength={254} />
				<Field label="Phone" name="phone" value={f.phone} onInput={set("phone")} maxLength={40} />
				<Field label="Company" name="company" value={f.company} onInput={set("company")} maxLength={200} />
				<Field label="Country" name="country" value={f.country} onInput={set("country")} maxLength={2} hint="Two letters, e.g. FR" />
				<Field label="Source" name="source" value={f.source} onInput={set("source")} maxLength={64} hint="Defaults to manual" />
				<Field
					label="Value"
					name="value"
					value={f.amount}
					onInput={set("amount")}
					maxLength={20}
					error={Number.isNaN(toMinor(f.amount, f.currency)) ? "Type a number, e.g. 1200.50" : undefined}
				/>
				<Field label="Currency" name="value.currency" value={f.currency} onInput={set("currency")} maxLength={3} hint="ISO code, e.g. EUR" />
			</div>
			<button type="submit" disabled={create.busy || Number.isNaN(toMinor(f.amount, f.currency))}>
				{create.busy ? "Creating…" : "Create lead"}
			</button>
		</Form>
	);
}

/** Rows per request: the import is sent in batches so that the bar can move and a huge file is never one body. */
const BATCH = 200;

interface ImportResult {
	accepted: number;
	rejected: { row: number; errors: { field: string; message: string }[] }[];
}

function ImportCsv({ onDone }: { onDone(): void }) {
	const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
	const [result, setResult] = useState<ImportResult | null>(null);
	const [problem, setProblem] = useState<ApiProblem | null>(null);
	const [file, setFile] = useState<File | null>(null);

	async function run() {
		if (!file) return;
		setProblem(null);
		setResult(null);
		const text = await file.text();
		const lines = text.split(/\r?\n/);
		const header = lines.shift() ?? "";
		// a quoted field may span lines: keep such records whole (an even number of quotes closes a record)
		const records: string[] = [];
		let open = "";
		for (const line of lines) {
			open = open ? `${open}\n${line}` : line;
			if ((open.match(/"/g)?.length ?? 0) % 2 === 0) {
				if (open.trim()) records.push(open);
				open = "";
			}
		}
		if (open.trim()) records.push(open);
		const total: ImportResult = { accepted: 0, rejected: [] };
		setProgress({ done: 0, total: records.length });
		try {
			for (let i = 0; i < records.length; i += BATCH) {
				const chunk = records.slice(i, i + BATCH);
				const r = await post<ImportResult>("/api/leads/import", { csv: [header, ...chunk].join("\n") });
				total.accepted += r.accepted;
				total.rejected.push(...r.rejected.map(x => ({ ...x, row: x.row + i })));
				setProgress({ done: Math.min(i + BATCH, records.length), total: records.length });
			}
			setResult(total);
		} catch (err) {
			setProblem(asProblem(err));
			if (total.accepted) setResult(total);
		} finally {
			setProgress(null);
			onDone();
		}
	}

	return (
		<section class="panel" aria-labelledby="import-heading">
			<h2 id="import-heading">Import leads from CSV</h2>
			<p class="hint">
				First line: the column names (<code>name, email, phone, company, country, source, amount, currency</code>, and{" "}
				<code>cf_&lt;key&gt;</code> for custom fields). Each row is checked like a new lead; the rows refused are listed with why.
			</p>
			<Form class="inline-form" onSubmit={() => run()}>
				<label>
					CSV file
					<input type="file" accept=".csv,text/csv" onChange={e => setFile((e.currentTarget as HTMLInputElement).files?.[0] ?? null)} />
				</label>
				<button type="submit" disabled={!file || progress !== null}>
					Import
				</button>
			</Form>
			{progress ? (
				<Progress
					label="Importing"
					value={progress.total ? (progress.done / progress.total) * 100 : undefined}
					message={`${progress.done} of ${progress.total} rows sent`}
				/>
			) : null}
			<ProblemBanner problem={problem} />
			{result ? (
				<Notice kind={result.rejected.length ? "info" : "success"}>
					{result.accepted} lead{result.accepted === 1 ? "" : "s"} imported
					{result.rejected.length ? `, ${result.rejected.length} row${result.rejected.length === 1 ? "" : "s"} refused:` : "."}
					{result.rejected.length ? (
						<ul>
							{result.rejected.slice(0, 50).map(r => (
								<li key={r.row}>
									Row {r.row}: {r.errors.map(e => e.message).join("; ")}
								</li>
							))}
						</ul>
					) : null}
				</Notice>
			) : null}
		</section>
	);
}
