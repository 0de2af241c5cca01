/**
 * Nobody becomes a member without consent (README, "Tenants API" → "Invitations"): admins invite an
 * email address (202, the same answer whether or not it has an account), the user with that address
 * sees the invitation and accepts (which creates the membership) or declines it.
 */
import { entityOf } from "../../../middlewares/entity.middleware";
import { currentUser, type Ctx } from "../../../lib/context";
import { AlreadyMemberError, ConflictError, ForbiddenError, NotFoundError } from "../../../lib/errors";
import { pageOf, pageWindow } from "../../../lib/paging";
import { INVITATION_TTL_MS, type Invitation, type Membership, type TenantsMethodsOf } from "./types";

export const invitationMethods: TenantsMethodsOf<
	| "inviteMember"
	| "listInvitations"
	| "revokeInvitation"
	| "myInvitations"
	| "acceptInvitation"
	| "declineInvitation"
	| "publicInvitation"
	| "emailOf"
	| "openInvitationFor"
	| "invitationForMail"
> = {
	async inviteMember(ctx) {
		const { id: tenantId, email, role } = ctx.params;
		const actor = this.requireRole(entityOf<Membership>(ctx), "admin");
		if (role === "owner" && actor.role !== "owner") throw new ForbiddenError("Only owners can invite owners.");
		// Whether the address has an account (or is a member already) is not looked up: the answer
		// is the same either way, and the invitation waits for whoever holds, or will hold, the address.
		const invitation = await this.memberLocks.run(tenantId, async () => {
			const now = new Date();
			const expiresAt = new Date(now.getTime() + INVITATION_TTL_MS).toISOString();
			const open = await this.invitations.findOne({ tenantId, email, status: "pending", expiresAt: { $gt: now.toISOString() } });
			if (open) {
				const renewed = { ...open, role, invitedBy: actor.userId, expiresAt, updatedAt: now.toISOString() };
				await this.invitations.update({ id: open.id }, { role, invitedBy: actor.userId, expiresAt, updatedAt: renewed.updatedAt });
				return renewed;
			}
			return this.invitations.insert({
				tenantId,
				email,
				role,
				invitedBy: actor.userId,
				status: "pending",
				expiresAt,
				respondedAt: null,
				updatedAt: now.toISOString(),
			});
		});
		// The invitation e-mail (notifiers → notifications): idempotent by invitation id, so a renewed invitation
		// (the same open one, invited again) is not mailed twice.
		await this.publish("tenants.memberInvited", actor.userId, tenantId, {
			invitationId: invitation.id,
			email,
			role,
			expiresAt: invitation.expiresAt,
			tenantName: (await this.loadTenant(tenantId))?.name ?? "",
		});
		ctx.meta.$statusCode = 202;
		return this.publicInvitation(invitation);
	},

	async listInvitations(ctx) {
		const { id: tenantId, page, pageSize, sort } = ctx.params;
		this.requireRole(entityOf<Membership>(ctx), "admin");
		const query = { tenantId, status: "pending", expiresAt: { $gt: new Date().toISOString() } };
		const [rows, total] = await Promise.all([
			this.invitations.find(query, { sort: [sort, "id"], ...pageWindow({ page, pageSize }) }),
			this.invitations.count(query),
		]);
		return pageOf(
			rows.map(i => this.publicInvitation(i)),
			total,
			{ page, pageSize },
		);
	},

	async revokeInvitation(ctx) {
		const { id: tenantId, invitationId } = ctx.params;
		const actor = this.requireRole(entityOf<Membership>(ctx), "admin");
		const now = new Date().toISOString();
		const invitation = await this.invitations.findOne({ id: invitationId, tenantId, status: "pending", expiresAt: { $gt: now } });
		if (!invitation) throw new NotFoundError("Not found.", invitationId);
		if (invitation.role === "owner" && actor.role !== "owner") throw new ForbiddenError("Only owners can withdraw an invitation as owner.");
		if ((await this.invitations.update({ id: invitationId, status: "pending" }, { status: "revoked", respondedAt: now, updatedAt: now })) !== 1)
			throw new NotFoundError("Not found.", invitationId);
		ctx.meta.$statusCode = 204;
		return null;
	},

	async myInvitations(ctx) {
		const email = await this.emailOf(ctx, currentUser(ctx).id);
		if (!email) return { rows: [], total: 0 };
		const open = await this.invitations.find(
			{ email, status: "pending", expiresAt: { $gt: new Date().toISOString() } },
			{ sort: ["-createdAt", "id"], limit: 100 },
		);
		const byId = await this.tenantsById(open.map(i => i.tenantId));
		const rows = open
			.filter(i => byId.has(i.tenantId))
			.map(i => ({
				id: i.id,
				tenantId: i.tenantId,
				tenant: { name: byId.get(i.tenantId)!.name, slug: byId.get(i.tenantId)!.slug },
				role: i.role,
				invitedBy: i.invitedBy,
				expiresAt: i.expiresAt,
				createdAt: i.createdAt,
			}));
		return { rows, total: rows.length };
	},

	async acceptInvitation(ctx) {
		const userId = currentUser(ctx).id;
		const invitation = await this.openInvitationFor(ctx, ctx.params.invitationId);
		const membership = await this.memberLocks.run(invitation.tenantId, async () => {
			if (!(await this.loadTenant(invitation.tenantId))) throw new NotFoundError("Not found.", invitation.id);
			const now = new Date().toISOString();
			// Spend the invitation first (conditional): of two concurrent accepts only one goes on.
			if (
				(await this.invitations.update(
					{ id: invitation.id, status: "pending" },
					{ status: "accepted", respondedAt: now, updatedAt: now },
				)) !== 1
			)
				throw new NotFoundError("Not found.", invitation.id);
			try {
				return await this.memberships.insert({ tenantId: invitation.tenantId, userId, role: invitation.role, updatedAt: now });
			} catch (err) {
				// Already a member: the invitation stays answered (there is nothing left to accept).
				if (err instanceof ConflictError) throw new AlreadyMemberError("You are already a member of this organisation.");
				await this.invitations
					.update({ id: invitation.id, status: "accepted" }, { status: "pending", respondedAt: null, updatedAt: now })
					.catch(() => undefined);
				throw err;
			}
		});
		await this.changed();
		await this.publish("tenants.memberAdded", userId, invitation.tenantId, {
			userId,
			role: membership.role,
			invitationId: invitation.id,
			invitedBy: invitation.invitedBy,
		});
		ctx.meta.$statusCode = 201;
		ctx.meta.$location = `/api/tenants/${invitation.tenantId}`;
		return this.publicMember(membership);
	},

	async declineInvitation(ctx) {
		const invitation = await this.openInvitationFor(ctx, ctx.params.invitationId);
		const now = new Date().toISOString();
		if ((await this.invitations.update({ id: invitation.id, status: "pending" }, { status: "declined", respondedAt: now, updatedAt: now })) !== 1)
			throw new NotFoundError("Not found.", invitation.id);
		ctx.meta.$statusCode = 204;
		return null;
	},

	publicInvitation(i: Invitation) {
		return {
			id: i.id,
			tenantId: i.tenantId,
			email: i.email,
			role: i.role,
			status: i.status,
			invitedBy: i.invitedBy,
			expiresAt: i.expiresAt,
			createdAt: i.createdAt,
		};
	},

	async emailOf(ctx: Ctx<object>, userId: string) {
		return ((await ctx.call("auth.emailOf", { userId })) as { email: string | null }).email;
	},

	/** Where the invitation e-mail goes, while the invitation is open (pending, unexpired); else null. */
	async invitationForMail(invitationId: string) {
		const i = await this.invitations.findOne({ id: invitationId, status: "pending", expiresAt: { $gt: new Date().toISOString() } });
		return i ? { email: i.email, tenantId: i.tenantId, role: i.role, expiresAt: i.expiresAt } : null;
	},

	/** A pending, unexpired invitation addressed to the caller's email; 404 otherwise (as for one that does not exist). */
	async openInvitationFor(ctx: Ctx<object>, invitationId: string) {
		const email = await this.emailOf(ctx, currentUser(ctx).id);
		const invitation = email
			? await this.invitations.findOne({ id: invitationId, email, status: "pending", expiresAt: { $gt: new Date().toISOString() } })
			: null;
		if (!invitation) throw new NotFoundError("Not found.", invitationId);
		return invitation;
	},
};
