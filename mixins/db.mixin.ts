/**
 * Each service owns its data through moleculer-db. The adapter is chosen by configuration:
 * - NeDB files under DATA_DIR (the embedded default: one process, nothing to install),
 * - NeDB in memory (tests),
 * - MongoDB through Mongoose when MONGO_URI is set, one database per service.
 *
 * Entities get a time-ordered string `id` (never `_id`), ISO `createdAt`/`updatedAt`, declared indexes
 * (unique ones hold under concurrent writes: the store enforces them) and a 409 on a duplicate.
 * moleculer-db's generic CRUD actions are not registered: each service publishes its own, validated
 * actions and calls these methods.
 */
import { randomBytes } from "node:crypto";
import type { Service } from "moleculer";
import MoleculerDb from "moleculer-db";
import { registerReadinessProbe } from "../lib/health";
import type { CallerScope } from "../lib/context";
import { ConflictError, NotFoundError } from "../lib/errors";
import { COMPACT_EVENT } from "../lib/maintenance";
import type { Page } from "../lib/paging";
import { defineMixin, type DbSettings, type Mixin } from "../lib/schema";
import { createStore } from "./store";

export { rowToEntity, scanStore, toStoredRow, toStoreQuery, type StoredRow } from "./rows";
export { createStore, nedbFileFormat, type Store, type StoreDriver } from "./store";

/** One of moleculer-db's service methods, called on a service with a context and its params. */
type BaseMethod = (...args: any[]) => Promise<any>;

// moleculer-db's typings (moleculer-db.d.ts) describe a class; at run time it is a service mixin with these methods.
const DbService = MoleculerDb as unknown as Mixin & { methods: Record<string, BaseMethod> };

export interface IndexSpec {
	fields: string[];
	unique?: boolean;
	/** rows without the field are left out of the index (a field added later: older rows don't clash as "missing") */
	sparse?: boolean;
}

export interface DbMixinOptions {
	/** Collection name; also the database name suffix under Mongo. */
	collection: string;
	indexes?: IndexSpec[];
}

let lastMs = 0;
let seq = 0;
const SEQ_LIMIT = 36 ** 3;

/**
 * 20 characters, sortable by creation time, URL-safe, and never mistaken for a Mongo ObjectId: the
 * millisecond (9 base-36 digits), a per-process sequence within that millisecond (3), then 8 random
 * characters. The sequence keeps ids made in the same millisecond in the order they were made, so a
 * sort by a timestamp with ties broken by id, or paging by `id > after`, follows creation order.
 */
export function newId(): string {
	let ms = Date.now();
	if (ms <= lastMs) {
		ms = lastMs; // same millisecond, or the clock stepped back: stay ordered
		if (++seq >= SEQ_LIMIT) {
			ms = ++lastMs;
			seq = 0;
		}
	} else {
		lastMs = ms;
		seq = 0;
	}
	return ms.toString(36).padStart(9, "0") + seq.toString(36).padStart(3, "0") + randomBytes(6).toString("base64url");
}

const now = () => new Date().toISOString();

/** NeDB 3 has single-field indexes only; a compound unique key is kept in a derived field. */
export const compoundKeyField = (fields: string[]) => `_key_${fields.join("_")}`;
const compoundKey = (entity: Record<string, unknown>, fields: string[]) =>
	fields.some(f => entity[f] == null) ? undefined : JSON.stringify(fields.map(f => entity[f]));

/**
 * A store's own duplicate-key error (NeDB `uniqueViolated`, MongoDB 11000). Only the db layer asks:
 * its methods and `Collection` answer a duplicate as a ConflictError, which callers check with `instanceof`.
 */
export function isDuplicateKeyError(err: unknown): boolean {
	const e = err as { errorType?: string; code?: number };
	return e?.errorType === "uniqueViolated" || e?.code === 11000;
}

/** A store error as the API answers it: a duplicate key is a 409 ConflictError, anything else as it was. */
export function mapDbError(err: unknown): never {
	if (isDuplicateKeyError(err)) throw new ConflictError();
	// moleculer-db's `_get`/`_update`/`_remove` of a missing id (its EntityNotFoundError has no type code)
	if ((err as Error | null)?.name === "EntityNotFoundError")
		throw new NotFoundError("Not found.", String((err as { data?: { id?: unknown } }).data?.id));
	throw err;
}

const base = DbService.methods;

