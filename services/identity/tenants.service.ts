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
 */
import { randomUUID } from "node:crypto";
import { hasRole, type Role } from "../../lib/access";
import { currentUser, type Ctx } from "../../lib/context";
import {
	AlreadyMemberError,
	ConflictError,
	ForbiddenError,
	LastOwnerError,
	MemberTargetError,
	NotFoundError,
	SlugTakenError,
	UserNotFoundError,
} from "../../lib/errors";
import { KeyedMutex } from "../../lib/keyed-mutex";
import { pageOf, pageParams, pageWindow } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { Collection, type CollectionOf } from "../../mixins/collection";
import { DbMixin, rowToEntity, type DbMethods, type DbVars } from "../../mixins/db.mixin";
import { OutboxMixin, type OutboxMethods } from "../../mixins/outbox.mixin";

const ROLES: Role[] = ["owner", "admin", "member"];

export interface Invitation {
	id: string;
	tenantId: string;
	/** normalised (trimmed, lower-cased), as auth stores account emails */
	email: string;
	role: Role;
	invitedBy: string;
	status: "pending" | "accepted" | "declined" | "revoked";
	expiresAt: string;
	respondedAt: string | null;
	createdAt: string;
	updatedAt: string;
}

export const INVITATION_TTL_MS = 7 * 24 * 3600_000;

export interface Membership {
	id: string;
	tenantId: string;
	userId: string;
	role: Role;
	createdAt: string;
	updatedAt: string;
}

export interface PublicTenant {
	id: string;
	name: string;
	slug: string;
	createdBy: string;
	createdAt: string;
	updatedAt: string;
}

interface TenantsVars extends DbVars {
	memberships: CollectionOf<Membership>;
	invitations: CollectionOf<Invitation>;
	/** serialises one tenant's membership changes on this node */
	memberLocks: KeyedMutex;
}

