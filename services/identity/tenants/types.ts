/** What the tenants service keeps and calls: its rows, `this`, and the methods its modules add. */
import type { Role } from "../../../lib/access";
import type { Ctx } from "../../../lib/context";
import type { KeyedMutex } from "../../../lib/keyed-mutex";
import type { DbSettings, ServiceThis } from "../../../lib/schema";
import type { CollectionOf } from "../../../mixins/collection";
import type { DbMethods, DbVars } from "../../../mixins/db.mixin";
import type { OutboxMethods } from "../../../mixins/outbox.mixin";

export const ROLES: Role[] = ["owner", "admin", "member"];

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

export interface TenantsVars extends DbVars {
	memberships: CollectionOf<Membership>;
	invitations: CollectionOf<Invitation>;
	/** serialises one tenant's membership changes on this node */
	memberLocks: KeyedMutex;
}

export interface TenantsMethods extends DbMethods, OutboxMethods {
	// organisations.ts
	createTenant(ctx: Ctx<{ name: string; slug: string }>): Promise<unknown>;
	listTenants(ctx: Ctx<{ page: number; pageSize: number; sort: string }>): Promise<unknown>;
	updateTenant(ctx: Ctx<{ id: string; name?: string; slug?: string }>): Promise<unknown>;
	membershipsOf(ctx: Ctx<{ userId: string }>): Promise<unknown>;
	/** A stored tenant (NeDB row, Mongoose document) as its public entity. */
	publicTenant(doc: unknown): PublicTenant;
	loadTenant(id: string): Promise<PublicTenant | null>;
	/** The public tenants of these ids that exist, by id. */
	tenantsById(ids: string[]): Promise<Map<string, PublicTenant>>;
	publish(name: string, actorId: string, tenantId: string, data: Record<string, unknown>): Promise<void>;
	/** Cleans the cached answers after a change. */
	changed(): Promise<void>;
	// invitations.ts
	inviteMember(ctx: Ctx<{ id: string; email: string; role: Role }>): Promise<unknown>;
	listInvitations(ctx: Ctx<{ id: string; page: number; pageSize: number; sort: string }>): Promise<unknown>;
	revokeInvitation(ctx: Ctx<{ id: string; invitationId: string }>): Promise<unknown>;
	myInvitations(ctx: Ctx): Promise<unknown>;
	acceptInvitation(ctx: Ctx<{ invitationId: string }>): Promise<unknown>;
	declineInvitation(ctx: Ctx<{ invitationId: string }>): Promise<unknown>;
	publicInvitation(i: Invitation): Omit<Invitation, "updatedAt" | "respondedAt">;
	emailOf(ctx: Ctx<object>, userId: string): Promise<string | null>;
	openInvitationFor(ctx: Ctx<object>, invitationId: string): Promise<Invitation>;
	invitationForMail(invitationId: string): Promise<{ email: string; tenantId: string; role: Role; expiresAt: string } | null>;
	// members.ts
	addMember(ctx: Ctx<{ id: string; email?: string; userId?: string; role: Role }>): Promise<unknown>;
	listMembers(ctx: Ctx<{ id: string; page: number; pageSize: number; sort: string }>): Promise<unknown>;
	updateMember(ctx: Ctx<{ id: string; userId: string; role: Role }>): Promise<unknown>;
	removeMember(ctx: Ctx<{ id: string; userId: string }>): Promise<unknown>;
	publicMember(m: Membership): { tenantId: string; userId: string; role: Role; createdAt: string; updatedAt: string };
	/** The caller's membership of the tenant, or null (`entity:` loader: null answers 404, as for a missing tenant). */
	callerMembership(ctx: Ctx<object>, tenantId: string): Promise<Membership | null>;
	/** The membership when its role is at least `minRole`; 403 otherwise. */
	requireRole(m: Membership, minRole: Role): Membership;
	/** The caller's membership with at least `minRole`: 404 when there is none, 403 when the role is too low. */
	requireMembership(ctx: Ctx<object>, tenantId: string, minRole?: Role): Promise<Membership>;
}

export type TenantsThis = ServiceThis<DbSettings, TenantsMethods, TenantsVars>;

/** Some of the tenants methods, written in a module beside the service (`this` is the service). */
export type TenantsMethodsOf<K extends keyof TenantsMethods> = Pick<TenantsMethods, K> & ThisType<TenantsThis>;
