/**
 * Tenant scoping for a db-backed service. Every row carries `tenantId`, stamped from the caller's
 * token on create; every read, update and delete is filtered by it; params can never set or move it.
 * A row of another tenant answers exactly like a missing one (404), so ids cannot be probed.
 *
 * `TenantDbMixin(opts)` is DbMixin with these rules layered on top, as one mixin: two mixins whose
 * order decided whether scoping applied would be a trap. A tenant-scoped service reaches its data only
 * through the methods typed in `TenantDbMethods` below, never `this.adapter` (a lint rule refuses it in
 * tenant-scoped folders: README, "Conventions every service follows"):
 * - entities: `_find/_count/_list/_get/_create/_insert/_update/_remove` (moleculer-db's, scoped);
 * - stored rows, for the service's own logic: `scopedFindById` (compare-and-set reads),
 *   `scopedFindOne`, `scopedCount`, `scopedUpdateWhere` (conditional update, returns the count),
 *   `scopedRemoveWhere`, `scopedScan` (read-only aggregates on either store), `toEntity`;
 * - the one way out: `unscopedFindOne`, for lookups that run before a tenant is known.
 *
 * Every method takes the caller (an action or channel context, or `asSystem(tenantId)`'s call
 * options) and sets `tenantId` from `meta.user` LAST, over whatever the query says. List methods take
 * only `query`, `sort`, `page`, `pageSize`, `limit`, `offset` and `fields` built by the service:
 * moleculer-db's `search`/`searchFields` (which replace the whole query, tenant filter included),
 * `populate` and `excludeFields` never reach the store, an action's own params handed through whole
 * are taken for paging and sort only, and a query may hold plain values and the comparison operators
 * NeDB and MongoDB share — no `$where`, no string `$regex` (a caller cannot build a RegExp).
 */
import type { ActionSchema } from "moleculer";
import type { Role } from "../lib/access";
import type { CallerScope, Ctx, Meta } from "../lib/context";
import { InvalidQueryError, NotFoundError, TenantRequiredError } from "../lib/errors";
import type { Page } from "../lib/paging";
import { defineMixin, type DbSettings, type Mixin } from "../lib/schema";
import { idParam } from "../lib/validation";
import {
	DbMixin,
	GENERIC_ACTIONS,
	rowToEntity,
	scanStore,
	storeMethods,
	toStoredRow,
	toStoreQuery,
	type DbMethods,
	type DbMixinOptions,
	type StoreMethods,
	type DbVars,
	type StoredRow,
} from "./db.mixin";

export { TenantRequiredError };
export type { Page };

/** Whoever a call acts for: an action or channel context, or call options such as `asSystem(tenantId)`. */
export type TenantScope = CallerScope;
export type Query = Record<string, unknown>;

/** A stored document of the caller's tenant as the store holds it (`_id`, `tenantId`, …): never a reply. */
export type Row = StoredRow & { tenantId: string };

export interface ListParams {
	query?: Query;
	sort?: string | string[];
	page?: number;
	pageSize?: number;
	limit?: number;
	offset?: number;
	/** a subset of `settings.fields` */
	fields?: string[];
}

