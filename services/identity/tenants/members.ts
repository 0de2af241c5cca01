/**
 * Members and their roles: admins manage members but cannot create, change or remove owners; the last
 * owner can be neither removed nor demoted (409 LAST_OWNER). Membership changes of one tenant are
 * serialised on this node (memberLocks), so two concurrent demotions cannot leave it ownerless.
 */
import { hasRole, type Role } from "../../../lib/access";
import { currentUser, type Ctx } from "../../../lib/context";
import {
	AlreadyMemberError,
	ConflictError,
	ForbiddenError,
	LastOwnerError,
	MemberTargetError,
	NotFoundError,
	UserNotFoundError,
} from "../../../lib/errors";
import { pageOf, pageWindow } from "../../../lib/paging";
import type { Membership, TenantsMethodsOf } from "./types";

export const memberMethods: TenantsMethodsOf<
	"addMember" | "listMembers" | "updateMember" | "removeMember" | "publicMember" | "callerMembership" | "requireRole" | "requireMembership"
> = {
	async addMember(ctx) {
		const { id: tenantId, email, role } = ctx.params;
		if (!email === !ctx.params.userId) throw new MemberTargetError();
		if (!(await this.loadTenant(tenantId))) throw new NotFoundError("Not found.", tenantId);
		let userId = ctx.params.userId;
		if (email) {
			const found = (await ctx.call("auth.userIdByEmail", { email })) as { userId: string | null };
			if (!found.userId) throw new UserNotFoundError();
			userId = found.userId;
		}
		let membership: Membership;
		try {
			membership = await this.memberships.insert({ tenantId, userId: userId!, role, updatedAt: new Date().toISOString() });
		} catch (err) {
			if (err instanceof ConflictError) throw new AlreadyMemberError();
			throw err;
		}
		await this.changed();
		await this.publish("tenants.memberAdded", ctx.meta.user?.id ?? userId!, tenantId, { userId, role });
		return this.publicMember(membership);
	},

	async listMembers(ctx) {
		const { id: tenantId, page, pageSize, sort } = ctx.params;
		const [rows, total] = await Promise.all([
			this.memberships.find({ tenantId }, { sort: [sort, "id"], ...pageWindow({ page, pageSize }) }),
			this.memberships.count({ tenantId }),
		]);
		return pageOf(
			rows.map(m => this.publicMember(m)),
			total,
			{ page, pageSize },
		);
	},

	async updateMember(ctx) {
		const { id: tenantId, userId, role } = ctx.params;
		return this.memberLocks.run(tenantId, async () => {
			const actor = await this.requireMembership(ctx, tenantId, "admin");
			const target = await this.memberships.findOne({ tenantId, userId });
			if (!target) throw new NotFoundError("Not found.", userId);
			if ((target.role === "owner" || role === "owner") && actor.role !== "owner") throw new ForbiddenError("Only owners can change owners.");
			if (target.role === role) return this.publicMember(target);
			if (target.role === "owner" && (await this.memberships.count({ tenantId, role: "owner" })) <= 1) throw new LastOwnerError();
			const updatedAt = new Date().toISOString();
			await this.memberships.update({ id: target.id }, { role, updatedAt });
			await this.changed();
			await this.publish("tenants.memberRoleChanged", actor.userId, tenantId, { userId, role, previousRole: target.role });
			return this.publicMember({ ...target, role, updatedAt });
		});
	},

	async removeMember(ctx) {
		const { id: tenantId, userId } = ctx.params;
		return this.memberLocks.run(tenantId, async () => {
			const leaving = userId === currentUser(ctx).id;
			const actor = await this.requireMembership(ctx, tenantId, leaving ? "member" : "admin");
			const target = leaving ? actor : await this.memberships.findOne({ tenantId, userId });
			if (!target) throw new NotFoundError("Not found.", userId);
			if (target.role === "owner" && actor.role !== "owner") throw new ForbiddenError("Only owners can remove owners.");
			if (target.role === "owner" && (await this.memberships.count({ tenantId, role: "owner" })) <= 1) throw new LastOwnerError();
			await this.memberships.remove({ id: target.id });
			await this.changed();
			await this.publish("tenants.memberRemoved", actor.userId, tenantId, { userId, role: target.role });
			ctx.meta.$statusCode = 204;
			return null;
		});
	},

	publicMember(m: Membership) {
		return { tenantId: m.tenantId, userId: m.userId, role: m.role, createdAt: m.createdAt, updatedAt: m.updatedAt };
	},

	callerMembership(ctx: Ctx<object>, tenantId: string) {
		return this.memberships.findOne({ tenantId, userId: currentUser(ctx).id });
	},

	requireRole(m: Membership, minRole: Role) {
		if (!hasRole([m.role], [minRole])) throw new ForbiddenError("Your role in this organisation does not allow this.");
		return m;
	},

	async requireMembership(ctx: Ctx<object>, tenantId: string, minRole: Role = "member") {
		const m = await this.callerMembership(ctx, tenantId);
		if (!m) throw new NotFoundError("Not found.", tenantId);
		return this.requireRole(m, minRole);
	},
};
