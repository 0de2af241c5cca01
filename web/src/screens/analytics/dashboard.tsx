/**
 * One dashboard (`GET /api/analytics/dashboards/:id/data`): every widget as a uPlot chart with its figures
 * in a table, a counter as a card, a table widget as a table; read again on "Refresh" and every minute.
 * Admins edit its name and widgets (`PATCH /:id`) or delete it (`DELETE /:id`).
 */
import { useState } from "preact/hooks";
import { del, get, patch } from "../../api";
import { Loading } from "../../components/loading";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { href, navigate } from "../../router";
import { isAdmin } from "../../session";
import { WidgetView, type Widget, type WidgetData } from "./common";
import { DashboardEditor } from "./editor";

export default function DashboardScreen({ route, session }: ScreenProps) {
	const id = route.query.get("id") ?? "";
	const path = `/api/analytics/dashboards/${encodeURIComponent(id)}`;
	const board = useApi(signal => get<{ id: string; name: string; widgets: WidgetData[] }>(`${path}/data`, undefined, { signal }), [id], {
		pollMs: 60_000,
	});
	const [editing, setEditing] = useState(false);
	const [notice, setNotice] = useState<string | null>(null);
	const save = useAction(async (body: { name: string; widgets: Widget[] }) => {
		await patch(path, body);
		setEditing(false);
		setNotice("The dashboard was saved.");
		board.reload();
	});
	const remove = useAction(async () => {
		await del(path);
		navigate("/analytics/dashboards");
	});
	const [confirming, setConfirming] = useState(false);
	const admin = isAdmin(session);
	const d = board.data;
	if (!d && board.loading) return <Loading />;
	if (!d)
		return (
			<>
				<h1>Dashboard</h1>
				<ProblemBanner problem={board.problem} />
				<p>
					<a href={href("/analytics/dashboards")}>Back to the dashboards</a>
				</p>
			</>
		);
	return (
		<>
			<p class="hint">
				<a href={href("/analytics/dashboards")}>Dashboards</a>
			</p>
			<h1>{d.name}</h1>
			<div class="toolbar">
				<button type="button" class="secondary" onClick={board.reload} disabled={board.loading}>
					Refresh
				</button>
				{admin ? (
					<>
						<button type="button" class="secondary" aria-expanded={editing} onClick={() => setEditing(e => !e)}>
							Edit dashboard
						</button>
						{confirming ? (
							<span class="confirm">
								Delete “{d.name}”?
								<button type="button" class="danger" onClick={() => void remove.run()} disabled={remove.busy}>
									Yes, delete
								</button>
								<button type="button" class="secondary" onClick={() => setConfirming(false)}>
									Keep it
								</button>
							</span>
						) : (
							<button type="button" class="secondary" onClick={() => setConfirming(true)}>
								Delete dashboard
							</button>
						)}
					</>
				) : null}
			</div>
			<ProblemBanner problem={board.problem ?? remove.problem} />
			{notice ? <Notice kind="success">{notice}</Notice> : null}
			{admin && editing ? (
				<section class="panel" aria-labelledby="an-edit-title">
					<h2 id="an-edit-title">Edit dashboard</h2>
					<DashboardEditor
						initial={d}
						submitLabel="Save dashboard"
						busy={save.busy}
						problem={save.problem}
						onSubmit={body => void save.run(body)}
						onCancel={() => setEditing(false)}
					/>
				</section>
			) : null}
			<div class="an-counters">{d.widgets.map((w, i) => (w.type === "counter" ? <WidgetView key={i} w={w} index={i} /> : null))}</div>
			<div class="charts an-charts">{d.widgets.map((w, i) => (w.type === "counter" ? null : <WidgetView key={i} w={w} index={i} />))}</div>
		</>
	);
}
