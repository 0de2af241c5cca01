/** Stored rows and entities: the one converter between them, and read-only scans over many rows. */
import type mongoose from "mongoose";
import { compileMatch } from "./nedb-match";

/**
 * THE converter from a stored row (a NeDB object or a Mongoose document) to an entity: `_id` becomes
 * `id`, the derived `_key_*` fields of compound indexes are dropped. Every collection and service uses
 * this one (a service that also limits fields calls the tenant mixin's `toEntity`).
 */
export function rowToEntity<T = Record<string, unknown>>(doc: unknown): T | null {
	const row = toStoredRow<Record<string, unknown>>(doc);
	if (row == null) return null;
	const out: Record<string, unknown> = {};
	for (const [k, v] of Object.entries(row)) {
		if (k === "_id") out.id = v;
		else if (!k.startsWith("_key_")) out[k] = v;
	}
	return out as T;
}

/** A query written in entity terms (`id`, also inside `$in`) as the store's (`_id`). */
export function toStoreQuery(query: Record<string, unknown>): Record<string, unknown> {
	if (!("id" in query)) return query;
	const { id, ...rest } = query;
	return { _id: id, ...rest };
}

/** A stored document as a plain object, as the store holds it (`_id`, `tenantId`, derived keys…). */
export type StoredRow = Record<string, any> & { _id: string };

/** Mongoose returns documents, NeDB plain objects (copies, except `getAllData()`). */
export function toStoredRow<T = StoredRow>(doc: unknown): T | null {
	if (doc == null) return null;
	const d = doc as { toObject?: () => T };
	return typeof d.toObject === "function" ? d.toObject() : (doc as T);
}

/**
 * READ-ONLY rows matching `query`, for aggregates over many rows. MongoDB: a projected lean query
 * (`fields`). NeDB: its live documents (`getAllData()`, no per-row copy — the copy is what makes NeDB's
 * `find` slow on 100k rows) filtered with NeDB's matcher (compiled: mixins/nedb-match.ts), so both
 * stores answer the same query the same way. The rows are the store's own: never mutate them, never send them to a caller.
 * Driver-specific on purpose and not a service method: services reach it through the tenant mixin's
 * `scopedScan` (README: "Conventions every service follows").
 */
export async function scanStore<T = StoredRow>(adapter: unknown, query: Record<string, unknown>, fields: string[]): Promise<readonly T[]> {
	const a = adapter as { model?: mongoose.Model<unknown>; db?: { getAllData(): T[] } };
	if (a.model) {
		const projection = Object.fromEntries(fields.map(f => [f, 1]));
		return a.model.find(query, projection).lean<T[]>();
	}
	const matches = compileMatch(query);
	return a.db!.getAllData().filter(row => matches(row as Record<string, unknown>));
}
