/** Organisations: creating, listing, renaming one, and the memberships auth asks about. */
import { randomUUID } from "node:crypto";
import { entityOf } from "../../../middlewares/entity.middleware";
import { currentUser } from "../../../lib/context";
import { ConflictError, SlugTakenError } from "../../../lib/errors";
import { pageOf, pageWindow } from "../../../lib/paging";
import { rowToEntity } from "../../../mixins/db.mixin";
import type { Membership, PublicTenant, TenantsMethodsOf } from "./types";

export const organisationMethods: TenantsMethodsOf<
	"createTenant" | "listTenants" | "updateTenant" | "membershipsOf" | "publicTenant" | "tenantsById" | "loadTenant" | "changed" | "publish"
> = {
	async createTenant(ctx) {
		const user = currentUser(ctx);
		let tenant: PublicTenant;
		try {
			tenant = await this._create(ctx, { name: ctx.params.name, slug: ctx.params.slug, createdBy: user.id });
		} catch (err) {
			if (err instanceof ConflictError) throw new SlugTakenError();
			throw err;
		}
		let membership: Membership;
		try {
			membership = await this.memberships.insert({ tenantId: tenant.id, userId: user.id, role: "owner", updatedAt: new Date().toISOString() });
		} catch (err) {
			// A tenant nobody owns would be unreachable: undo it.
			await this.adapter.removeById(tenant.id).catch(() => undefined);
			throw err;
		}
		await this.changed();
		this.logger.info("tenant created", { tenantId: tenant.id, slug: tenant.slug, actorId: user.id });
		await this.publish("tenants.created", user.id, tenant.id, { tenant });
		await this.publish("tenants.memberAdded", user.id, tenant.id, { userId: user.id, role: membership.role });
		ctx.meta.$statusCode = 201;
		ctx.meta.$location = `/api/tenants/${tenant.id}`;
		return { ...tenant, role: membership.role };
	},

	async listTenants(ctx) {
		const { page, pageSize, sort } = ctx.params;
		const mine = await this.memberships.find({ userId: currentUser(ctx).id });
		const roleOf = new Map(mine.map(m => [m.tenantId, m.role]));
		const tenants = await this.tenantsById([...roleOf.keys()]);
		const field = sort.replace(/^-/, "") as "name" | "createdAt";
		const dir = sort.startsWith("-") ? -1 : 1;
		const rows = [...tenants.values()]
			.map(t => ({ ...t, role: roleOf.get(t.id)! }))
			.sort((a, b) => dir * a[field].localeCompare(b[field]) || a.id.localeCompare(b.id));
		const { limit, offset } = pageWindow({ page, pageSize });
		return pageOf(rows.slice(offset, offset + limit), rows.length, { page, pageSize });
	},

	async updateTenant(ctx) {
		const { id, name, slug } = ctx.params;
		const membership = this.requireRole(entityOf<Membership>(ctx), "admin");
		let tenant: PublicTenant;
		try {
			tenant = await this._update(ctx, { id, ...(name !== undefined && { name }), ...(slug !== undefined && { slug }) });
		} catch (err) {
			if (err instanceof ConflictError) throw new SlugTakenError();
			throw err;
		}
		await this.changed();
		await this.publish("tenants.updated", currentUser(ctx).id, id, { tenant });
		return { ...tenant, role: membership.role };
	},

	async membershipsOf(ctx) {
		const mine = await this.memberships.find({ userId: ctx.params.userId }, { sort: ["createdAt"] });
		const byId = await this.tenantsById(mine.map(m => m.tenantId));
		return mine
			.filter(m => byId.has(m.tenantId))
			.map(m => ({
				tenantId: m.tenantId,
				role: m.role,
				name: byId.get(m.tenantId)!.name,
				slug: byId.get(m.tenantId)!.slug,
				since: m.createdAt,
			}));
	},

	publicTenant(doc: unknown): PublicTenant {
		// a tenant row holds its public fields only
		return rowToEntity<PublicTenant>(doc)!;
	},

	async tenantsById(ids: string[]) {
		const docs = ids.length ? await this.adapter.find({ query: { _id: { $in: ids } } }) : [];
		return new Map(docs.map(d => this.publicTenant(d)).map(t => [t.id, t]));
	},

	async loadTenant(id: string) {
		const doc = await this.adapter.findById(id);
		return doc ? this.publicTenant(doc) : null;
	},

	async changed() {
		await this.broker.cacher?.clean("tenants.**");
	},

	async publish(name: string, actorId: string, tenantId: string, data: Record<string, unknown>) {
		await this.publishEvent(name, { eventId: randomUUID(), at: new Date().toISOString(), actorId, tenantId, ...data });
	},
};
