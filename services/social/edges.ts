/**
 * The small internal collections around posts (reactions, saves, shares, comments, follows) share one
 * shape: a db-backed service with internal (visibility "public") actions the posts service calls.
 * Uniqueness (one row per post and user) is enforced by the store's unique index, so concurrent and
 * retried clicks collapse into one row, and the caller learns whether *its* insert created the row:
 * counters move only then.
 */
import type { Context } from "moleculer";
import { DbMixin, isDuplicateKeyError, newId, type DbThis, type IndexSpec } from "../../mixins/db.mixin";
import type { DbSettings, MixinSchema } from "../../lib/schema";
import { fromStore } from "./common";

type Ctx<P> = Context<P, Record<string, unknown>>;
type Query = Record<string, unknown>;

/** Our ids are `id` for callers and `_id` in the store. */
function toStoreQuery(query: Query): Query {
	if (!("id" in query)) return query;
	const { id, ...rest } = query;
	return { ...rest, _id: id };
}

export function EdgeMixin(opts: { collection: string; indexes: IndexSpec[] }): MixinSchema {
	const mixin: MixinSchema<DbSettings, object, DbThis> = {
		mixins: [DbMixin(opts) as MixinSchema],
		actions: {
			/** Insert a row; on a unique clash answer the existing row with `created: false`. */
			add: {
				visibility: "public",
				// Not retried by the broker: a retry after a lost answer would say `created: false` and the
				// caller would not move its counter. Callers' own retries are safe (the unique index decides).
				idempotent: false,
				params: { entity: "object", uniqueBy: { type: "array", items: { type: "string", max: 64 }, max: 10, optional: true } },
				async handler(this: DbThis & Record<string, any>, ctx: Ctx<{ entity: Query; uniqueBy?: string[] }>) {
					try {
						const row = await this._create(ctx, { ...ctx.params.entity, id: newId() });
						return { created: true, row: fromStore(row as Query) };
					} catch (err) {
						const e = err as { code?: number; type?: string };
						if (!(isDuplicateKeyError(err) || (e.code === 409 && e.type === "CONFLICT")) || !ctx.params.uniqueBy) throw err;
						const query = Object.fromEntries(ctx.params.uniqueBy.map(f => [f, ctx.params.entity[f]]));
						const existing = (await this.adapter.findOne(query)) as Query | null;
						return { created: false, row: existing ? fromStore(existing) : null };
					}
				},
			},
			findWhere: {
				visibility: "public",
				idempotent: true,
				params: {
					query: "object",
					sort: { type: "array", items: { type: "string", max: 64 }, max: 10, optional: true },
					limit: { type: "number", integer: true, min: 1, optional: true },
					offset: { type: "number", integer: true, min: 0, optional: true },
				},
				async handler(this: DbThis, ctx: Ctx<{ query: Query; sort?: string[]; limit?: number; offset?: number }>) {
					const { query, sort, limit, offset } = ctx.params;
					const docs = (await this.adapter.find({ query: toStoreQuery(query), sort, limit, offset })) as Query[];
					return docs.map(d => fromStore(d));
				},
			},
			countWhere: {
				visibility: "public",
				idempotent: true,
				params: { query: "object" },
				handler(this: DbThis, ctx: Ctx<{ query: Query }>) {
					return this.adapter.count({ query: toStoreQuery(ctx.params.query) });
				},
			},
			/** Compare-and-set: `query` names the row and the state it must still be in. Answers the count changed. */
			updateWhere: {
				visibility: "public",
				idempotent: false,
				params: { query: "object", set: "object" },
				handler(this: DbThis, ctx: Ctx<{ query: Query; set: Query }>) {
					return this.adapter.updateMany(toStoreQuery(ctx.params.query), { $set: { ...ctx.params.set, updatedAt: new Date().toISOString() } });
				},
			},
			/** Answers how many rows it removed (0 when already gone: callers use it to move counters once). */
			removeWhere: {
				visibility: "public",
				idempotent: false,
				params: { query: "object" },
				handler(this: DbThis, ctx: Ctx<{ query: Query }>) {
					return this.adapter.removeMany(toStoreQuery(ctx.params.query));
				},
			},
		},
	};
	return mixin as MixinSchema;
}