/** What a service built on TenantDbMixin may call for its data (declare `interface MyThis extends TenantDbMethods`). */
export interface TenantDbMethods {
	/** The query with the caller's tenant forced into it. */
	scopedQuery(ctx: TenantScope, query?: Query): Query;
	/** 404 unless every id exists in the caller's tenant. */
	assertInTenant(ctx: TenantScope, id: unknown): Promise<void>;
	_find<T = any>(ctx: TenantScope, params?: ListParams): Promise<T[]>;
	_count(ctx: TenantScope, params?: ListParams): Promise<number>;
	_list<T = any>(ctx: TenantScope, params?: ListParams): Promise<Page<T>>;
	_get<T = any>(ctx: TenantScope, params: { id: string }): Promise<T>;
	_create<T = any>(ctx: TenantScope, entity: Record<string, unknown>): Promise<T>;
	_insert<T = any>(ctx: TenantScope, params: { entity?: Record<string, unknown>; entities?: Record<string, unknown>[] }): Promise<T>;
	_update<T = any>(ctx: TenantScope, params: { id: string } & Record<string, unknown>): Promise<T>;
	_remove(ctx: TenantScope, params: { id: string }): Promise<unknown>;
	/** The stored row with this id, if it is the caller's tenant's (for compare-and-set: read, then `scopedUpdateWhere`). */
	scopedFindById<T extends Row = Row>(ctx: TenantScope, id: string): Promise<T | null>;
	/** The first stored row of the caller's tenant matching `query` (`id` may be given for `_id`). */
	scopedFindOne<T extends Row = Row>(ctx: TenantScope, query: Query): Promise<T | null>;
	scopedCount(ctx: TenantScope, query: Query): Promise<number>;
	/**
	 * `$set` on every row of the caller's tenant matching `query`; how many changed. The condition is
	 * the compare-and-set: put the values you read into `query`. `tenantId`, `_id`, `id` and
	 * `createdAt` in `set` are ignored, `updatedAt` is stamped, the service's cache is cleaned.
	 */
	scopedUpdateWhere(ctx: TenantScope, query: Query, set: Record<string, unknown>): Promise<number>;
	/** Removes every row of the caller's tenant matching `query`; how many went. Cleans the cache. */
	scopedRemoveWhere(ctx: TenantScope, query: Query): Promise<number>;
	/**
	 * READ-ONLY rows of the caller's tenant matching `query`, with at least `fields`, for aggregates
	 * computed inside the service (NeDB: its live documents, no copy; MongoDB: a projected lean query).
	 * Never mutate them, never return them to a caller.
	 */
	scopedScan<T extends Record<string, any> = Record<string, any>>(ctx: TenantScope, query: Query, fields: string[]): Promise<readonly T[]>;
	/** A stored row as the public entity (`id`, `settings.fields`), on either store. */
	toEntity<T = any>(row: StoredRow): T;
	/**
	 * THE deliberate way out of tenant scoping: a lookup across every tenant, for what runs before a
	 * tenant is known (public intake by tenant slug or ingest key; "is this slug taken by anyone?").
	 * Grep for it to review every cross-tenant read; never feed it a caller's id and return the row.
	 */
	unscopedFindOne<T extends StoredRow = StoredRow>(query: Query): Promise<T | null>;
	clearCache(): Promise<void>;
}

/** The caller's tenant, or 403 when the token is not scoped to one (no caller at all: 403 too, not 401). */
export function tenantOf(ctx: TenantScope): string {
	const tenantId = (ctx.meta as Meta).user?.tenantId;
	if (!tenantId) throw new TenantRequiredError();
	return tenantId;
}

/** A 404 naming the id (when it is one). */
const missing = (id: unknown) => new NotFoundError("Not found.", isId(id) ? String(id) : undefined);

/** True for a service built on TenantDbMixin (tests use it to find every tenant-scoped route). */
export function isTenantScoped(service: unknown): boolean {
	return typeof (service as { unscopedFindOne?: unknown })?.unscopedFindOne === "function";
}

const badQuery = (detail: string) => new InvalidQueryError(detail);

/** Operators NeDB and MongoDB both understand, and nothing that runs code (`$where`, `$function`, `$expr`). */
const OPERATORS = new Set(["$in", "$nin", "$ne", "$gt", "$gte", "$lt", "$lte", "$or", "$and", "$not", "$exists", "$regex", "$elemMatch", "$size"]);

function checkQuery(value: unknown, path: string): void {
	if (typeof value === "function") throw badQuery(`${path} is a function`);
	if (value === null || typeof value !== "object" || value instanceof RegExp || value instanceof Date) return;
	if (Array.isArray(value)) {
		value.forEach((v, i) => checkQuery(v, `${path}[${i}]`));
		return;
	}
	for (const [key, v] of Object.entries(value)) {
		if (key.startsWith("$")) {
			if (!OPERATORS.has(key)) throw badQuery(`${path}.${key}`);
			if (key === "$regex" && !(v instanceof RegExp)) throw badQuery(`${path}.$regex must be a RegExp`);
		}
		checkQuery(v, `${path}.${key}`);
	}
}

