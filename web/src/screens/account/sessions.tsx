/** Your sessions (every sign-in that is still valid), ending one, or every other one ("sign out elsewhere"). */
import { del, get, type Page } from "../../api";
import { Loaded } from "../../components/loading";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { Table } from "../../components/table";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { useState } from "preact/hooks";
import { when } from "../../format";

interface SessionRow {
	id: string;
	tenantId: string | null;
	createdAt: string;
	lastRefreshedAt: string | null;
	expiresAt: string;
	userAgent: string | null;
	ip: string | null;
	current: boolean;
}

/** A short name for a user agent string ("Chrome on Linux"), the full string in a title. */
function device(ua: string | null): string {
	if (!ua) return "Unknown device";
	const browser = /Edg\//.test(ua)
		? "Edge"
		: /Firefox\//.test(ua)
			? "Firefox"
			: /Chrom(e|ium)\//.test(ua)
				? "Chrome"
				: /Safari\//.test(ua)
					? "Safari"
					: ua.split(/[ /]/)[0];
	const os = /Windows/.test(ua)
		? "Windows"
		: /Android/.test(ua)
			? "Android"
			: /iPhone|iPad/.test(ua)
				? "iOS"
				: /Mac OS/.test(ua)
					? "macOS"
					: /Linux/.test(ua)
						? "Linux"
						: "";
	return os ? `${browser} on ${os}` : browser;
}

export default function Sessions(_: ScreenProps) {
	const list = useApi(signal => get<Page<SessionRow>>("/api/auth/sessions", undefined, { signal }));
	const [done, setDone] = useState<string | null>(null);
	const end = useAction(async (ids: string[]) => {
		for (const id of ids) await del(`/api/auth/sessions/${encodeURIComponent(id)}`);
		setDone(ids.length === 1 ? "The session was signed out." : `${ids.length} other sessions were signed out.`);
		list.reload();
	});
	const others = list.data?.rows.filter(r => !r.current) ?? [];
	return (
		<>
			<h1>Sessions</h1>
			<p>Every device where you are signed in. Ending a session signs that device out within seconds.</p>
			<ProblemBanner problem={list.problem ?? end.problem} />
			{done ? <Notice kind="success">{done}</Notice> : null}
			<Loaded api={list}>
				{data => (
					<>
						<div class="toolbar">
							<button type="button" disabled={others.length === 0 || end.busy} onClick={() => void end.run(others.map(r => r.id))}>
								Sign out everywhere else{others.length ? ` (${others.length})` : ""}
							</button>
						</div>
						<Table
							caption="Your sessions"
							rows={data.rows}
							rowKey={r => r.id}
							columns={[
								{
									label: "Device",
									cell: r => (
										<span title={r.userAgent ?? undefined}>
											{device(r.userAgent)}
											{r.current ? <strong class="tag"> this device</strong> : null}
										</span>
									),
								},
								{ label: "Address", cell: r => r.ip ?? "—" },
								{ label: "Signed in", cell: r => when(r.createdAt) },
								{ label: "Last active", cell: r => when(r.lastRefreshedAt ?? r.createdAt) },
								{ label: "Expires", cell: r => when(r.expiresAt) },
								{
									label: "Action",
									cell: r =>
										r.current ? (
											"—"
										) : (
											<button
												type="button"
												class="secondary small"
												disabled={end.busy}
												onClick={() => void end.run([r.id])}
												aria-label={`Sign out ${device(r.userAgent)}, signed in ${when(r.createdAt)}`}
											>
												Sign out
											</button>
										),
								},
							]}
						/>
					</>
				)}
			</Loaded>
		</>
	);
}
