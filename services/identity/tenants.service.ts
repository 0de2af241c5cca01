/**
 * Tenants (organisations) and their memberships. A user may belong to many tenants, each with one
 * role: owner > admin > member. Access to a tenant is decided from the memberships stored here, not
 * from the caller's token (which may be scoped to another tenant): a non-member gets 404 exactly as
 * for an id that does not exist; a member without the needed role gets 403.
 *
 * Rules: the creator becomes owner; admins manage members but cannot create, change or remove
 * owners; the last owner can be neither removed nor demoted (409 LAST_OWNER). Membership changes of
 * one tenant are serialised on this node, so two concurrent demotions cannot leave it ownerless.
 *
 * Nobody becomes a member without consent (README, "Tenants API" → "Invitations"): admins invite an
 * email address (202, the same answer whether or not it has an account), the user with that address
 * sees the invitation and accepts (which creates the membership) or declines it. `addMember` adds
 * directly but is internal (seeding, other services), never routed.
 *
 * This file lists the actions; their work is in ./tenants: organisations.ts, invitations.ts, members.ts.
 */
import type { Role } from "../../lib/access";
import type { Ctx } from "../../lib/context";
import { NotFoundError } from "../../lib/errors";
import { KeyedMutex } from "../../lib/keyed-mutex";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { Collection } from "../../mixins/collection";
import { DbMixin } from "../../mixins/db.mixin";
import { OutboxMixin } from "../../mixins/outbox.mixin";
import { invitationMethods } from "./tenants/invitations";
import { memberMethods } from "./tenants/members";
import { organisationMethods } from "./tenants/organisations";
import { ROLES, type Invitation, type Membership, type TenantsMethods, type TenantsVars } from "./tenants/types";

export { INVITATION_TTL_MS, type Invitation, type Membership, type PublicTenant } from "./tenants/types";

const idParam = { type: "string", min: 1, max: 64 } as const;