const SORT_FIELD = /^-?[A-Za-z_][\w.]*$/;
function checkSort(sort: unknown): void {
	if (sort === undefined) return;
	const list = Array.isArray(sort) ? sort : typeof sort === "string" ? sort.split(/[,\s]+/) : null;
	if (!list || !list.every(f => typeof f === "string" && SORT_FIELD.test(f))) throw badQuery("sort");
}

/** A query for the raw store: `id` → `_id`, checked, the caller's tenant set last. */
function storeQuery(query: Query | undefined, tenantId: string | undefined): Query {
	if (query == null) query = {};
	if (typeof query !== "object" || Array.isArray(query)) throw badQuery("query must be an object");
	checkQuery(query, "query");
	const q = toStoreQuery(query);
	return tenantId === undefined ? q : { ...q, tenantId };
}

const PAGING = ["sort", "page", "pageSize", "limit", "offset"] as const;

/** moleculer-db params for a list method: only what the service built, the tenant last. */
function listParams(ctx: TenantScope, params: ListParams = {}): Record<string, unknown> {
	// An action's own params handed through whole came from the caller: paging and sort only.
	const fromCaller = params === (ctx as { params?: unknown }).params;
	const out: Record<string, unknown> = {};
	for (const k of PAGING) if (params[k] !== undefined) out[k] = params[k];
	checkSort(out.sort);
	if (!fromCaller && params.fields !== undefined) {
		if (!Array.isArray(params.fields) || !params.fields.every(f => typeof f === "string")) throw badQuery("fields");
		out.fields = params.fields;
	}
	const query = fromCaller ? {} : (params.query ?? {});
	if (typeof query !== "object" || Array.isArray(query)) throw badQuery("query must be an object");
	checkQuery(query, "query");
	out.query = { ...query, tenantId: tenantOf(ctx) };
	return out;
}

// The store's methods, called on this service below the tenant layer (their entity type is the caller's).
const store: Record<keyof StoreMethods, (...args: any[]) => Promise<any>> = storeMethods;

const isId = (id: unknown): id is string | number => typeof id === "string" || typeof id === "number";

/** The tenant layer's methods see the store's methods and adapter below them. */
type TenantLayerMethods = TenantDbMethods & Omit<DbMethods, keyof TenantDbMethods>;

