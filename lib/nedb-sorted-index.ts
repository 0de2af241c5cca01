/**
 * Sorted lists over an embedded (NeDB) store, per tenant, so that a page of a list sorted by one field
 * is a slice instead of a sort. NeDB answers `find(query).sort(s).skip(o).limit(l)` by copying and
 * sorting every candidate (all 100,000 leads of a tenant for page 1), and moleculer-db counts by
 * fetching copies of every match; both cost ~150 ms on 100,000 rows. Here:
 *
 * - one list per sort field and tenant (`tenantId` of the row), of the store's live rows in NeDB's own
 *   order (`model.compareThings` on `model.getDotValue`, the functions NeDB's cursor sorts with), ties
 *   by `_id` (NeDB leaves ties in whatever order its candidate index holds them); a descending sort
 *   reads the list backwards;
 * - built on the first list sorted by that field (one sort), then kept in step with every write:
 *   NeDB runs every insert, update, remove, rollback and (re)load through four internal methods
 *   (`_addToIndexes`, `_removeFromIndexes`, `_updateIndexes`, `_resetIndexes`, the hooks of its own
 *   indexes), wrapped here after NeDB's own index work succeeded. A reset drops the lists (rebuilt
 *   lazily);
 * - other conditions of the query are tested on the rows in order (NeDB's matcher, compiled:
 *   mixins/nedb-match.ts) until the page is full; counting tests the tenant's rows without copying.
 *
 * Answers only what it can answer exactly: a query with `tenantId` equal to a string and at most one
 * sort field; anything else (text search, several sort fields, no tenant) goes to NeDB unchanged. The
 * rows handed out are copies (as NeDB's), never the live ones. README: "Storage and the file format".
 */
import { createRequire } from "node:module";
import { compileMatch } from "../mixins/nedb-match";

type Doc = Record<string, unknown> & { _id: string };
type Query = Record<string, unknown>;

// The NeDB moleculer-db's adapter runs (resolved from moleculer-db, whatever npm hoisted).
const model = createRequire(require.resolve("moleculer-db"))("@seald-io/nedb/lib/model") as {
	compareThings(a: unknown, b: unknown, compareStrings?: (a: string, b: string) => number): number;
	getDotValue(doc: unknown, field: string): unknown;
	deepCopy<T>(doc: T): T;
};

/** The members of NeDB's Datastore (3.x) this file reads and wraps. */
interface Datastore {
	compareStrings?: (a: string, b: string) => number;
	getAllData(): Doc[];
	_addToIndexes(doc: Doc | Doc[]): void;
	_removeFromIndexes(doc: Doc | Doc[]): void;
	_updateIndexes(oldDoc: Doc | { oldDoc: Doc; newDoc: Doc }[], newDoc?: Doc): void;
	_resetIndexes(newData?: Doc | Doc[]): void;
}

/** What moleculer-db's adapter methods receive (after mixins/db.mixin.ts' `queryParams`). */
export interface FindParams {
	query?: Query;
	search?: unknown;
	sort?: string | string[];
	limit?: number | null;
	offset?: number | null;
}

const PARTITION = "tenantId";
const HOOKS = ["_addToIndexes", "_removeFromIndexes", "_updateIndexes", "_resetIndexes"] as const;

export class SortedIndex {
	/** sort field → tenant → rows in ascending order */
	private readonly lists = new Map<string, Map<string, Doc[]>>();
	/** a row whose tenantId is an array (NeDB matches those element-wise): NeDB answers from then on */
	private irregular = false;
	/** how many lists were built from all rows (once per sort field, again after a reload or a row found changed in place) */
	builds = 0;

	private constructor(private readonly db: Datastore) {}

	/** Wraps `db`'s index hooks; undefined (NeDB answers alone) when this NeDB lacks them. */
	static attach(datastore: unknown): SortedIndex | undefined {
		const db = datastore as Datastore;
		if (!HOOKS.every(h => typeof db[h] === "function")) return undefined;
		const index = new SortedIndex(db);
		const { _addToIndexes: add, _removeFromIndexes: remove, _updateIndexes: update, _resetIndexes: reset } = db;
		db._addToIndexes = function (doc) {
			add.call(this, doc);
			for (const d of ([] as Doc[]).concat(doc)) index.insert(d);
		};
		db._removeFromIndexes = function (doc) {
			remove.call(this, doc);
			for (const d of ([] as Doc[]).concat(doc)) index.remove(d);
		};
		db._updateIndexes = function (oldDoc, newDoc) {
			update.call(this, oldDoc, newDoc);
			const pairs = Array.isArray(oldDoc) ? oldDoc : [{ oldDoc, newDoc: newDoc! }];
			for (const p of pairs) {
				index.remove(p.oldDoc);
				index.insert(p.newDoc);
			}
		};
		db._resetIndexes = function (newData) {
			reset.call(this, newData);
			index.lists.clear();
		};
		return index;
	}

