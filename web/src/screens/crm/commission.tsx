/**
 * Commission statements (README, "CRM domain" → "Commission"): a month's calculations (wins and
 * reversals) and totals per person and currency; a member sees their own, an admin anyone's or everyone's.
 * Below, the payouts of that month. Calls `GET /api/commission/statements`, `GET /api/commission/payouts`.
 */
import { useState } from "preact/hooks";
import { get, type Page } from "../../api";
import { Loaded } from "../../components/loading";
import { ProblemBanner } from "../../components/problem-banner";
import { Table } from "../../components/table";
import { useApi } from "../../components/use-api";
import { SelectFilter } from "../../components/filters";
import type { ScreenProps } from "../../nav";
import { href } from "../../router";
import { isAdmin } from "../../session";
import { money } from "./common";
import { memberChoices, memberName, useMembers } from "./members";
import { when } from "../../format";

interface Calculation {
	id: string;
	leadId: string;
	userId: string;
	kind: string;
	type: "win" | "reversal";
	amount: number;
	currency: string;
	leadValue?: { amount: number; currency: string } | null;
	period: string;
	at: string;
}

interface Statement {
	period: string;
	userId: string | null;
	rows: Calculation[];
	totals: { userId: string; currency: string; amount: number; count: number }[];
}

interface Payout {
	id: string;
	userId: string;
	period: string;
	status: "pending" | "approved" | "paid";
	totals: { currency: string; amount: number }[];
	createdAt: string;
}

const thisMonth = () => new Date().toISOString().slice(0, 7);

export default function Commission({ session }: ScreenProps) {
	const admin = isAdmin(session);
	const [period, setPeriod] = useState(thisMonth());
	const [userId, setUserId] = useState(admin ? "" : session.user.id);
	const members = useMembers(session);
	const valid = /^\d{4}-(0[1-9]|1[0-2])$/.test(period);
	const statement = useApi(
		signal => (valid ? get<Statement>("/api/commission/statements", { period, userId }, { signal }) : Promise.resolve(undefined)),
		[period, userId],
	);
	const payouts = useApi(
		signal => (valid ? get<Page<Payout>>("/api/commission/payouts", { period, userId, pageSize: 100 }, { signal }) : Promise.resolve(undefined)),
		[period, userId],
	);
	return (
		<>
			<h1>Commission</h1>
			<div class="toolbar">
				<label>
					Month
					<input type="month" value={period} max={thisMonth()} onInput={e => setPeriod((e.currentTarget as HTMLInputElement).value)} />
				</label>
				{admin ? (
					<SelectFilter
						label="Person"
						value={userId}
						onChange={setUserId}
						any="Everyone"
						words={memberChoices(session, members.data?.rows)}
					/>
				) : null}
			</div>
			{!valid ? <p class="field-error">Choose a month.</p> : null}
			<ProblemBanner problem={statement.problem} />
			<Loaded api={statement}>
				{data => (
					<>
						<Table
							caption={`Totals for ${data.period}`}
							rows={data.totals}
							rowKey={t => `${t.userId}:${t.currency}`}
							empty="No commission this month."
							columns={[
								{ label: "Person", cell: t => memberName(session, t.userId) },
								{ label: "Calculations", numeric: true, cell: t => t.count },
								{ label: "Total", numeric: true, cell: t => money(t) },
							]}
						/>
						<Table
							caption="Statement lines"
							rows={data.rows}
							rowKey={r => r.id}
							empty="Nothing was won or reopened this month."
							columns={[
								{ label: "When", cell: r => when(r.at) },
								{ label: "Person", cell: r => memberName(session, r.userId) },
								{
									label: "Lead",
									cell: r => <a href={href("/crm/lead", { id: r.leadId })}>{r.type === "win" ? "Won" : "Reopened (reversal)"}</a>,
								},
								{ label: "Lead value", numeric: true, cell: r => money(r.leadValue) },
								{ label: "Commission", numeric: true, cell: r => money(r) },
							]}
						/>
					</>
				)}
			</Loaded>
			<ProblemBanner problem={payouts.problem} />
			{payouts.data ? (
				<Table
					caption="Payouts"
					rows={payouts.data.rows}
					rowKey={p => p.id}
					empty="No payout for this month yet."
					columns={[
						{ label: "Person", cell: p => memberName(session, p.userId) },
						{ label: "Status", cell: p => p.status[0].toUpperCase() + p.status.slice(1) },
						{ label: "Total", numeric: true, cell: p => p.totals.map(t => money(t)).join(", ") || "—" },
						{ label: "Created", cell: p => when(p.createdAt) },
					]}
				/>
			) : null}
		</>
	);
}