function tenantMethods(opts: DbMixinOptions): Omit<TenantDbMethods, "clearCache"> & ThisType<TenantLayerMethods & DbVars & { settings: DbSettings }> {
	// NeDB keeps compound unique keys in derived fields that only `_update` recomputes.
	const compoundFields = new Set((opts.indexes ?? []).filter(i => i.fields.length > 1).flatMap(i => i.fields));

	return {
		scopedQuery(ctx: TenantScope, query: Query = {}): Query {
			return { ...query, tenantId: tenantOf(ctx) };
		},

		async assertInTenant(ctx: TenantScope, id: unknown) {
			const tenantId = tenantOf(ctx);
			for (const one of Array.isArray(id) ? id : [id]) {
				if (!isId(one)) throw missing(one);
				const row = rowToEntity<{ tenantId?: string }>(await this.adapter.findById(this.decodeID(one)));
				if (!row || row.tenantId !== tenantId) throw missing(one);
			}
		},

		_find(ctx: TenantScope, params?: ListParams) {
			return store._find.call(this, ctx, listParams(ctx, params));
		},
		_count(ctx: TenantScope, params?: ListParams) {
			return store._count.call(this, ctx, listParams(ctx, params));
		},
		_list(ctx: TenantScope, params?: ListParams) {
			return store._list.call(this, ctx, listParams(ctx, params));
		},
		_create(ctx: TenantScope, params: Record<string, unknown>) {
			return store._create.call(this, ctx, { ...params, tenantId: tenantOf(ctx) });
		},
		_insert(ctx: TenantScope, params: Record<string, unknown>) {
			const tenantId = tenantOf(ctx);
			const stamp = (e: Record<string, unknown>) => ({ ...e, tenantId });
			return store._insert.call(this, ctx, {
				...params,
				...(params.entity ? { entity: stamp(params.entity as Record<string, unknown>) } : {}),
				...(params.entities ? { entities: (params.entities as Record<string, unknown>[]).map(stamp) } : {}),
			});
		},
		async _get(ctx: TenantScope, params: { id: string }) {
			await this.assertInTenant(ctx, params.id);
			return store._get.call(this, ctx, { id: params.id });
		},
		async _update(ctx: TenantScope, params: Record<string, unknown>) {
			await this.assertInTenant(ctx, params.id);
			const { tenantId: _moved, ...rest } = params;
			return store._update.call(this, ctx, rest);
		},
		async _remove(ctx: TenantScope, params: { id: string }) {
			await this.assertInTenant(ctx, params.id);
			return store._remove.call(this, ctx, { id: params.id });
		},

		async scopedFindById<T extends Row = Row>(ctx: TenantScope, id: string) {
			const tenantId = tenantOf(ctx);
			if (!isId(id)) return null;
			const row = toStoredRow<T>(await this.adapter.findById(this.decodeID(id)));
			return row && row.tenantId === tenantId ? row : null;
		},
		async scopedFindOne<T extends Row = Row>(ctx: TenantScope, query: Query) {
			return toStoredRow<T>(await this.adapter.findOne(storeQuery(query, tenantOf(ctx))));
		},
		scopedCount(ctx: TenantScope, query: Query) {
			return this.adapter.count({ query: storeQuery(query, tenantOf(ctx)) });
		},
		async scopedUpdateWhere(ctx: TenantScope, query: Query, set: Record<string, unknown>) {
			const q = storeQuery(query, tenantOf(ctx));
			const { tenantId: _t, _id: _i, id: _id, createdAt: _c, ...safe } = set;
			const derived = Object.keys(safe).filter(f => compoundFields.has(f));
			if (derived.length)
				throw new Error(`scopedUpdateWhere cannot change ${derived.join(", ")} (part of a compound unique index): use _update`);
			// updatedAt always changes, so MongoDB's "modified" count equals the matched one.
			const n = await this.adapter.updateMany(q, { $set: { ...safe, updatedAt: new Date().toISOString() } });
			if (n > 0) await this.clearCache();
			return n;
		},
		async scopedRemoveWhere(ctx: TenantScope, query: Query) {
			const n = await this.adapter.removeMany(storeQuery(query, tenantOf(ctx)));
			if (n > 0) await this.clearCache();
			return n;
		},
		scopedScan<T extends Record<string, any> = Record<string, any>>(ctx: TenantScope, query: Query, fields: string[]) {
			return scanStore<T>(this.adapter, storeQuery(query, tenantOf(ctx)), [...fields, "tenantId"]);
		},
		toEntity<T>(row: StoredRow) {
			return this.filterFields(rowToEntity(row)!, this.settings.fields) as T;
		},
		async unscopedFindOne<T extends StoredRow = StoredRow>(query: Query) {
			return toStoredRow<T>(await this.adapter.findOne(storeQuery(query, undefined)));
		},
	};
}

export function TenantDbMixin(opts: DbMixinOptions): Mixin {
	// The first mixin wins on methods in Moleculer, so the tenant layer overrides the store's. It also
	// drops moleculer-db's generic actions: their cache keys do not name the tenant, and a tenant-scoped
	// service publishes its own validated actions only.
	const layer = defineMixin<DbSettings, TenantLayerMethods, DbVars>({
		// (spread: Moleculer's `methods` type wants an index signature, which an interface type lacks)
		methods: { ...tenantMethods(opts) },
		actions: Object.fromEntries(GENERIC_ACTIONS.map(name => [name, false])),
	});
	return { mixins: [layer, DbMixin(opts)] };
}

/**
 * The standard delete of a tenant-scoped row by id: `DELETE /:id` (or `rest`), 204; a row of another
 * tenant answers 404 like a missing one. For deletes that do nothing else (one that also cleans up
 * writes its own handler).
 */
export function removeByIdAction(opts: { roles: Role[]; rest?: string }): ActionSchema<TenantDbMethods> {
	return {
		rest: opts.rest ?? "DELETE /:id",
		roles: opts.roles,
		params: { id: idParam, $$strict: "remove" },
		async handler(ctx: Ctx<{ id: string }>) {
			await this._remove(ctx, { id: ctx.params.id });
			ctx.meta.$statusCode = 204;
			return null;
		},
	};
}
