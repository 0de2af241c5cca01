/**
 * The small internal collections around posts (reactions, saves, shares, comments) share one
 * shape: a db-backed service with internal (visibility "public") actions the posts service calls.
 * Uniqueness (one row per post and user) is enforced by the store's unique index, so concurrent and
 * retried clicks collapse into one row, and the caller learns whether *its* insert created the row:
 * counters move only then.
 */
import type { Ctx } from "../../lib/context";
import type { DbSettings, MixinSchema } from "../../lib/schema";
import { DbMixin, newId, rowToEntity, toStoreQuery, type IndexSpec, isDuplicateKeyError } from "../../mixins/db.mixin";
import { type SocialDbMethods, type SocialDbVars } from "./social-db";
import { ConflictError } from "../../lib/errors";

type Query = Record<string, unknown>;

export function EdgeMixin(opts: { collection: string; indexes: IndexSpec[] }): MixinSchema {
	const schema: MixinSchema<DbSettings, SocialDbMethods, SocialDbVars> = {
		mixins: [DbMixin(opts) as MixinSchema],
		actions: {
			/** Insert a row; on a unique clash answer the existing row with `created: false`. */
			add: {
				visibility: "public",
				// Not retried by the broker: a retry after a lost answer would say `created: false` and the
				// caller would not move its counter. Callers' own retries are safe (the unique index decides).
				idempotent: false,
				params: { entity: "object", uniqueBy: { type: "array", items: { type: "string", max: 64 }, max: 10, optional: true } },
				async handler(ctx: Ctx<{ entity: Query; uniqueBy?: string[] }>) {
					try {
						const row = await this._create(ctx, { ...ctx.params.entity, id: newId() });
						return { created: true, row: rowToEntity(row) };
					} catch (err) {
						if (!(err instanceof ConflictError || isDuplicateKeyError(err)) || !ctx.params.uniqueBy) throw err;
						const query = Object.fromEntries(ctx.params.uniqueBy.map(f => [f, ctx.params.entity[f]]));
						return { created: false, row: rowToEntity(await this.adapter.findOne(query)) };
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
				async handler(ctx: Ctx<{ query: Query; sort?: string[]; limit?: number; offset?: number }>) {
					const { query, sort, limit, offset } = ctx.params;
					const docs = await this.adapter.find({ query: toStoreQuery(query), sort, limit, offset });
					return docs.map(d => rowToEntity(d));
				},
			},
			countWhere: {
				visibility: "public",
				idempotent: true,
				params: { query: "object" },
				handler(ctx: Ctx<{ query: Query }>) {
					return this.adapter.count({ query: toStoreQuery(ctx.params.query) });
				},
			},
			/** Compare-and-set: `query` names the row and the state it must still be in. Answers the count changed. */
			updateWhere: {
				visibility: "public",
				idempotent: false,
				params: { query: "object", set: "object" },
				handler(ctx: Ctx<{ query: Query; set: Query }>) {
					return this.adapter.updateMany(toStoreQuery(ctx.params.query), {
						$set: { ...ctx.params.set, updatedAt: new Date().toISOString() },
					});
				},
			},
			/** Answers how many rows it removed (0 when already gone: callers use it to move counters once). */
			removeWhere: {
				visibility: "public",
				idempotent: false,
				params: { query: "object" },
				handler(ctx: Ctx<{ query: Query }>) {
					return this.adapter.removeMany(toStoreQuery(ctx.params.query));
				},
			},
		},
	};
	// Moleculer types a schema's `mixins` with an untyped `this`: a mixin typed with its own is handed over as one.
	return schema as MixinSchema;
}