const TenantsService: ServiceSchema<DbSettings, TenantsMethods, TenantsVars> = {
	name: "tenants",
	mixins: [DbMixin({ collection: "tenants", indexes: [{ fields: ["slug"], unique: true }] }), OutboxMixin({ collection: "tenants_outbox" })],
	settings: {
		fields: ["id", "name", "slug", "createdBy", "createdAt", "updatedAt"],
	},

	actions: {
		createTenant: {
			rest: "POST /",
			auth: "required",
			summary: "Create an organisation; you become its owner.",
			params: {
				name: { type: "string", min: 1, max: 100, trim: true },
				slug: { type: "string", max: 40, pattern: /^[a-z0-9-]{3,40}$/ },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ name: string; slug: string }>) {
				return this.createTenant(ctx);
			},
		},

		listTenants: {
			rest: "GET /",
			auth: "required",
			summary: "The organisations you belong to, with your role in each.",
			cache: { keys: ["#user.id", "page", "pageSize", "sort"] },
			params: {
				...pageParams,
				sort: { type: "enum", values: ["name", "-name", "createdAt", "-createdAt"], default: "name" },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ page: number; pageSize: number; sort: string }>) {
				return this.listTenants(ctx);
			},
		},

		getTenant: {
			rest: "GET /:id",
			auth: "required",
			summary: "One organisation you belong to.",
			cache: { keys: ["#user.id", "id"] },
			params: { id: idParam, $$strict: "remove" },
			entity: "callerMembership",
			async handler(ctx: Ctx<{ id: string }>) {
				const membership = entityOf<Membership>(ctx);
				const tenant = await this.loadTenant(ctx.params.id);
				if (!tenant) throw new NotFoundError("Not found.", ctx.params.id);
				return { ...tenant, role: membership.role };
			},
		},

		updateTenant: {
			rest: "PATCH /:id",
			auth: "required",
			summary: "Rename an organisation or change its slug (owners and admins).",
			params: {
				id: idParam,
				name: { type: "string", min: 1, max: 100, trim: true, optional: true },
				slug: { type: "string", max: 40, pattern: /^[a-z0-9-]{3,40}$/, optional: true },
				$$strict: "remove",
			},
			entity: "callerMembership",
			handler(ctx: Ctx<{ id: string; name?: string; slug?: string }>) {
				return this.updateTenant(ctx);
			},
		},

		inviteMember: {
			rest: "POST /:id/invitations",
			auth: "required",
			// Each invitation may become a mail to a stranger: per address and per inviting account.
			rateLimit: { max: 30, windowSec: 60, by: "ip+account" },
			summary: "Invite an email address to an organisation (owners and admins); the invitee accepts or declines.",
			params: {
				id: idParam,
				email: { type: "email", max: 254, normalize: true },
				role: { type: "enum", values: ROLES },
				$$strict: "remove",
			},
			entity: "callerMembership",
			handler(ctx: Ctx<{ id: string; email: string; role: Role }>) {
				return this.inviteMember(ctx);
			},
		},

		listInvitations: {
			rest: "GET /:id/invitations",
			auth: "required",
			summary: "The pending invitations of an organisation (owners and admins).",
			params: {
				id: idParam,
				...pageParams,
				sort: { type: "enum", values: ["createdAt", "-createdAt"], default: "-createdAt" },
				$$strict: true,
			},
			entity: "callerMembership",
			handler(ctx: Ctx<{ id: string; page: number; pageSize: number; sort: string }>) {
				return this.listInvitations(ctx);
			},
		},

		revokeInvitation: {
			rest: "DELETE /:id/invitations/:invitationId",
			auth: "required",
			summary: "Withdraw a pending invitation (owners and admins; only owners withdraw an invitation as owner).",
			params: { id: idParam, invitationId: idParam },
			entity: "callerMembership",
			handler(ctx: Ctx<{ id: string; invitationId: string }>) {
				return this.revokeInvitation(ctx);
			},
		},

		myInvitations: {
			rest: "GET /invitations",
			auth: "required",
			summary: "The pending invitations addressed to your email.",
			params: { $$strict: true },
			handler(ctx: Ctx) {
				return this.myInvitations(ctx);
			},
		},

		acceptInvitation: {
			rest: "POST /invitations/:invitationId/accept",
			auth: "required",
			summary: "Accept an invitation addressed to your email: you become a member with the role it names.",
			params: { invitationId: idParam },
			handler(ctx: Ctx<{ invitationId: string }>) {
				return this.acceptInvitation(ctx);
			},
		},

		declineInvitation: {
			rest: "POST /invitations/:invitationId/decline",
			auth: "required",
			summary: "Decline an invitation addressed to your email.",
			params: { invitationId: idParam },
			handler(ctx: Ctx<{ invitationId: string }>) {
				return this.declineInvitation(ctx);
			},
		},

		invitationMail: {
			// Internal, for the invitation e-mail (services/platform/late-variables.ts): its address while it is open, else null.
			visibility: "public",
			idempotent: true,
			params: { $$strict: true, invitationId: idParam },
			handler(ctx: Ctx<{ invitationId: string }>) {
				return this.invitationForMail(ctx.params.invitationId);
			},
		},

		addMember: {
			// Internal only (seeding, tests, other services): adds a registered user at once, without an
			// invitation. Never routed: over HTTP, membership needs the invitee's consent (inviteMember).
			visibility: "public",
			params: {
				id: idParam,
				email: { type: "email", max: 254, normalize: true, optional: true },
				userId: { type: "string", min: 1, max: 64, optional: true },
				role: { type: "enum", values: ROLES },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ id: string; email?: string; userId?: string; role: Role }>) {
				return this.addMember(ctx);
			},
		},

		listMembers: {
			rest: "GET /:id/members",
			auth: "required",
			summary: "The members of an organisation you belong to.",
			cache: { keys: ["#user.id", "id", "page", "pageSize", "sort"] },
			params: {
				id: idParam,
				...pageParams,
				sort: { type: "enum", values: ["createdAt", "-createdAt"], default: "createdAt" },
				$$strict: "remove",
			},
			entity: "callerMembership",
			handler(ctx: Ctx<{ id: string; page: number; pageSize: number; sort: string }>) {
				return this.listMembers(ctx);
			},
		},

		updateMember: {
			rest: "PATCH /:id/members/:userId",
			auth: "required",
			summary: "Change a member's role (owners and admins; only owners touch owners).",
			params: { id: idParam, userId: idParam, role: { type: "enum", values: ROLES }, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string; userId: string; role: Role }>) {
				return this.updateMember(ctx);
			},
		},

		removeMember: {
			rest: "DELETE /:id/members/:userId",
			auth: "required",
			summary: "Remove a member (owners and admins), or leave an organisation yourself.",
			params: { id: idParam, userId: idParam },
			handler(ctx: Ctx<{ id: string; userId: string }>) {
				return this.removeMember(ctx);
			},
		},

		// Internal, for auth: which tenants a user belongs to, and with which role.
		membershipsOf: {
			visibility: "public",
			idempotent: true,
			params: { userId: idParam },
			handler(ctx: Ctx<{ userId: string }>) {
				return this.membershipsOf(ctx);
			},
		},

		membership: {
			visibility: "public",
			idempotent: true,
			params: { tenantId: idParam, userId: idParam },
			async handler(ctx: Ctx<{ tenantId: string; userId: string }>) {
				const m = await this.memberships.findOne({ tenantId: ctx.params.tenantId, userId: ctx.params.userId });
				return m ? this.publicMember(m) : null;
			},
		},
	},

	methods: {
		...organisationMethods,
		...invitationMethods,
		...memberMethods,
	},

	created() {
		this.memberships = new Collection<Membership>({
			collection: "memberships",
			indexes: [{ fields: ["tenantId", "userId"], unique: true }, { fields: ["userId"] }],
		});
		this.invitations = new Collection<Invitation>({ collection: "invitations", indexes: [{ fields: ["tenantId"] }, { fields: ["email"] }] });
		this.memberLocks = new KeyedMutex();
	},

	async started() {
		await Promise.all([this.memberships.open(this.broker), this.invitations.open(this.broker)]);
	},

	async stopped() {
		await Promise.all([this.memberships.close(), this.invitations.close()]);
	},
};

export default TenantsService;