/**
 * What moleculer-db's own `find`/`list` actions do to params before these methods, without needing an
 * action context (channel handlers have none): `sort: "-createdAt"` → array, numeric strings →
 * numbers, and for `_list`, `page`/`pageSize` → `limit`/`offset` (capped by `maxPageSize`).
 * A `limit` given to `_find` is the service's own and is honoured: capping it at `maxLimit` (a bound
 * for callers of moleculer-db's `find` action, which applies it itself) silently cut statements,
 * payouts and commission totals at 100 rows.
 */
function queryParams(settings: DbSettings, params: Record<string, unknown>, paged: boolean): Record<string, unknown> {
	const p = { ...params };
	for (const k of ["limit", "offset", "page", "pageSize"]) if (typeof p[k] === "string") p[k] = Number(p[k]);
	for (const k of ["sort", "fields", "excludeFields", "populate", "searchFields"])
		if (typeof p[k] === "string") p[k] = (p[k] as string).split(/[,\s]+/);
	if (paged) {
		const pageSize = Math.min(Number(p.pageSize) || (settings.pageSize ?? 20), settings.maxPageSize || Number.POSITIVE_INFINITY);
		const page = Math.max(1, Number(p.page) || 1);
		Object.assign(p, { page, pageSize, limit: pageSize, offset: (page - 1) * pageSize });
	}
	return p;
}

/** A stored row's adapter, as moleculer-db and our adapters (NeDB, Mongoose) give it to a service. */
export interface DbAdapter {
	db: unknown;
	findById(id: unknown): Promise<unknown>;
	find(filters: unknown): Promise<unknown[]>;
	findOne(query: unknown): Promise<unknown>;
	count(filters?: unknown): Promise<number>;
	insert(entity: unknown): Promise<unknown>;
	updateById(id: unknown, update: unknown): Promise<unknown>;
	updateMany(query: unknown, update: unknown): Promise<number>;
	removeById(id: unknown): Promise<unknown>;
	removeMany(query: unknown): Promise<number>;
	clear(): Promise<number>;
	/** a stored document (NeDB object, Mongoose document) as a plain object, `_id` kept */
	entityToObject(doc: unknown): Record<string, unknown>;
	/** the readiness probe (only our Mongoose adapter has it) */
	ping?(): Promise<void>;
}

/** What DbMixin adds to `this` besides its methods. */
export interface DbVars {
	adapter: DbAdapter;
}

type Params = Record<string, unknown>;

/** What a service built on DbMixin may call (list it in the service's `Methods`). */
export interface DbMethods {
	_find<T = any>(ctx: CallerScope, params?: Params): Promise<T[]>;
	_count(ctx: CallerScope, params?: Params): Promise<number>;
	_list<T = any>(ctx: CallerScope, params?: Params): Promise<Page<T>>;
	_get<T = any>(ctx: CallerScope, params: { id: unknown } & Params): Promise<T>;
	_create<T = any>(ctx: CallerScope, entity: Params): Promise<T>;
	_insert<T = any>(ctx: CallerScope, params: { entity?: Params; entities?: Params[] }): Promise<T>;
	_update<T = any>(ctx: CallerScope, params: { id: unknown } & Params): Promise<T>;
	_remove(ctx: CallerScope, params: { id: unknown }): Promise<unknown>;
	/** moleculer-db's: cleans the service's cached answers */
	clearCache(): Promise<void>;
	/** moleculer-db's: an id as the store holds it */
	decodeID(id: unknown): unknown;
	/** moleculer-db's: only `fields` of a document */
	filterFields(doc: Params, fields?: string[]): Params;
}

export type StoreMethods = Pick<DbMethods, "_find" | "_count" | "_list" | "_get" | "_create" | "_insert" | "_update" | "_remove">;

type DbService = Service<DbSettings> & DbVars;

/** A moleculer-db method called on a service, with what its own actions would do to list params first. */
function callStore(service: DbService, name: keyof StoreMethods, ctx: CallerScope, params: Params): Promise<any> {
	const list = name === "_find" || name === "_count" || name === "_list";
	const p = list ? queryParams(service.settings, params, name === "_list") : params;
	return base[name].call(service, ctx, p).catch(mapDbError);
}

/**
 * moleculer-db's entity methods, callable with raw action params, store errors turned into API
 * errors (duplicate key: 409).
 */
