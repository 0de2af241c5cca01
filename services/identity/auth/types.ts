/** What the auth service keeps and calls: its rows, `this`, and the methods its modules add. */
import type { Config } from "../../../lib/config";
import type { Ctx } from "../../../lib/context";
import type { KeyRing } from "../../../lib/keys";
import type { RevocationEntry } from "../../../lib/revocations";
import type { DbSettings, ServiceThis } from "../../../lib/schema";
import type { CollectionOf } from "../../../mixins/collection";
import type { DbMethods, DbVars } from "../../../mixins/db.mixin";
import type { OutboxMethods } from "../../../mixins/outbox.mixin";
import type { PublicSession, SessionRow, SessionStore } from "../sessions";
import type { FailureThrottle } from "../throttle";

export interface Credential {
	_id: string;
	email: string;
	passwordHash: string;
	currentTenantId: string | null;
	passwordChangedAt: string;
	createdAt: string;
	updatedAt: string;
}

export interface ResetRow {
	id: string;
	userId: string;
	tokenHash: string;
	/** the signing key the token was derived from (reset-tokens.ts) */
	kid?: string;
	expiresAt: string;
	usedAt: string | null;
	createdAt: string;
}

/** A session that ended or a user that was deleted, kept while an access token of it could be valid. */
export interface RevocationRow {
	id: string;
	kind: RevocationEntry["kind"];
	subject: string;
	until: string;
	createdAt: string;
}

export interface Scope {
	tenantId: string | null;
	roles: string[];
}

/** A session row and the refresh token handed out for it. */
export interface Issued {
	row: SessionRow;
	token: string;
}

export interface AuthVars extends DbVars {
	cfg: Config;
	ring: KeyRing;
	/** derives reset tokens from reset ids (reset-tokens.ts) */
	resetKey: Buffer;
	dummyHash: string;
	sessionRows: CollectionOf<SessionRow>;
	resets: CollectionOf<ResetRow>;
	revocationRows: CollectionOf<RevocationRow>;
	sessions: SessionStore;
	throttle: FailureThrottle;
}

export interface AuthMethods extends DbMethods, OutboxMethods {
	// account.ts
	/** The stored credential of this user id, or of this (normalised) email. */
	credentialById(userId: string): Promise<Credential | null>;
	credentialByEmail(email: string): Promise<Credential | null>;
	loadRing(): void;
	publish(name: string, actorId: string, tenantId: string | null, data: Record<string, unknown>): Promise<void>;
	logout(ctx: Ctx<{ refreshToken?: string }>): Promise<null>;
	listSessions(ctx: Ctx): Promise<{ rows: PublicSession[]; total: number }>;
	revokeSession(ctx: Ctx<{ id: string }>): Promise<null>;
	me(ctx: Ctx): Promise<unknown>;
	// sign-in.ts
	register(ctx: Ctx<{ email: string; password: string; name: string }>): Promise<unknown>;
	login(ctx: Ctx<{ email: string; password: string }>): Promise<unknown>;
	refresh(ctx: Ctx<{ refreshToken: string }>): Promise<unknown>;
	switchTenant(ctx: Ctx<{ tenantId: string }>): Promise<unknown>;
	tokenResponse(ctx: Ctx<object>, userId: string, issued: Issued, scope: Scope, profile?: unknown): Promise<unknown>;
	scopeFor(ctx: Ctx<object>, userId: string, tenantId: string | null): Promise<Scope>;
	preferredScope(ctx: Ctx<object>, cred: Credential): Promise<Scope>;
	profileOf(ctx: Ctx<object>, cred: { _id: string; email: string }): Promise<unknown>;
	// password.ts
	changePassword(ctx: Ctx<{ currentPassword: string; newPassword: string }>): Promise<null>;
	forgotPassword(ctx: Ctx<{ email: string }>): Promise<{ status: string; message: string }>;
	resetPassword(ctx: Ctx<{ token: string; password: string }>): Promise<null>;
	passwordResetLink(resetId: string): Promise<{ userId: string; email: string; token: string; expiresAt: string } | null>;
	setPassword(userId: string, password: string, rehash?: boolean): Promise<void>;
	checkNewPassword(password: string, email: string, field?: string): void;
	// revocation.ts
	recordRevocations(entries: { kind: RevocationEntry["kind"]; id: string }[]): Promise<void>;
	revocationsSince(params: { since?: string; after?: string; limit: number }): Promise<{ entries: RevocationEntry[]; next: string | null }>;
	deleteUser(userId: string): Promise<{ deleted: boolean }>;
	// purge.ts
	/** Removes expired sessions, expired or spent reset tokens and past revocations; how many of each. */
	purgeExpired(): Promise<{ sessions: number; resetTokens: number; revocations: number }>;
}

export type AuthThis = ServiceThis<DbSettings, AuthMethods, AuthVars>;

/** Some of the auth methods, written in a module beside the service (`this` is the service). */
export type AuthMethodsOf<K extends keyof AuthMethods> = Pick<AuthMethods, K> & ThisType<AuthThis>;

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

/** Who is calling from where, as sessions and the throttle record it. */
export const client = (ctx: Ctx<object>) => ({ ip: ctx.meta.client?.ip ?? null, userAgent: ctx.meta.client?.userAgent ?? null });

/** The scrypt cost of new hashes (PASSWORD_SCRYPT_N). */
export const hashCost = (cfg: Config) => ({ N: cfg.PASSWORD_SCRYPT_N, r: 8, p: 1 });
