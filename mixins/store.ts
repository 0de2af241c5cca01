/**
 * Where a collection's rows live, chosen by configuration in one place (`createStore`): a NeDB file under
 * DATA_DIR (the embedded default), NeDB in memory (tests), or MongoDB through Mongoose when MONGO_URI is
 * set (a database per service). DbMixin and `Collection` both build their store here.
 */
import fs from "node:fs";
import MongooseDbAdapter from "moleculer-db-adapter-mongoose";
import mongoose from "mongoose";
import { config, dataPath, dbDriver } from "../lib/config";
import { NedbAdapter } from "../lib/nedb-adapter";
import type { DbMixinOptions } from "./db.mixin";

/** Mongoose with a connection (and database) of the service's own; the stock adapter shares one. */
class ServiceMongooseAdapter extends MongooseDbAdapter<mongoose.Document> {
	private ownConn?: mongoose.Connection;
	constructor(
		uri: string,
		private readonly dbName: string,
	) {
		super(uri, { dbName });
	}
	override async connect(): Promise<void> {
		this.ownConn = await mongoose.createConnection(this.uri, { dbName: this.dbName, serverSelectionTimeoutMS: 5000 }).asPromise();
		// what the stock adapter's connect() sets (`conn` is not in its typings)
		Object.assign(this, { conn: this.ownConn, db: this.ownConn.db });
		this.model = this.ownConn.model<mongoose.Document>(this.modelName!, this.schema);
		await this.model.createIndexes();
	}
	override async disconnect(): Promise<void> {
		await this.ownConn?.close();
	}
	async ping(): Promise<void> {
		await this.ownConn?.db?.admin().ping();
	}
}

function mongoSchema(opts: DbMixinOptions): mongoose.Schema {
	const schema = new mongoose.Schema({ _id: { type: String } }, { strict: false, versionKey: false, collection: opts.collection });
	for (const index of opts.indexes ?? [])
		schema.index(Object.fromEntries(index.fields.map(f => [f, 1])), { unique: !!index.unique, sparse: !!index.sparse });
	return schema;
}

/**
 * NeDB's file format is one JSON document per line, and its reader splits lines on U+2028, U+2029
 * and NEL (U+0085) as well as on \n, \r, \v and \f (@seald-io/nedb lib/byline.js). JSON.stringify
 * escapes every control character below U+0020 but writes those three raw, so a string holding one
 * would cut its record in two: the record is lost on the next load (silently, below NeDB's 10 %
 * corruption threshold; above it NeDB refuses to start). After serialisation we write them as the
 * JSON escapes `\u0085`, `\u2028`, `\u2029`: the same JSON value, so JSON.parse restores the exact
 * characters and reading needs no hook of its own. This is safe because JSON.stringify only ever
 * emits these characters inside a string literal, never right after an escaping backslash.
 * (README: "Storage and the file format".)
 */
const LINE_BREAKERS = /[\u0085\u2028\u2029]/g;
export const nedbFileFormat = {
	afterSerialization: (line: string): string => line.replace(LINE_BREAKERS, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`),
	// NeDB insists on a pair and checks that it round-trips; JSON.parse already undoes the escapes.
	beforeDeserialization: (line: string): string => line,
};

export type StoreDriver = "nedb" | "memory" | "mongo";

export interface Store {
	driver: StoreDriver;
	/** a moleculer-db adapter (not yet connected) */
	adapter: unknown;
	/** what moleculer-db-adapter-mongoose reads from the service schema */
	mongo: { schema?: mongoose.Schema; modelName?: string };
}

/**
 * The one place a store is built, for a service's main collection (DbMixin) and for its secondary
 * collections and outboxes (`mixins/collection.ts`): NeDB file, NeDB in memory or MongoDB, by
 * configuration. Every NeDB datastore gets the file format above.
 */
export function createStore(opts: DbMixinOptions): Store {
	const cfg = config();
	const driver = dbDriver(cfg);
	if (driver === "mongo")
		return {
			driver,
			adapter: new ServiceMongooseAdapter(cfg.MONGO_URI!, `${cfg.NAMESPACE}_${opts.collection}`),
			mongo: { schema: mongoSchema(opts), modelName: opts.collection },
		};
	if (driver === "nedb") {
		fs.mkdirSync(dataPath(cfg, "db"), { recursive: true });
		return {
			driver,
			adapter: new NedbAdapter({ filename: dataPath(cfg, "db", `${opts.collection}.db`), ...nedbFileFormat }),
			mongo: {},
		};
	}
	return { driver, adapter: new NedbAdapter({ ...nedbFileFormat }), mongo: {} };
}
