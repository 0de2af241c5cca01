/**
 * Dashboards of the organisation (`GET /api/analytics/dashboards`, members read), each opening its charts;
 * admins create one with its widgets (`POST`, README "Platform: analytics" → "Dashboards").
 */
import { useState } from "preact/hooks";
import { get, post, type Page } from "../../api";
import { Loading } from "../../components/loading";
import { ProblemBanner } from "../../components/problem-banner";
import { Table, when } from "../../components/table";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { href, navigate } from "../../router";
import { isAdmin } from "../../session";
import type { Dashboard, Widget } from "./common";
import { DashboardEditor } from "./editor";

export default function Dashboards({ session }: ScreenProps) {
	const list = useApi(signal => get<Page<Dashboard>>("/api/analytics/dashboards", { pageSize: 100 }, { signal }));
	const [creating, setCreating] = useState(false);
	const create = useAction(async (body: { name: string; widgets: Widget[] }) => {
		const made = await post<Dashboard>("/api/analytics/dashboards", body);
		navigate("/analytics/dashboard", { query: { id: made.id } });
	});
	const admin = isAdmin(session);
	return (
		<>
			<h1>Dashboards</h1>
			<p>Charts of your organisation's analytics events, counted per hour and per day (UTC).</p>
			{admin ? (
				<div class="toolbar">
					<button type="button" aria-expanded={creating} onClick={() => setCreating(c => !c)}>
						New dashboard
					</button>
				</div>
			) : null}
			{admin && creating ? (
				<section class="panel" aria-labelledby="an-new-title">
					<h2 id="an-new-title">New dashboard</h2>
					<DashboardEditor
						submitLabel="Create dashboard"
						busy={create.busy}
						problem={create.problem}
						onSubmit={body => void create.run(body)}
						onCancel={() => setCreating(false)}
					/>
				</section>
			) : null}
			<ProblemBanner problem={list.problem} />
			{list.loading && !list.data ? (
				<Loading />
			) : (
				<Table
					caption="Dashboards"
					rows={list.data?.rows ?? []}
					rowKey={d => d.id}
					empty={admin ? "No dashboard yet: create the first one." : "No dashboard yet. An admin of the organisation creates them."}
					columns={[
						{ label: "Name", cell: d => <a href={href("/analytics/dashboard", { id: d.id })}>{d.name}</a> },
						{ label: "Widgets", numeric: true, cell: d => d.widgets.length },
						{ label: "Changed", cell: d => when(d.updatedAt ?? d.createdAt) },
					]}
				/>
			)}
		</>
	);
}
