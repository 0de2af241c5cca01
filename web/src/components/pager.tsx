/**
 * Paged lists: `Pager` (previous / next), and `StatusPagedTable`, a list the API pages (`Page<T>`) with a
 * status filter above it, 25 rows a page (a new status goes back to page 1).
 */
import { useState } from "preact/hooks";
import { get, type Page } from "../api";
import { SelectFilter } from "./filters";
import { Loaded } from "./loading";
import { ProblemBanner } from "./problem-banner";
import { Table, type Column } from "./table";
import { useApi } from "./use-api";

/** Previous / next for a paged list (`Page<T>`'s `totalPages`); nothing when everything fits on one page. */
export function Pager({ page, totalPages, onPage }: { page: number; totalPages: number; onPage(p: number): void }) {
	if (totalPages <= 1) return null;
	return (
		<nav class="toolbar" aria-label="Pages">
			<button type="button" class="secondary small" disabled={page <= 1} onClick={() => onPage(page - 1)}>
				Previous
			</button>
			<span>
				Page {page} of {totalPages}
			</span>
			<button type="button" class="secondary small" disabled={page >= totalPages} onClick={() => onPage(page + 1)}>
				Next
			</button>
		</nav>
	);
}

/**
 *   <StatusPagedTable path="/api/commerce/payments" statusWords={STATUS_WORD} caption="Payments" empty="No payment yet." columns={[…]} />
 *
 * The table's caption is `caption (total)`; rows are keyed by their `id`.
 */
export function StatusPagedTable<T extends { id: string }>(p: {
	path: string;
	statusWords: Record<string, string>;
	caption: string;
	empty: string;
	columns: Column<T>[];
}) {
	const [status, setStatus] = useState("");
	const [page, setPage] = useState(1);
	const list = useApi(signal => get<Page<T>>(p.path, { status, page, pageSize: 25 }, { signal }), [p.path, status, page]);
	return (
		<>
			<div class="toolbar">
				<SelectFilter
					label="Status"
					value={status}
					onChange={v => {
						setStatus(v);
						setPage(1);
					}}
					words={p.statusWords}
				/>
			</div>
			<ProblemBanner problem={list.problem} />
			<Loaded api={list}>
				{data => (
					<>
						<Table caption={`${p.caption} (${data.total})`} rows={data.rows} rowKey={r => r.id} empty={p.empty} columns={p.columns} />
						<Pager page={page} totalPages={data.totalPages ?? 1} onPage={setPage} />
					</>
				)}
			</Loaded>
		</>
	);
}