interface TenantsMethods extends DbMethods, OutboxMethods {
	/** A stored tenant (NeDB row, Mongoose document) as its public entity. */
	publicTenant(doc: unknown): PublicTenant;
	loadTenant(id: string): Promise<PublicTenant | null>;
	/** The public tenants of these ids that exist, by id. */
	tenantsById(ids: string[]): Promise<Map<string, PublicTenant>>;
	/** The caller's membership of the tenant, or null (`entity:` loader: null answers 404, as for a missing tenant). */
	callerMembership(ctx: Ctx<object>, tenantId: string): Promise<Membership | null>;
	/** The membership when its role is at least `minRole`; 403 otherwise. */
	requireRole(m: Membership, minRole: Role): Membership;
	/** The caller's membership with at least `minRole`: 404 when there is none, 403 when the role is too low. */
	requireMembership(ctx: Ctx<object>, tenantId: string, minRole?: Role): Promise<Membership>;
	publish(name: string, actorId: string, tenantId: string, data: Record<string, unknown>): Promise<void>;
	changed(): Promise<void>;
	publicMember(m: Membership): { tenantId: string; userId: string; role: Role; createdAt: string; updatedAt: string };
	publicInvitation(i: Invitation): Omit<Invitation, "updatedAt" | "respondedAt">;
	emailOf(ctx: Ctx<object>, userId: string): Promise<string | null>;
	openInvitationFor(ctx: Ctx<object>, invitationId: string): Promise<Invitation>;
}

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
			async handler(ctx: Ctx<{ name: string; slug: string }>) {
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
			async handler(ctx: Ctx<{ page: number; pageSize: number; sort: string }>) {
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
			async handler(ctx: Ctx<{ id: string; name?: string; slug?: string }>) {
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
			async handler(ctx: Ctx<{ id: string; email: string; role: Role }>) {
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
					return this.invitations.insert({ tenantId, email, role, invitedBy: actor.userId, status: "pending", expiresAt, respondedAt: null, updatedAt: now.toISOString() });
				});
				await this.publish("tenants.memberInvited", actor.userId, tenantId, { invitationId: invitation.id, email, role, expiresAt: invitation.expiresAt });
				ctx.meta.$statusCode = 202;
				return this.publicInvitation(invitation);
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
			async handler(ctx: Ctx<{ id: string; page: number; pageSize: number; sort: string }>) {
				const { id: tenantId, page, pageSize, sort } = ctx.params;
				this.requireRole(entityOf<Membership>(ctx), "admin");
				const query = { tenantId, status: "pending", expiresAt: { $gt: new Date().toISOString() } };
				const [rows, total] = await Promise.all([
					this.invitations.find(query, { sort: [sort, "id"], ...pageWindow({ page, pageSize }) }),
					this.invitations.count(query),
				]);
				return pageOf(rows.map(i => this.publicInvitation(i)), total, { page, pageSize });
			},
		},

		revokeInvitation: {
			rest: "DELETE /:id/invitations/:invitationId",
			auth: "required",
			summary: "Withdraw a pending invitation (owners and admins; only owners withdraw an invitation as owner).",
			params: { id: idParam, invitationId: idParam },
			entity: "callerMembership",
			async handler(ctx: Ctx<{ id: string; invitationId: string }>) {
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
		},

		myInvitations: {
			rest: "GET /invitations",
			auth: "required",
			summary: "The pending invitations addressed to your email.",
			params: { $$strict: true },
			async handler(ctx: Ctx) {
				const email = await this.emailOf(ctx, currentUser(ctx).id);
				if (!email) return { rows: [], total: 0 };
				const open = await this.invitations.find({ email, status: "pending", expiresAt: { $gt: new Date().toISOString() } }, { sort: ["-createdAt", "id"], limit: 100 });
				const byId = await this.tenantsById(open.map(i => i.tenantId));
				const rows = open
					.filter(i => byId.has(i.tenantId))
					.map(i => ({ id: i.id, tenantId: i.tenantId, tenant: { name: byId.get(i.tenantId)!.name, slug: byId.get(i.tenantId)!.slug }, role: i.role, invitedBy: i.invitedBy, expiresAt: i.expiresAt, createdAt: i.createdAt }));
				return { rows, total: rows.length };
			},
		},

		acceptInvitation: {
			rest: "POST /invitations/:invitationId/accept",
			auth: "required",
			summary: "Accept an invitation addressed to your email: you become a member with the role it names.",
			params: { invitationId: idParam },
			async handler(ctx: Ctx<{ invitationId: string }>) {
				const userId = currentUser(ctx).id;
				const invitation = await this.openInvitationFor(ctx, ctx.params.invitationId);
				const membership = await this.memberLocks.run(invitation.tenantId, async () => {
					if (!(await this.loadTenant(invitation.tenantId))) throw new NotFoundError("Not found.", invitation.id);
					const now = new Date().toISOString();
					// Spend the invitation first (conditional): of two concurrent accepts only one goes on.
					if ((await this.invitations.update({ id: invitation.id, status: "pending" }, { status: "accepted", respondedAt: now, updatedAt: now })) !== 1)
						throw new NotFoundError("Not found.", invitation.id);
					try {
						return await this.memberships.insert({ tenantId: invitation.tenantId, userId, role: invitation.role, updatedAt: now });
					} catch (err) {
						// Already a member: the invitation stays answered (there is nothing left to accept).
						if (err instanceof ConflictError) throw new AlreadyMemberError("You are already a member of this organisation.");
						await this.invitations.update({ id: invitation.id, status: "accepted" }, { status: "pending", respondedAt: null, updatedAt: now }).catch(() => undefined);
						throw err;
					}
				});
				await this.changed();
				await this.publish("tenants.memberAdded", userId, invitation.tenantId, { userId, role: membership.role, invitationId: invitation.id, invitedBy: invitation.invitedBy });
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/tenants/${invitation.tenantId}`;
				return this.publicMember(membership);
			},
		},

		declineInvitation: {
			rest: "POST /invitations/:invitationId/decline",
			auth: "required",
			summary: "Decline an invitation addressed to your email.",
			params: { invitationId: idParam },
			async handler(ctx: Ctx<{ invitationId: string }>) {
				const invitation = await this.openInvitationFor(ctx, ctx.params.invitationId);
				const now = new Date().toISOString();
				if ((await this.invitations.update({ id: invitation.id, status: "pending" }, { status: "declined", respondedAt: now, updatedAt: now })) !== 1)
					throw new NotFoundError("Not found.", invitation.id);
				ctx.meta.$statusCode = 204;
				return null;
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
			async handler(ctx: Ctx<{ id: string; email?: string; userId?: string; role: Role }>) {
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
			async handler(ctx: Ctx<{ id: string; page: number; pageSize: number; sort: string }>) {
				const { id: tenantId, page, pageSize, sort } = ctx.params;
				const [rows, total] = await Promise.all([
					this.memberships.find({ tenantId }, { sort: [sort, "id"], ...pageWindow({ page, pageSize }) }),
					this.memberships.count({ tenantId }),
				]);
				return pageOf(rows.map(m => this.publicMember(m)), total, { page, pageSize });
			},
		},

		updateMember: {
			rest: "PATCH /:id/members/:userId",
			auth: "required",
			summary: "Change a member's role (owners and admins; only owners touch owners).",
			params: { id: idParam, userId: idParam, role: { type: "enum", values: ROLES }, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; userId: string; role: Role }>) {
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
		},

		removeMember: {
			rest: "DELETE /:id/members/:userId",
			auth: "required",
			summary: "Remove a member (owners and admins), or leave an organisation yourself.",
			params: { id: idParam, userId: idParam },
			async handler(ctx: Ctx<{ id: string; userId: string }>) {
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
		},

		// Internal, for auth: which tenants a user belongs to, and with which role.
		membershipsOf: {
			visibility: "public",
			idempotent: true,
			params: { userId: idParam },
			async handler(ctx: Ctx<{ userId: string }>) {
				const mine = await this.memberships.find({ userId: ctx.params.userId }, { sort: ["createdAt"] });
				const byId = await this.tenantsById(mine.map(m => m.tenantId));
				return mine
					.filter(m => byId.has(m.tenantId))
					.map(m => ({ tenantId: m.tenantId, role: m.role, name: byId.get(m.tenantId)!.name, slug: byId.get(m.tenantId)!.slug, since: m.createdAt }));
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
		publicTenant(doc: unknown): PublicTenant {
			// a tenant row holds its public fields only
			return rowToEntity<PublicTenant>(doc)!;
		},

		async tenantsById(ids: string[]) {
			const docs = ids.length ? await this.adapter.find({ query: { _id: { $in: ids } } }) : [];
			return new Map(docs.map(d => this.publicTenant(d)).map(t => [t.id, t]));
		},

		publicMember(m: Membership) {
			return { tenantId: m.tenantId, userId: m.userId, role: m.role, createdAt: m.createdAt, updatedAt: m.updatedAt };
		},

		publicInvitation(i: Invitation) {
			return { id: i.id, tenantId: i.tenantId, email: i.email, role: i.role, status: i.status, invitedBy: i.invitedBy, expiresAt: i.expiresAt, createdAt: i.createdAt };
		},

		async emailOf(ctx: Ctx<object>, userId: string) {
			return ((await ctx.call("auth.emailOf", { userId })) as { email: string | null }).email;
		},

		/** A pending, unexpired invitation addressed to the caller's email; 404 otherwise (as for one that does not exist). */
		async openInvitationFor(ctx: Ctx<object>, invitationId: string) {
			const email = await this.emailOf(ctx, currentUser(ctx).id);
			const invitation = email ? await this.invitations.findOne({ id: invitationId, email, status: "pending", expiresAt: { $gt: new Date().toISOString() } }) : null;
			if (!invitation) throw new NotFoundError("Not found.", invitationId);
			return invitation;
		},

		async loadTenant(id: string) {
			const doc = await this.adapter.findById(id);
			return doc ? this.publicTenant(doc) : null;
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

		async changed() {
			await this.broker.cacher?.clean("tenants.**");
		},

		async publish(name: string, actorId: string, tenantId: string, data: Record<string, unknown>) {
			await this.publishEvent(name, { eventId: randomUUID(), at: new Date().toISOString(), actorId, tenantId, ...data });
		},
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
