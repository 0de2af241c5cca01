/**
 * Pagination, one way: offset pages (`page`, `pageSize`) answered as `Page<T>` by the data mixins'
 * `_list`, and cursor pages (`cursor`, `limit`) for feeds that grow at the top. Spread the params into
 * an action's `params`, hand `{ page, pageSize }` to `_list`; never compute limit/offset by hand.
 */
export const pageParams = {
	page: { type: "number", integer: true, min: 1, max: 100_000, default: 1, convert: true },
	pageSize: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
} as const;

export const cursorParams = {
	cursor: { type: "string", optional: true, max: 512 },
	limit: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
} as const;

export interface PageQuery {
	page: number;
	pageSize: number;
}

export interface Page<T> {
	rows: T[];
	total: number;
	page: number;
	pageSize: number;
	totalPages: number;
}

/** A page built from rows the service gathered itself (a merge of two sources, an in-memory filter). */
export function pageOf<T>(rows: T[], total: number, { page, pageSize }: PageQuery): Page<T> {
	return { rows, total, page, pageSize, totalPages: Math.ceil(total / pageSize) };
}

/** `limit`/`offset` of a page, for a store the data mixins do not front (a Redis sorted set, a raw scan). */
export function pageWindow({ page, pageSize }: PageQuery): { limit: number; offset: number } {
	return { limit: pageSize, offset: (page - 1) * pageSize };
}
