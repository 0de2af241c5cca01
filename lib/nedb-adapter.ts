/**
 * moleculer-db's MemoryAdapter (NeDB) with NeDB's own promise API. The stock adapter wraps `update` with
 * `util.promisify` around a function that returns a promise, so Node 24 prints a DEP0174 warning on every
 * update (thousands in a test run); the methods and their results are otherwise the same, except that
 * sorted pages and counts of a tenant's rows come from lib/nedb-sorted-index.ts (same answers, no sort).
 */
import NeDB from "@seald-io/nedb";
import MoleculerDb from "moleculer-db";
import { SortedIndex, type FindParams } from "./nedb-sorted-index";

// moleculer-db's typings describe the adapter loosely; these are the members this file touches.
const MemoryAdapter = (
	MoleculerDb as unknown as {
		MemoryAdapter: new (opts?: object) => {
			opts?: NeDB.DataStoreOptions;
			db: unknown;
			find(p: FindParams): Promise<unknown[]>;
			count(p?: FindParams): Promise<number>;
		};
	}
).MemoryAdapter;

export class NedbAdapter extends MemoryAdapter {
	private sorted?: SortedIndex;

	override find(params: FindParams): Promise<unknown[]> {
		const page = this.sorted?.find(params);
		return page ? Promise.resolve(page) : super.find(params);
	}

	/** moleculer-db counts by fetching a copy of every match; NeDB's count (or the sorted index) copies none. */
	override count(params: FindParams = {}): Promise<number> {
		if ((params.search !== undefined && params.search !== null && params.search !== "") || params.limit || params.offset)
			return super.count(params);
		const query = params.query ?? {};
		const n = this.sorted?.count(query);
		return n !== undefined ? Promise.resolve(n) : (this.db as NeDB).countAsync(query);
	}

	connect(): Promise<void> {
		const db = new NeDB<Record<string, unknown>>(this.opts);
		// The callback-style names the adapter calls, bound to NeDB's promise API (results shaped as before).
		Object.assign(db, {
			loadDatabase: () => db.loadDatabaseAsync(),
			insert: (doc: Record<string, unknown> | Record<string, unknown>[]) => (Array.isArray(doc) ? db.insertAsync(doc) : db.insertAsync(doc)),
			findOne: (query: unknown) => db.findOneAsync(query),
			count: async (query: unknown) => db.countAsync(query),
			remove: (query: unknown, opts: NeDB.RemoveOptions = {}) => db.removeAsync(query, opts),
			ensureIndex: (opts: NeDB.EnsureIndexOptions) => db.ensureIndexAsync(opts),
			removeIndex: (field: string) => db.removeIndexAsync(field),
			update: async (query: unknown, update: unknown, opts?: object) => {
				const r = await db.updateAsync(query, update, opts);
				return [r.numAffected, r.affectedDocuments, r.upsert];
			},
		});
		this.db = db;
		this.sorted = SortedIndex.attach(db);
		return db.loadDatabaseAsync();
	}
}