	/** The page NeDB's cursor would return for `params`, or undefined when this index cannot answer it. */
	find(params: FindParams): Doc[] | undefined {
		const plan = this.plan(params);
		if (!plan) return undefined;
		const { rows, desc, rest } = plan;
		const offset = typeof params.offset === "number" && params.offset > 0 ? params.offset : 0;
		const limit = typeof params.limit === "number" && params.limit > 0 ? params.limit : Number.POSITIVE_INFINITY;
		const out: Doc[] = [];
		const at = (i: number) => rows[desc ? rows.length - 1 - i : i];
		if (!rest) {
			for (let i = offset; i < rows.length && out.length < limit; i++) out.push(model.deepCopy(at(i)));
			return out;
		}
		const matches = compileMatch(rest);
		let skipped = 0;
		for (let i = 0; i < rows.length && out.length < limit; i++) {
			const row = at(i);
			if (!matches(row)) continue;
			if (skipped < offset) skipped++;
			else out.push(model.deepCopy(row));
		}
		return out;
	}

	/** How many rows match `query`, when a list of its tenant is built (else undefined: ask NeDB). */
	count(query: Query): number | undefined {
		const tenantId = query[PARTITION];
		if (this.irregular || typeof tenantId !== "string") return undefined;
		const built = this.lists.values().next().value;
		if (!built) return undefined;
		const rows = built.get(tenantId) ?? [];
		const rest = withoutTenant(query);
		if (!rest) return rows.length;
		const matches = compileMatch(rest);
		let n = 0;
		for (const row of rows) if (matches(row)) n++;
		return n;
	}

	private plan(params: FindParams): { rows: Doc[]; desc: boolean; rest?: Query } | undefined {
		if (this.irregular || (params.search !== undefined && params.search !== null && params.search !== "")) return undefined;
		const query = params.query ?? {};
		const tenantId = query[PARTITION];
		if (typeof tenantId !== "string") return undefined;
		const sort = typeof params.sort === "string" ? params.sort.split(/[,\s]+/).filter(Boolean) : params.sort;
		if (!sort || sort.length !== 1 || typeof sort[0] !== "string") return undefined;
		const desc = sort[0].startsWith("-");
		const field = desc ? sort[0].slice(1) : sort[0];
		if (!field) return undefined;
		return { rows: this.listOf(field).get(tenantId) ?? [], desc, rest: withoutTenant(query) };
	}

	private compare(field: string) {
		const strings = this.db.compareStrings;
		return (a: Doc, b: Doc) =>
			model.compareThings(model.getDotValue(a, field), model.getDotValue(b, field), strings) || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0);
	}

	private listOf(field: string): Map<string, Doc[]> {
		let byTenant = this.lists.get(field);
		if (byTenant) return byTenant;
		byTenant = new Map();
		for (const row of this.db.getAllData()) {
			const tenantId = row[PARTITION];
			if (Array.isArray(tenantId)) this.irregular = true;
			if (typeof tenantId !== "string") continue;
			let rows = byTenant.get(tenantId);
			if (!rows) byTenant.set(tenantId, (rows = []));
			rows.push(row);
		}
		const cmp = this.compare(field);
		for (const rows of byTenant.values()) rows.sort(cmp);
		this.builds++;
		this.lists.set(field, byTenant);
		return byTenant;
	}

	private insert(doc: Doc): void {
		const tenantId = doc[PARTITION];
		if (Array.isArray(tenantId)) this.irregular = true;
		if (typeof tenantId !== "string") return;
		for (const [field, byTenant] of this.lists) {
			let rows = byTenant.get(tenantId);
			if (!rows) byTenant.set(tenantId, (rows = []));
			const cmp = this.compare(field);
			// new rows usually sort last (createdAt, time-ordered ids): check the end first
			if (!rows.length || cmp(rows[rows.length - 1], doc) < 0) rows.push(doc);
			else rows.splice(lowerBound(rows, doc, cmp), 0, doc);
		}
	}

	private remove(doc: Doc): void {
		const tenantId = doc[PARTITION];
		if (typeof tenantId !== "string") return;
		for (const [field, byTenant] of this.lists) {
			const rows = byTenant.get(tenantId);
			if (!rows) continue;
			let i = lowerBound(rows, doc, this.compare(field));
			if (rows[i] !== doc) i = rows.indexOf(doc);
			if (i >= 0) rows.splice(i, 1);
			// a row that is not where its values say (changed in place): rebuild this field's lists
			else this.lists.delete(field);
		}
	}
}

/** The query without its tenant condition; undefined when nothing else is asked. */
function withoutTenant(query: Query): Query | undefined {
	const { [PARTITION]: _tenant, ...rest } = query;
	return Object.keys(rest).length ? rest : undefined;
}

/** The first position whose row does not sort before `doc`. */
function lowerBound(rows: Doc[], doc: Doc, cmp: (a: Doc, b: Doc) => number): number {
	let lo = 0;
	let hi = rows.length;
	while (lo < hi) {
		const mid = (lo + hi) >>> 1;
		if (cmp(rows[mid], doc) < 0) lo = mid + 1;
		else hi = mid;
	}
	return lo;
}
