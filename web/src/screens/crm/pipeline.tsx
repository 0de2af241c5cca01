/**
 * The pipeline (admins): leads per status as a funnel, the win rate overall and per agent, value won per
 * month, from `GET /api/crm/pipeline` (README, "CRM domain" → "Pipeline"), read again every 30 s and on
 * "Refresh". A part whose service is down is named, not guessed.
 */
import { get } from "../../api";
import { Loading } from "../../components/loading";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { Table } from "../../components/table";
import { useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { Chart } from "./chart";
import { money, STATUS_LABEL, STATUSES, type LeadStatus, type Money } from "./common";
import { memberName } from "./members";
import { when } from "../../format";

interface Pipeline {
	total: number;
	byStatus: Record<LeadStatus, number> | null;
	bySource: Record<string, number> | null;
	conversion: { winRate: number | null; overall: number | null } | null;
	averageTimeToWinHours: number | null;
	valueWonByMonth: { month: string; totals: Money[] }[] | null;
	agents:
		| {
				userId: string;
				openLeads: number;
				won: number;
				lost: number;
				capacity: number | null;
				assignedToday: number;
				assignedThisWeek: number;
				commissions: (Money & { count: number })[] | null;
		  }[]
		| null;
	generatedAt: string;
	unavailable: string[];
}

const pct = (v: number | null | undefined) => (v == null ? "—" : `${Math.round(v * 1000) / 10} %`);
const COLORS = ["#2350c8", "#1d6b3a", "#a55a00", "#7a3fb8"];

export default function PipelineScreen({ session }: ScreenProps) {
	const report = useApi(signal => get<Pipeline>("/api/crm/pipeline", undefined, { signal }), [], { pollMs: 30_000 });
	const r = report.data;
	const agents = r?.agents ?? [];
	const currencies = [...new Set((r?.valueWonByMonth ?? []).flatMap(m => m.totals.map(t => t.currency)))];
	return (
		<>
			<h1>Pipeline</h1>
			<div class="toolbar">
				<button type="button" class="secondary" onClick={report.reload} disabled={report.loading}>
					Refresh
				</button>
				{r ? <span class="hint">As of {when(r.generatedAt)}</span> : null}
			</div>
			<ProblemBanner problem={report.problem} />
			{r?.unavailable.length ? <Notice>Some figures are missing right now: {r.unavailable.join(", ")} did not answer.</Notice> : null}
			{!r ? (
				<Loading />
			) : (
				<>
					<div class="cards">
						<div class="card">
							<div class="value" id="pipeline-total">
								{r.total}
							</div>
							<div class="label">Leads</div>
						</div>
						<div class="card">
							<div class="value" id="pipeline-win-rate">
								{pct(r.conversion?.winRate)}
							</div>
							<div class="label">Win rate (won ÷ closed)</div>
						</div>
						<div class="card">
							<div class="value">{pct(r.conversion?.overall)}</div>
							<div class="label">Won of all leads</div>
						</div>
						<div class="card">
							<div class="value">{r.averageTimeToWinHours == null ? "—" : `${Math.round(r.averageTimeToWinHours * 10) / 10} h`}</div>
							<div class="label">Average time to win</div>
						</div>
					</div>
					<div class="charts">
						<Chart
							id="funnel"
							title="Leads by status"
							categoryLabel="Status"
							categories={STATUSES.map(s => STATUS_LABEL[s])}
							series={[{ label: "Leads", color: COLORS[0], values: STATUSES.map(s => r.byStatus?.[s] ?? null) }]}
						/>
						<Chart
							id="win-rate"
							title="Win rate per agent"
							categoryLabel="Agent"
							categories={agents.length ? agents.map(a => memberName(session, a.userId)) : ["No agents yet"]}
							yMax={100}
							series={[
								{
									label: "Win rate",
									color: COLORS[1],
									format: v => `${Math.round(v)} %`,
									values: agents.length ? agents.map(a => (a.won + a.lost ? (a.won / (a.won + a.lost)) * 100 : null)) : [null],
								},
							]}
						/>
						{currencies.length ? (
							<Chart
								id="value-won"
								title="Value won per month"
								categoryLabel="Month"
								kind="line"
								categories={(r.valueWonByMonth ?? []).map(m => m.month)}
								series={currencies.map((c, i) => ({
									label: c,
									color: COLORS[i % COLORS.length],
									format: v => money({ amount: v, currency: c }),
									values: (r.valueWonByMonth ?? []).map(m => m.totals.find(t => t.currency === c)?.amount ?? 0),
								}))}
							/>
						) : null}
					</div>
					<h2>Agents</h2>
					<Table
						caption="Agents"
						rows={agents}
						rowKey={a => a.userId}
						empty="No lead is assigned yet."
						columns={[
							{ label: "Agent", cell: a => memberName(session, a.userId) },
							{ label: "Open", numeric: true, cell: a => a.openLeads },
							{ label: "Capacity", numeric: true, cell: a => a.capacity ?? "—" },
							{ label: "Won", numeric: true, cell: a => a.won },
							{ label: "Lost", numeric: true, cell: a => a.lost },
							{ label: "Today", numeric: true, cell: a => a.assignedToday },
							{ label: "This week", numeric: true, cell: a => a.assignedThisWeek },
							{ label: "Commission", cell: a => (a.commissions?.length ? a.commissions.map(c => money(c)).join(", ") : "—") },
						]}
					/>
					{r.bySource ? (
						<Table
							caption="Leads by source"
							rows={Object.entries(r.bySource)}
							rowKey={([s]) => s}
							columns={[
								{ label: "Source", cell: ([s]) => s },
								{ label: "Leads", numeric: true, cell: ([, n]) => n },
							]}
						/>
					) : null}
				</>
			)}
		</>
	);
}
