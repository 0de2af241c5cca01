/** The task list: filters, a sort, and a cursor page at a time; `q` searches title and description. */
import type { Ctx } from "../../../lib/context";
import { escapeRegex } from "../../../lib/text";
import { afterCursor, decodeCursor, encodeCursor } from "../cursor";
import { priorityRank, type Task } from "../task-model";
import { normalizeDueAt } from "../task-params";
import type { ListParams, TasksMethodsOf } from "./types";

const SORTS = { createdAt: "createdAt", updatedAt: "updatedAt", priority: "priorityRank" } as const;
/** every sort a caller may ask for (`-` first: descending) */
export const SORT_VALUES = Object.keys(SORTS).flatMap(s => [s, `-${s}`]);

export const listingMethods: TasksMethodsOf<"listPage"> = {
	async listPage(ctx: Ctx<ListParams>) {
		const { cursor, limit, status, priority, assigneeId, teamId, tag, q, dueBefore, sort } = ctx.params;
		const desc = sort.startsWith("-");
		const field = SORTS[sort.replace(/^-/, "") as keyof typeof SORTS];
		const and: Record<string, unknown>[] = [];
		if (status) and.push({ status });
		if (priority) and.push({ priority });
		if (assigneeId) and.push({ assigneeId });
		if (teamId) and.push({ teamId });
		if (tag) and.push({ tags: tag });
		if (dueBefore) and.push({ dueAt: { $ne: null, $lt: normalizeDueAt(dueBefore) } });
		if (q) {
			const re = new RegExp(escapeRegex(q), "i");
			and.push({ $or: [{ title: { $regex: re } }, { description: { $regex: re } }] });
		}
		if (cursor) and.push(afterCursor(field, desc, decodeCursor(cursor)));
		const dir = desc ? "-" : "";
		const rows = await this._find<Task>(ctx, {
			query: and.length ? { $and: and } : {},
			sort: [`${dir}${field}`, `${dir}_id`],
			limit: limit + 1,
		});
		const page = rows.slice(0, limit);
		const last = page[page.length - 1];
		const next =
			rows.length > limit && last
				? encodeCursor({ v: field === "priorityRank" ? priorityRank(last.priority) : last[field], id: last.id })
				: null;
		return { rows: page, nextCursor: next };
	},
};
