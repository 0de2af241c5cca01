/**
 * Tenant scoping for a db-backed service. Every row carries `tenantId`, stamped from the caller's
 * token on create; every read, update and delete is filtered by it; params can never set or move it.
 * A row of another tenant answers exactly like a missing one (404), so ids cannot be probed.
 *
 * `TenantDbMixin(opts)` is DbMixin with these rules layered on top, as one mixin: two mixins whose
 * order decided whether scoping applied would be a trap. Domain code goes through the
 * `_find/_count/_list/_get/_create/_insert/_update/_remove` methods (or `scopedQuery`), never
 * `this.adapter` directly, for tenant data.
 */
import { Errors, type Context } from "moleculer";
import type { MixinSchema } from "../lib/schema";
import type { AuthUser } from "../lib/access";
import { DbMixin, storeMethods, type DbMixinOptions } from "./db.mixin";

type Ctx = Context<unknown, { user?: AuthUser | null }>;
type Params = Record<string, unknown>;

export class TenantRequiredError extends Errors.MoleculerClientError {
	constructor() {
		super("This action needs a tenant: switch to one of your organisations first.", 403, "TENANT_REQUIRED");
	}
}

/** The caller's tenant, or 403 when the token is not scoped to one. */
export function tenantOf(ctx: Ctx): string {
	const tenantId = ctx.meta.user?.tenantId;
	if (!tenantId) throw new TenantRequiredError();
	return tenantId;
}

export function notFound(id?: unknown): Errors.MoleculerClientError {
	return new Errors.MoleculerClientError("Not found.", 404, "NOT_FOUND", id === undefined ? undefined : { id });
}

interface TenantThis {
	adapter: { findById(id: unknown): Promise<unknown> };
	decodeID(id: unknown): unknown;
	assertInTenant(ctx: Ctx, id: unknown): Promise<void>;
}

const scoped = (ctx: Ctx, params: Params) => ({ ...params, query: { ...(params.query as Params), tenantId: tenantOf(ctx) } });

const tenantMethods = {
	/** The query with the caller's tenant forced into it. */
	scopedQuery(ctx: Ctx, query: Params = {}): Params {
		return { ...query, tenantId: tenantOf(ctx) };
	},

	/** 404 unless every id exists in the caller's tenant. */
	async assertInTenant(this: TenantThis, ctx: Ctx, id: unknown) {
		const tenantId = tenantOf(ctx);
		for (const one of Array.isArray(id) ? id : [id]) {
			const doc = (await this.adapter.findById(this.decodeID(one))) as { tenantId?: string; toJSON?: () => { tenantId?: string } } | null;
			// Mongoose returns documents whose schema-less fields are reachable only through toJSON().
			const row = doc && typeof doc.toJSON === "function" ? doc.toJSON() : doc;
			if (!row || row.tenantId !== tenantId) throw notFound(one);
		}
	},

	_find(this: TenantThis, ctx: Ctx, params: Params) {
		return storeMethods._find.call(this, ctx, scoped(ctx, params));
	},
	_count(this: TenantThis, ctx: Ctx, params: Params) {
		return storeMethods._count.call(this, ctx, scoped(ctx, params));
	},
	_list(this: TenantThis, ctx: Ctx, params: Params) {
		return storeMethods._list.call(this, ctx, scoped(ctx, params));
	},
	_create(this: TenantThis, ctx: Ctx, params: Params) {
		return storeMethods._create.call(this, ctx, { ...params, tenantId: tenantOf(ctx) });
	},
	_insert(this: TenantThis, ctx: Ctx, params: Params) {
		const tenantId = tenantOf(ctx);
		const stamp = (e: Params) => ({ ...e, tenantId });
		return storeMethods._insert.call(this, ctx, {
			...params,
			...(params.entity ? { entity: stamp(params.entity as Params) } : {}),
			...(params.entities ? { entities: (params.entities as Params[]).map(stamp) } : {}),
		});
	},
	async _get(this: TenantThis, ctx: Ctx, params: Params) {
		await this.assertInTenant(ctx, params.id);
		return storeMethods._get.call(this, ctx, params);
	},
	async _update(this: TenantThis, ctx: Ctx, params: Params) {
		await this.assertInTenant(ctx, params.id);
		const { tenantId: _moved, ...rest } = params;
		return storeMethods._update.call(this, ctx, rest);
	},
	async _remove(this: TenantThis, ctx: Ctx, params: Params) {
		await this.assertInTenant(ctx, params.id);
		return storeMethods._remove.call(this, ctx, params);
	},
};

export function TenantDbMixin(opts: DbMixinOptions): MixinSchema {
	// The first mixin wins on methods in Moleculer, so the tenant layer overrides the store's.
	return { mixins: [{ methods: tenantMethods } as MixinSchema, DbMixin(opts) as MixinSchema] };
}