export const storeMethods: StoreMethods & ThisType<DbService> = {
	_find(ctx, params = {}) {
		return callStore(this, "_find", ctx, params);
	},
	_count(ctx, params = {}) {
		return callStore(this, "_count", ctx, params);
	},
	_list(ctx, params = {}) {
		return callStore(this, "_list", ctx, params);
	},
	_get(ctx, params) {
		return callStore(this, "_get", ctx, params);
	},
	_create(ctx, entity) {
		return callStore(this, "_create", ctx, entity);
	},
	_insert(ctx, params) {
		return callStore(this, "_insert", ctx, params);
	},
	_update(ctx, params) {
		return callStore(this, "_update", ctx, params);
	},
	_remove(ctx, params) {
		return callStore(this, "_remove", ctx, params);
	},
};

/** moleculer-db's generic CRUD actions. */
export const GENERIC_ACTIONS = ["find", "count", "list", "create", "insert", "get", "update", "remove"] as const;

export function DbMixin(opts: DbMixinOptions): Mixin {
	const { driver, adapter, mongo } = createStore(opts);
	const compounds = (opts.indexes ?? []).filter(i => i.fields.length > 1);

	// moleculer-db's generic CRUD actions are not registered: nothing calls them, their params pass
	// `query`/`search` straight to the store and accept strings without a max (README: Security).
	// Each service publishes its own validated actions and calls the methods below.

	return defineMixin<DbSettings, DbMethods, DbVars>({
		mixins: [DbService],
		adapter,
		...mongo,
		settings: { idField: "id", pageSize: 20, maxPageSize: 100, maxLimit: 100 },
		actions: Object.fromEntries(GENERIC_ACTIONS.map(name => [name, false])),
		events: {
			// the `platform.compact` job (README, "Platform jobs"): each node compacts its own files
			async [COMPACT_EVENT]() {
				if (driver !== "nedb") return;
				await (this.adapter.db as NedbLike).compactDatafileAsync();
				this.logger.debug("datafile compacted", { collection: opts.collection });
			},
		},
		methods: {
			async beforeEntityChange(type: string, entity: Params, ctx: CallerScope) {
				if (type === "create") {
					const at = now();
					entity = { ...entity, id: entity.id ?? newId(), createdAt: at, updatedAt: at };
					if (driver !== "mongo") for (const c of compounds) entity[compoundKeyField(c.fields)] = compoundKey(entity, c.fields);
				} else if (type === "update") {
					entity = { ...entity, updatedAt: now() };
					delete entity.createdAt;
					if (driver !== "mongo" && compounds.length) {
						const current = (await this.adapter.findById(entity.id)) as Params | null;
						if (current) {
							const merged = { ...current, ...entity };
							for (const c of compounds) entity[compoundKeyField(c.fields)] = compoundKey(merged, c.fields);
						}
					}
				}
				return base.beforeEntityChange.call(this, type, entity, ctx);
			},
			...storeMethods,
		},
		async started() {
			if (driver !== "mongo") {
				const db = this.adapter.db as NedbLike;
				for (const index of opts.indexes ?? []) {
					const fieldName = index.fields.length > 1 ? compoundKeyField(index.fields) : index.fields[0];
					await db.ensureIndexAsync({ fieldName, unique: !!index.unique, sparse: index.fields.length > 1 || !!index.sparse });
				}
				// NeDB appends every write; compact the file now and then so it does not grow forever.
				if (driver === "nedb") db.setAutocompactionInterval(10 * 60 * 1000);
			}
			const adapter = this.adapter;
			registerReadinessProbe(`db:${opts.collection}`, async () => {
				if (adapter.ping) await adapter.ping();
			});
		},
		async stopped() {
			if (driver === "nedb") (this.adapter.db as NedbLike).stopAutocompaction();
		},
	});
}

interface NedbLike {
	ensureIndexAsync(o: { fieldName: string; unique: boolean; sparse: boolean }): Promise<void>;
	setAutocompactionInterval(ms: number): void;
	stopAutocompaction(): void;
	compactDatafileAsync(): Promise<void>;
}

/**
 * @deprecated `this` inside db-backed services is typed by the service's `ServiceSchema<Settings,
 * Methods, Vars>` with `DbMethods` and `DbVars` (issue 11); kept while other folders still use it.
 */
export interface DbThis {
	adapter: DbAdapter;
	settings: Record<string, unknown>;
	[key: string]: unknown;
}
