/**
 * One lead (`#/crm/lead?id=…`): its fields, status (a refused move explained), owner (admins assign),
 * and the timeline with calls, e-mails, meetings and notes added by people.
 * Calls `GET/PATCH /api/leads/:id`, `POST /api/leads/:id/assign`, `GET/POST /api/leads/:id/activities`.
 */
import { useEffect, useState } from "preact/hooks";
import { get, patch, post, type Page } from "../../api";
import { Field } from "../../components/field";
import { Options } from "../../components/filters";
import { Form } from "../../components/form";
import { Loading } from "../../components/loading";
import { ProblemBanner } from "../../components/problem-banner";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { href } from "../../router";
import { isAdmin, type SignedIn } from "../../session";
import { explainMove, money, NEXT, STATUS_LABEL, STATUSES, type Lead, type LeadStatus } from "./common";
import { memberChoices, memberName, useMembers } from "./members";
import { when } from "../../format";

interface Activity {
	id: string;
	type: string;
	summary: string | null;
	at: string;
	actorId: string | null;
	data?: Record<string, unknown> | null;
}

const TYPE_LABEL: Record<string, string> = {
	created: "Created",
	status_changed: "Status changed",
	assigned: "Assigned",
	form_submission: "Web form",
	call: "Call",
	email: "E-mail",
	meeting: "Meeting",
	note: "Note",
};

function describe(a: Activity, session: SignedIn): string {
	if (a.type === "status_changed" && a.data) {
		const d = a.data as { from: LeadStatus; to: LeadStatus };
		return `${STATUS_LABEL[d.from] ?? d.from} → ${STATUS_LABEL[d.to] ?? d.to}`;
	}
	if (a.type === "assigned" && a.data) {
		const d = a.data as { userId: string; ruleId?: string | null };
		return `to ${memberName(session, d.userId)}${d.ruleId ? " by a rule" : ""}`;
	}
	return a.summary ?? "";
}

export default function LeadDetail({ route, session }: ScreenProps) {
	const id = route.query.get("id") ?? "";
	const one = useApi(signal => get<Lead>(`/api/leads/${encodeURIComponent(id)}`, undefined, { signal }), [id]);
	const timeline = useApi(
		signal => get<Page<Activity>>(`/api/leads/${encodeURIComponent(id)}/activities`, { pageSize: 100, sort: "-at" }, { signal }),
		[id],
	);
	const members = useMembers(session);
	const [lead, setLead] = useState<Lead | null>(null);
	useEffect(() => {
		if (one.data) setLead(one.data);
	}, [one.data]);
	const [moveError, setMoveError] = useState("");

	const setStatus = useAction(async (to: LeadStatus) => {
		setMoveError("");
		try {
			setLead(await patch<Lead>(`/api/leads/${encodeURIComponent(id)}`, { status: to }));
			timeline.reload();
		} catch (err) {
			if (lead) setMoveError(explainMove(err as never, lead.status, to));
			throw err;
		}
	});
	const assign = useAction(async (userId: string) => {
		setLead(await post<Lead>(`/api/leads/${encodeURIComponent(id)}/assign`, { userId }));
		timeline.reload();
	});

	if (one.problem) return <ProblemBanner problem={one.problem} />;
	if (!lead) return <Loading />;
	return (
		<>
			<p>
				<a href={href("/crm/leads")}>← Leads</a>
			</p>
			<h1>{lead.name}</h1>
			<dl class="facts">
				<dt>Status</dt>
				<dd>{STATUS_LABEL[lead.status]}</dd>
				<dt>Value</dt>
				<dd>{money(lead.value)}</dd>
				<dt>Company</dt>
				<dd>{lead.company ?? "—"}</dd>
				<dt>E-mail</dt>
				<dd>{lead.email ?? "—"}</dd>
				<dt>Phone</dt>
				<dd>{lead.phone ?? "—"}</dd>
				<dt>Country</dt>
				<dd>{lead.country ?? "—"}</dd>
				<dt>Source</dt>
				<dd>{lead.source}</dd>
				<dt>Owner</dt>
				<dd>{lead.assignedTo ? memberName(session, lead.assignedTo) : "Unassigned"}</dd>
				<dt>Created</dt>
				<dd>{when(lead.createdAt)}</dd>
			</dl>
			<div class="toolbar">
				<label>
					Status
					<select
						value={lead.status}
						disabled={setStatus.busy}
						onChange={e => void setStatus.run((e.currentTarget as HTMLSelectElement).value as LeadStatus)}
					>
						{STATUSES.map(s => (
							<option key={s} value={s}>
								{STATUS_LABEL[s]}
								{s !== lead.status && !NEXT[lead.status].includes(s) ? " (not allowed from here)" : ""}
							</option>
						))}
					</select>
				</label>
				{isAdmin(session) ? (
					<label>
						Owner
						<select
							value={lead.assignedTo ?? ""}
							disabled={assign.busy}
							onChange={e => void assign.run((e.currentTarget as HTMLSelectElement).value)}
						>
							{lead.assignedTo ? null : <option value="">Unassigned</option>}
							<Options words={memberChoices(session, members.data?.rows)} />
						</select>
					</label>
				) : null}
			</div>
			{moveError ? (
				<p class="field-error" role="alert">
					{moveError}
				</p>
			) : (
				<ProblemBanner problem={setStatus.problem} />
			)}
			<ProblemBanner problem={assign.problem} fields={[]} />
			<h2>Timeline</h2>
			<AddActivity leadId={id} onAdded={() => timeline.reload()} />
			<ProblemBanner problem={timeline.problem} />
			{timeline.data ? (
				<ol class="timeline">
					{timeline.data.rows.map(a => (
						<li key={a.id}>
							<strong>{TYPE_LABEL[a.type] ?? a.type}</strong> <span class="hint">{when(a.at)}</span>
							<p>{describe(a, session)}</p>
						</li>
					))}
				</ol>
			) : (
				<Loading />
			)}
		</>
	);
}

function AddActivity({ leadId, onAdded }: { leadId: string; onAdded(): void }) {
	const [type, setType] = useState("note");
	const [summary, setSummary] = useState("");
	const add = useAction(() => post(`/api/leads/${encodeURIComponent(leadId)}/activities`, { type, summary }));
	return (
		<Form
			class="panel"
			aria-label="Add to the timeline"
			onSubmit={async () => {
				if ((await add.run()).ok) {
					setSummary("");
					onAdded();
				}
			}}
			problem={add.problem}
			fields={["summary", "type"]}
		>
			<div class="field">
				<label for="activity-type">Kind</label>
				<select id="activity-type" value={type} onChange={e => setType((e.currentTarget as HTMLSelectElement).value)}>
					<option value="note">Note</option>
					<option value="call">Call</option>
					<option value="email">E-mail</option>
					<option value="meeting">Meeting</option>
				</select>
			</div>
			<Field label="What happened" name="summary" type="textarea" value={summary} onInput={setSummary} required maxLength={2000} />
			<button type="submit" disabled={add.busy || !summary.trim()}>
				Add to timeline
			</button>
		</Form>
	);
}
