/**
 * A second (third, …) collection owned by a db-backed service (also the outbox of
 * `mixins/outbox.mixin.ts`). moleculer-db gives a service one adapter; `auth` also owns `sessions`
 * and `password_resets`, `tenants` owns `memberships`. The store is built where DbMixin builds its
 * own (`createStore`: NeDB file with the same file format, memory or Mongo, by configuration), with
 * the same unique indexes (compound ones through a derived key field under NeDB, as DbMixin does),
 * and exposes the few raw operations these services need, including a conditional update that
 * reports how many rows it changed (the atomic "spend" of refresh and reset tokens). A unique-index
 * clash answers a ConflictError (409), as DbMixin's methods do.
 */
import type { ServiceBroker } from "moleculer";
import { compoundKeyField, createStore, mapDbError, newId, rowToEntity, toStoreQuery, type DbMixinOptions } from "./db.mixin";

type Doc = Record<string, unknown>;

interface RawAdapter {
	init(broker: ServiceBroker, service: unknown): void;
	connect(): Promise<unknown>;
	disconnect(): Promise<unknown>;
	find(filters: { query?: Doc; sort?: string[]; limit?: number; offset?: number }): Promise<unknown[]>;
	findOne(query: Doc): Promise<unknown>;
	count(filters: { query?: Doc }): Promise<number>;
	insert(entity: Doc): Promise<unknown>;
	updateMany(query: Doc, update: Doc): Promise<number>;
	removeMany(query: Doc): Promise<number>;
	db?: { ensureIndexAsync(o: { fieldName: string; unique: boolean; sparse: boolean }): Promise<void>; compactDatafileAsync(): Promise<void> };
	model?: unknown;
}

/** What a collection of `T` adds to a service (`this.follows: CollectionOf<Follow>`). */
export type CollectionOf<T extends { id: string }> = Collection<T>;

export class Collection<T extends { id: string }> {
	private readonly adapter: RawAdapter;
	private readonly mongo: Doc;
	private readonly compounds: string[][];

	constructor(private readonly opts: DbMixinOptions) {
		const store = createStore(opts);
		this.adapter = store.adapter as RawAdapter;
		this.mongo = store.mongo;
		this.compounds = (opts.indexes ?? []).filter(i => i.fields.length > 1).map(i => i.fields);
	}

	async open(broker: ServiceBroker): Promise<void> {
		this.adapter.init(broker, { schema: this.mongo, settings: {} });
		await this.adapter.connect();
		if (this.adapter.db && !this.adapter.model) {
			for (const index of this.opts.indexes ?? []) {
				const fieldName = index.fields.length > 1 ? compoundKeyField(index.fields) : index.fields[0];
				await this.adapter.db.ensureIndexAsync({ fieldName, unique: !!index.unique, sparse: index.fields.length > 1 || !!index.sparse });
			}
		}
	}

	/** Rewrites a NeDB datafile without its superseded lines (the `platform.compact` job); nothing under Mongo or in memory. */
	async compact(): Promise<void> {
		if (this.adapter.db && !this.adapter.model) await this.adapter.db.compactDatafileAsync();
	}

	async close(): Promise<void> {
		await this.adapter.disconnect();
	}

	/** Inserts a row (id and createdAt filled in when missing); a unique-index clash throws a ConflictError. */
	async insert(entity: Omit<T, "id" | "createdAt"> & { id?: string; createdAt?: string }): Promise<T> {
		const { id, ...rest } = entity as Doc;
		const doc: Doc = { _id: id ?? newId(), createdAt: new Date().toISOString(), ...rest };
		if (!this.adapter.model) for (const fields of this.compounds) doc[compoundKeyField(fields)] = JSON.stringify(fields.map(f => doc[f]));
		return rowToEntity<T>(await this.adapter.insert(doc).catch(mapDbError))!;
	}

	async findOne(query: Doc): Promise<T | null> {
		return rowToEntity<T>(await this.adapter.findOne(toStoreQuery(query)));
	}

	async find(query: Doc, opts: { sort?: string[]; limit?: number; offset?: number } = {}): Promise<T[]> {
		const sort = opts.sort?.map(f => f.replace(/^(-?)id$/, "$1_id"));
		const rows = await this.adapter.find({ query: toStoreQuery(query), ...opts, ...(sort && { sort }) });
		return rows.map(r => rowToEntity<T>(r)!);
	}

	count(query: Doc): Promise<number> {
		return this.adapter.count({ query: toStoreQuery(query) });
	}

	/** Sets fields on every row matching the query (atomically per row); how many changed. */
	update(query: Doc, set: Doc): Promise<number> {
		return this.adapter.updateMany(toStoreQuery(query), { $set: set }).catch(mapDbError);
	}

	remove(query: Doc): Promise<number> {
		return this.adapter.removeMany(toStoreQuery(query));
	}
}
