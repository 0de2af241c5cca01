/**
 * A data table with a caption (its accessible name), typed columns and an empty state.
 *
 *   <Table caption="Sessions" rows={rows} rowKey={r => r.id} columns={[{ label: "Started", cell: r => date(r.createdAt) }]} />
 */
import type { ComponentChildren } from "preact";

export interface Column<T> {
	label: string;
	cell(row: T): ComponentChildren;
	/** right-aligned numbers */
	numeric?: boolean;
}

export function Table<T>(p: { caption: string; rows: T[]; columns: Column<T>[]; rowKey(row: T): string; empty?: string; rowClass?(row: T): string }) {
	return (
		<div class="table-wrap">
			<table>
				<caption>{p.caption}</caption>
				<thead>
					<tr>
						{p.columns.map(c => (
							<th scope="col" class={c.numeric ? "num" : undefined} key={c.label}>
								{c.label}
							</th>
						))}
					</tr>
				</thead>
				<tbody>
					{p.rows.length === 0 ? (
						<tr>
							<td colSpan={p.columns.length} class="empty">
								{p.empty ?? "Nothing here yet."}
							</td>
						</tr>
					) : (
						p.rows.map(r => (
							<tr key={p.rowKey(r)} class={p.rowClass?.(r)}>
								{p.columns.map(c => (
									<td class={c.numeric ? "num" : undefined} key={c.label}>
										{c.cell(r)}
									</td>
								))}
							</tr>
						))
					)}
				</tbody>
			</table>
		</div>
	);
}

// `when` lives in ../format (money and dates for every screen); re-exported for the screens that import it from here
export { when } from "../format";
