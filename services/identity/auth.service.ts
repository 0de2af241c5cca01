/**
 * Authentication: credentials (email + scrypt hash), sessions with rotating refresh tokens, password
 * change and reset, tenant switching, and the JWT key ring whose public half (JWKS) the gateway uses
 * to verify access tokens without calling us per request.
 *
 * Public profiles live in `users` (created through `users.createProfile` with the same id);
 * memberships live in `tenants`. This service owns three collections: `credentials` (through
 * DbMixin), `sessions`, `password_resets` and `revocations` (mixins/collection.ts).
 */
import { randomUUID } from "node:crypto";
import type { ActionSchema } from "moleculer";
import { attemptEventId, attemptKey } from "../../lib/attempt";
import { config, type Config } from "../../lib/config";
import { currentUser, type Ctx } from "../../lib/context";
import {
	ConflictError,
	EmailTakenError,
	InvalidCredentialsError,
	InvalidCurrentPasswordError,
	InvalidResetTokenError,
	NotFoundError,
	PasswordRulesError,
	TooManyAttemptsError,
} from "../../lib/errors";
import { keysDir, loadKeyRing, toJwks, type KeyRing } from "../../lib/keys";
import { REVOKED_EVENT, type RevocationEntry } from "../../lib/revocations";
import type { DbSettings, ServiceSchema, ServiceThis } from "../../lib/schema";
import { signAccessToken } from "../../lib/tokens";
import { Collection, type CollectionOf } from "../../mixins/collection";
import { DbMixin, newId, toStoredRow, type DbMethods, type DbVars } from "../../mixins/db.mixin";
import { OutboxMixin, type OutboxMethods } from "../../mixins/outbox.mixin";
import { hashPassword, parseHash, passwordProblems, verifyPassword } from "./passwords";
import { resetToken, resetTokenKey } from "./reset-tokens";
import { newOpaqueToken, SessionStore, sha256, type SessionRow } from "./sessions";
import { FailureThrottle } from "./throttle";

interface Credential {
	_id: string;
	email: string;
	passwordHash: string;
	currentTenantId: string | null;
	passwordChangedAt: string;
	createdAt: string;
	updatedAt: string;
}

interface ResetRow {
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
interface RevocationRow {
	id: string;
	kind: RevocationEntry["kind"];
	subject: string;
	until: string;
	createdAt: string;
}

interface Scope {
	tenantId: string | null;
	roles: string[];
}

interface AuthVars extends DbVars {
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
	purgeTimer: NodeJS.Timeout;
}

interface AuthMethods extends DbMethods, OutboxMethods {
	/** The stored credential of this user id, or of this (normalised) email. */
	credentialById(userId: string): Promise<Credential | null>;
	credentialByEmail(email: string): Promise<Credential | null>;
	loadRing(): void;
	login(ctx: Ctx<{ email: string; password: string }>): Promise<unknown>;
	tokenResponse(ctx: Ctx<object>, userId: string, issued: { row: SessionRow; token: string }, scope: Scope, profile?: unknown): Promise<unknown>;
	scopeFor(ctx: Ctx<object>, userId: string, tenantId: string | null): Promise<Scope>;
	preferredScope(ctx: Ctx<object>, cred: Credential): Promise<Scope>;
	profileOf(ctx: Ctx<object>, cred: { _id: string; email: string }): Promise<unknown>;
	setPassword(userId: string, password: string, rehash?: boolean): Promise<void>;
	checkNewPassword(password: string, email: string, field?: string): void;
	publish(name: string, actorId: string, tenantId: string | null, data: Record<string, unknown>): Promise<void>;
	recordRevocations(entries: { kind: RevocationEntry["kind"]; id: string }[]): Promise<void>;
}

type AuthThis = ServiceThis<DbSettings, AuthMethods, AuthVars>;

const RESET_TTL_MS = 60 * 60 * 1000;
// Hashing may wait in its bounded queue (see passwords.ts): these actions get a longer timeout
// than the broker's default (Moleculer's Timeout middleware reads `timeout` from the action).
const slow: Record<string, unknown> = { timeout: 10_000 };
// Sensitive public actions: counted per client address whatever token comes along (lib/access.ts).
const perIp = { max: 20, windowSec: 60, by: "ip" as const };

const normaliseEmail = (email: string) => email.trim().toLowerCase();
const client = (ctx: Ctx<object>) => ({ ip: ctx.meta.client?.ip ?? null, userAgent: ctx.meta.client?.userAgent ?? null });

const loginAction: ActionSchema<AuthThis> = {
	auth: "public" as const,
	// Safe to retry after a lost answer: the retry revokes the session its first attempt started and
	// publishes the same event id (lib/attempt.ts), so it adds no second session or activity entry.
	idempotent: true,
	// One budget for the operation, whichever of its routes is used (login and its alias session).
	rateLimit: { ...perIp, bucket: "auth.login" },
	...slow,
	params: {
		email: { type: "string", min: 3, max: 254, trim: true },
		password: { type: "string", min: 1, max: 1024 },
		$$strict: "remove",
	},
	handler(ctx: Ctx<{ email: string; password: string }>) {
		return this.login(ctx);
	},
};

const AuthService: ServiceSchema<DbSettings, AuthMethods, AuthVars> = {
	name: "auth",
	mixins: [
		DbMixin({ collection: "credentials", indexes: [{ fields: ["email"], unique: true }] }),
		OutboxMixin({ collection: "auth_outbox", removeSent: true /* nothing to keep once sent; no token is ever in it */ }),
	],
	settings: {
		// Never the hash: what leaves this service of a credential.
		fields: ["id", "email", "createdAt", "updatedAt"],
	},

	actions: {
		jwks: {
			// Published without `rest`: the gateway serves it at /.well-known/jwks.json.
			auth: "public",
			idempotent: true,
			summary: "The public keys that verify access tokens (JWKS).",
			params: {},
			handler(ctx: Ctx) {
				// Verifiers may keep it a few minutes; a new kid makes them fetch again anyway.
				ctx.meta.$responseHeaders = { "Cache-Control": "public, max-age=300" };
				return toJwks(this.ring);
			},
		},

		reloadKeys: {
			// Operators: after rotating the key files, make this node sign with the new key.
			visibility: "public",
			idempotent: true,
			params: {},
			handler() {
				this.loadRing();
				return { kid: this.ring.current.kid, previous: this.ring.previous.map(k => k.kid) };
			},
		},

		register: {
			rest: "POST /register",
			auth: "public",
			rateLimit: perIp,
			...slow,
			summary: "Create an account; answers with a session.",
			params: {
				email: { type: "email", max: 254, normalize: true },
				password: { type: "string", min: 1, max: 1024 },
				name: { type: "string", min: 1, max: 100, trim: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ email: string; password: string; name: string }>) {
				const email = normaliseEmail(ctx.params.email);
				const { password, name } = ctx.params;
				this.checkNewPassword(password, email);
				const passwordHash = await hashPassword(password, { N: this.cfg.PASSWORD_SCRYPT_N, r: 8, p: 1 });
				let cred: { id: string; email: string };
				try {
					cred = await this._create(ctx, { email, passwordHash, currentTenantId: null, passwordChangedAt: new Date().toISOString() });
				} catch (err) {
					if (err instanceof ConflictError) throw new EmailTakenError();
					throw err;
				}
				let profile: unknown;
				try {
					profile = await ctx.call("users.createProfile", { id: cred.id, email, name });
				} catch (err) {
					// No profile, no account: undo, so the email can be registered again.
					await this.adapter.removeById(cred.id).catch(() => undefined);
					throw err;
				}
				const issued = await this.sessions.start(cred.id, null, client(ctx));
				this.logger.info("user registered", { userId: cred.id });
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = "/api/auth/me";
				return this.tokenResponse(ctx, cred.id, issued, { tenantId: null, roles: [] }, profile);
			},
		},

		login: { ...loginAction, params: { ...loginAction.params }, rest: "POST /login", summary: "Sign in with email and password." },
		// The same operation under the name an existing client uses.
		session: { ...loginAction, params: { ...loginAction.params }, rest: "POST /session", summary: "Sign in (alias of POST /login)." },

		refresh: {
			rest: "POST /refresh",
			auth: "public",
			rateLimit: { max: 60, windowSec: 60, by: "ip" },
			summary: "Trade a refresh token for a new token pair (the old one is spent).",
			// A retry of the attempt that spent the token is recognised, not taken for reuse (sessions.ts).
			idempotent: true,
			params: { refreshToken: { type: "string", min: 1, max: 200 }, $$strict: "remove" },
			async handler(ctx: Ctx<{ refreshToken: string }>) {
				const next = await this.sessions.rotate(ctx.params.refreshToken, {
					attempt: attemptKey(ctx),
					onReuse: row => this.logger.warn("refresh token reuse: session revoked", { userId: row.userId, sessionId: row.familyId }),
				});
				const scope = await this.scopeFor(ctx, next.row.userId, next.row.tenantId);
				return this.tokenResponse(ctx, next.row.userId, next, scope);
			},
		},

		logout: {
			rest: "POST /logout",
			auth: "required",
			summary: "End the current session (its refresh token stops working).",
			params: { refreshToken: { type: "string", min: 1, max: 200, optional: true }, $$strict: "remove" },
			async handler(ctx: Ctx<{ refreshToken?: string }>) {
				const user = currentUser(ctx);
				let familyId = user.sessionId;
				if (!familyId && ctx.params.refreshToken) {
					const row = await this.sessionRows.findOne({ tokenHash: sha256(ctx.params.refreshToken), userId: user.id });
					familyId = row?.familyId;
				}
				if (familyId) {
					const owned = await this.sessionRows.count({ familyId, userId: user.id });
					if (owned) await this.sessions.revokeFamily(familyId);
				}
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		me: {
			rest: "GET /me",
			auth: "required",
			summary: "Your profile, your organisations and the scope of this token.",
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				const user = currentUser(ctx);
				const cred = await this.credentialById(user.id);
				if (!cred) throw new NotFoundError();
				const [profile, memberships] = await Promise.all([this.profileOf(ctx, cred), ctx.call("tenants.membershipsOf", { userId: user.id })]);
				return { user: profile, memberships, tenantId: user.tenantId, roles: user.roles, sessionId: user.sessionId ?? null };
			},
		},

		sessions: {
			rest: "GET /sessions",
			auth: "required",
			summary: "Your active sessions.",
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				const user = currentUser(ctx);
				const rows = await this.sessions.list(user.id, user.sessionId);
				return { rows, total: rows.length };
			},
		},

		revokeSession: {
			rest: "DELETE /sessions/:id",
			auth: "required",
			summary: "End one of your sessions.",
			params: { id: { type: "string", min: 1, max: 64 } },
			async handler(ctx: Ctx<{ id: string }>) {
				const live = await this.sessions.active(currentUser(ctx).id, ctx.params.id);
				if (!live) throw new NotFoundError("Not found.", ctx.params.id);
				await this.sessions.revokeFamily(ctx.params.id);
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		changePassword: {
			rest: "POST /password",
			auth: "required",
			// Checks a password: per address and per account, so a stolen access token cannot guess at speed.
			rateLimit: { max: 20, windowSec: 60, by: "ip+account" },
			...slow,
			summary: "Change your password; your other sessions end.",
			params: {
				currentPassword: { type: "string", min: 1, max: 1024 },
				newPassword: { type: "string", min: 1, max: 1024 },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ currentPassword: string; newPassword: string }>) {
				const user = currentUser(ctx);
				const cred = await this.credentialById(user.id);
				if (!cred) throw new NotFoundError();
				const ip = client(ctx).ip;
				const retryIn = await this.throttle.blockedFor(cred.email, ip);
				if (retryIn) throw new TooManyAttemptsError(retryIn);
				if (!(await verifyPassword(ctx.params.currentPassword, cred.passwordHash))) {
					await this.throttle.fail(cred.email, ip);
					throw new InvalidCurrentPasswordError();
				}
				this.checkNewPassword(ctx.params.newPassword, cred.email, "newPassword");
				await this.setPassword(user.id, ctx.params.newPassword);
				const revoked = await this.sessions.revokeUser(user.id, user.sessionId);
				this.logger.info("password changed", { userId: user.id, revokedSessions: revoked });
				await this.publish("auth.passwordChanged", user.id, user.tenantId, { userId: user.id, via: "change" });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		forgotPassword: {
			rest: "POST /password/forgot",
			auth: "public",
			rateLimit: perIp,
			summary: "Ask for a password reset link. Always 202, whether or not the address is registered.",
			params: { email: { type: "string", min: 3, max: 254, trim: true }, $$strict: "remove" },
			async handler(ctx: Ctx<{ email: string }>) {
				const email = normaliseEmail(ctx.params.email);
				const cred = await this.credentialByEmail(email);
				if (cred) {
					// The token is derived from the row id (reset-tokens.ts): the event names the row, the
					// mailer asks auth.passwordResetLink for the token, and no log, outbox or channel holds it.
					const id = newId();
					const token = resetToken(this.resetKey, id);
					const expiresAt = new Date(Date.now() + RESET_TTL_MS).toISOString();
					await this.resets.insert({ id, userId: cred._id, tokenHash: sha256(token), kid: this.ring.current.kid, expiresAt, usedAt: null });
					const eventId = randomUUID();
					this.logger.info("password reset requested", { userId: cred._id, eventId });
					if (this.cfg.DEV_LOG_RESET_LINKS) this.logger.warn("DEV_LOG_RESET_LINKS: password reset token (local development only)", { userId: cred._id, token });
					await this.publishEvent("notifications.passwordReset", {
						eventId,
						at: new Date().toISOString(),
						actorId: cred._id,
						tenantId: null,
						userId: cred._id,
						email: cred.email,
						resetId: id,
						expiresAt,
					});
				}
				ctx.meta.$statusCode = 202;
				return { status: "accepted", message: "If this address has an account, a reset link is on its way." };
			},
		},

		resetPassword: {
			rest: "POST /password/reset",
			auth: "public",
			rateLimit: perIp,
			...slow,
			summary: "Set a new password with a reset token; every session ends.",
			params: {
				token: { type: "string", min: 1, max: 200 },
				password: { type: "string", min: 1, max: 1024 },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ token: string; password: string }>) {
				const row = await this.resets.findOne({ tokenHash: sha256(ctx.params.token) });
				if (!row || row.usedAt || Date.parse(row.expiresAt) <= Date.now()) throw new InvalidResetTokenError();
				const cred = await this.credentialById(row.userId);
				if (!cred) throw new InvalidResetTokenError();
				// Rules first, so a rejected password does not burn the token.
				this.checkNewPassword(ctx.params.password, cred.email);
				const now = new Date().toISOString();
				if ((await this.resets.update({ id: row.id, usedAt: null }, { usedAt: now })) !== 1) throw new InvalidResetTokenError();
				await this.setPassword(cred._id, ctx.params.password);
				await this.resets.update({ userId: cred._id, usedAt: null }, { usedAt: now });
				const revoked = await this.sessions.revokeUser(cred._id);
				await this.throttle.reset(cred.email, client(ctx).ip);
				this.logger.info("password reset", { userId: cred._id, revokedSessions: revoked });
				await this.publish("auth.passwordChanged", cred._id, null, { userId: cred._id, via: "reset" });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		switchTenant: {
			rest: "POST /switch-tenant",
			auth: "required",
			summary: "A new token pair scoped to one of your organisations.",
			params: { tenantId: { type: "string", min: 1, max: 64 }, $$strict: "remove" },
			async handler(ctx: Ctx<{ tenantId: string }>) {
				const user = currentUser(ctx);
				const scope = await this.scopeFor(ctx, user.id, ctx.params.tenantId);
				if (scope.tenantId !== ctx.params.tenantId) throw new NotFoundError("Not found.", ctx.params.tenantId);
				const live = user.sessionId ? await this.sessions.active(user.id, user.sessionId) : null;
				const issued = live ? await this.sessions.replace(live, { tenantId: scope.tenantId }) : await this.sessions.start(user.id, scope.tenantId, client(ctx));
				await this.adapter.updateById(user.id, { $set: { currentTenantId: scope.tenantId, updatedAt: new Date().toISOString() } });
				return this.tokenResponse(ctx, user.id, issued, scope);
			},
		},

		passwordResetLink: {
			// Internal, for the mailer of `notifications.passwordReset`: the token of a reset that can still
			// be used, or null (used, expired, unknown, or made under a signing key rotated away since).
			visibility: "public",
			idempotent: true,
			params: { resetId: { type: "string", min: 1, max: 64 } },
			async handler(ctx: Ctx<{ resetId: string }>) {
				const row = await this.resets.findOne({ id: ctx.params.resetId });
				if (!row || row.usedAt || Date.parse(row.expiresAt) <= Date.now() || row.kid !== this.ring.current.kid) return null;
				const cred = await this.credentialById(row.userId);
				if (!cred) return null;
				return { userId: row.userId, email: cred.email, token: resetToken(this.resetKey, row.id), expiresAt: row.expiresAt };
			},
		},

		revocations: {
			// Internal, for gateways: the revocations still in force (at start, and as a periodic resync
			// behind the `auth.revoked` broadcasts; lib/revocations.ts). Paged (`after` = the `next` of the
			// previous page) so that a busy quarter hour never makes one answer too big for the transporter;
			// `since` limits a resync to entries recorded from then on.
			visibility: "public",
			idempotent: true,
			params: {
				since: { type: "string", max: 40, optional: true },
				after: { type: "string", max: 64, optional: true },
				limit: { type: "number", integer: true, min: 1, max: 5000, default: 1000, convert: true },
			},
			async handler(ctx: Ctx<{ since?: string; after?: string; limit: number }>) {
				const { since, after, limit } = ctx.params;
				const query: Record<string, unknown> = { until: { $gt: new Date().toISOString() } };
				if (since) query.createdAt = { $gte: since };
				if (after) query.id = { $gt: after };
				// ids are time-ordered (mixins/db.mixin.ts newId): paging by id follows the order they were recorded
				const rows = await this.revocationRows.find(query, { sort: ["id"], limit });
				return { entries: rows.map(r => ({ kind: r.kind, id: r.subject, until: r.until })), next: rows.length === limit ? rows[rows.length - 1].id : null };
			},
		},

		deleteUser: {
			// Internal (operators, e.g. from the REPL: `call auth.deleteUser --userId …`): removes the account's
			// credentials and sessions; its access tokens stop working like those of a revoked session.
			// The public profile (users) and memberships (tenants) are not removed here.
			visibility: "public",
			idempotent: true,
			params: { userId: { type: "string", min: 1, max: 64 } },
			async handler(ctx: Ctx<{ userId: string }>) {
				const { userId } = ctx.params;
				const cred = await this.credentialById(userId);
				// The revocation first: from here on no token of the user is accepted, even if the rest fails.
				await this.recordRevocations([{ kind: "user", id: userId }]);
				const sessions = await this.sessions.revokeUser(userId);
				await this.resets.update({ userId, usedAt: null }, { usedAt: new Date().toISOString() });
				if (cred) await this.adapter.removeById(userId);
				this.logger.info("user deleted", { userId, existed: !!cred, revokedSessions: sessions });
				return { deleted: !!cred };
			},
		},

		emailOf: {
			// Internal (tenants shows and accepts the invitations addressed to a user's email).
			visibility: "public",
			idempotent: true,
			params: { userId: { type: "string", min: 1, max: 64 } },
			async handler(ctx: Ctx<{ userId: string }>) {
				const cred = await this.credentialById(ctx.params.userId);
				return { email: cred?.email ?? null };
			},
		},

		userIdByEmail: {
			// Internal (tenants.addMember, for seeding, adds members by email).
			visibility: "public",
			idempotent: true,
			params: { email: { type: "string", min: 3, max: 254, trim: true } },
			async handler(ctx: Ctx<{ email: string }>) {
				const cred = await this.credentialByEmail(normaliseEmail(ctx.params.email));
				return { userId: cred?._id ?? null };
			},
		},
	},

	methods: {
		async credentialById(userId: string) {
			return toStoredRow<Credential>(await this.adapter.findById(userId));
		},

		async credentialByEmail(email: string) {
			return toStoredRow<Credential>(await this.adapter.findOne({ email }));
		},

		loadRing() {
			this.ring = loadKeyRing(this.cfg);
			this.resetKey = resetTokenKey(this.ring.current.privateKey);
			if (this.ring.generated) this.logger.warn(`generated DEV signing keys in ${keysDir(this.cfg)}; do not use in production`);
		},

		async login(ctx: Ctx<{ email: string; password: string }>) {
			const email = normaliseEmail(ctx.params.email);
			// Throttled per (account, client address): a stranger's failures slow the stranger, not the owner (throttle.ts).
			const ip = client(ctx).ip;
			const retryIn = await this.throttle.blockedFor(email, ip);
			if (retryIn) throw new TooManyAttemptsError(retryIn);
			const cred = await this.credentialByEmail(email);
			// An unknown email costs the same hash as a wrong password: no timing difference to probe.
			const ok = await verifyPassword(ctx.params.password, cred?.passwordHash ?? this.dummyHash);
			if (!cred || !ok) {
				await this.throttle.fail(email, ip);
				throw new InvalidCredentialsError();
			}
			await this.throttle.succeeded(email, ip);
			// A hash made at another cost (an older default, a test setting) is redone at today's, now that we have the password.
			if (parseHash(cred.passwordHash)?.N !== this.cfg.PASSWORD_SCRYPT_N) await this.setPassword(cred._id, ctx.params.password, true);
			const scope = await this.preferredScope(ctx, cred);
			const issued = await this.sessions.start(cred._id, scope.tenantId, client(ctx), attemptKey(ctx));
			await this.publish("auth.loggedIn", cred._id, scope.tenantId, {
				eventId: attemptEventId(ctx, "auth.loggedIn"),
				userId: cred._id,
				sessionId: issued.row.familyId,
				...client(ctx),
			});
			return this.tokenResponse(ctx, cred._id, issued, scope, await this.profileOf(ctx, cred));
		},

		async tokenResponse(ctx: Ctx<object>, userId: string, issued: { row: SessionRow; token: string }, scope: Scope, profile?: unknown) {
			const accessToken = signAccessToken(this.ring, this.cfg, { sub: userId, tid: scope.tenantId, roles: scope.roles, sid: issued.row.familyId });
			if (profile === undefined) {
				const cred = await this.credentialById(userId);
				profile = cred ? await this.profileOf(ctx, cred) : { id: userId };
			}
			return {
				user: profile,
				accessToken,
				refreshToken: issued.token,
				tokenType: "Bearer",
				expiresIn: this.cfg.JWT_ACCESS_TTL_S,
				refreshExpiresAt: issued.row.expiresAt,
				tenantId: scope.tenantId,
				roles: scope.roles,
				sessionId: issued.row.familyId,
			};
		},

		/** The user's role in the tenant, or no tenant when they are not (or no longer) a member. */
		async scopeFor(ctx: Ctx<object>, userId: string, tenantId: string | null): Promise<Scope> {
			if (!tenantId) return { tenantId: null, roles: [] };
			const m = (await ctx.call("tenants.membership", { tenantId, userId })) as { role: string } | null;
			return m ? { tenantId, roles: [m.role] } : { tenantId: null, roles: [] };
		},

		/** At login: the tenant the user last switched to, else their oldest membership, else none. */
		async preferredScope(ctx: Ctx<object>, cred: Credential): Promise<Scope> {
			if (cred.currentTenantId) {
				const scope = await this.scopeFor(ctx, cred._id, cred.currentTenantId);
				if (scope.tenantId) return scope;
			}
			const list = (await ctx.call("tenants.membershipsOf", { userId: cred._id })) as { tenantId: string; role: string }[];
			return list.length ? { tenantId: list[0].tenantId, roles: [list[0].role] } : { tenantId: null, roles: [] };
		},

		async profileOf(ctx: Ctx<object>, cred: { _id: string; email: string }) {
			try {
				// The public profile, plus the email: these answers go to the account's owner only.
				return { ...((await ctx.call("users.getProfile", { id: cred._id })) as object), email: cred.email };
			} catch (err) {
				this.logger.warn("profile unavailable; answering with the account only", { userId: cred._id, error: (err as Error).message });
				return { id: cred._id, email: cred.email };
			}
		},

		/** Stores a new hash of the password; `rehash` keeps passwordChangedAt (same password, new cost). */
		async setPassword(userId: string, password: string, rehash = false) {
			const passwordHash = await hashPassword(password, { N: this.cfg.PASSWORD_SCRYPT_N, r: 8, p: 1 });
			const now = new Date().toISOString();
			await this.adapter.updateById(userId, { $set: { passwordHash, updatedAt: now, ...(rehash ? {} : { passwordChangedAt: now }) } });
		},

		checkNewPassword(password: string, email: string, field = "password") {
			const problems = passwordProblems(password, email);
			if (problems.length) throw new PasswordRulesError(problems.map(p => ({ ...p, field })));
		},

		async publish(name: string, actorId: string, tenantId: string | null, data: Record<string, unknown>) {
			await this.publishEvent(name, { eventId: randomUUID(), at: new Date().toISOString(), actorId, tenantId, ...data });
		},

		/**
		 * Stores revocations until every access token they could concern has expired (the token lifetime,
		 * plus the verifier's clock tolerance), then tells every gateway (README, "Revocation"). A lost
		 * broadcast is made up by the gateways' periodic `auth.revocations` resync.
		 */
		async recordRevocations(entries: { kind: RevocationEntry["kind"]; id: string }[]) {
			if (!entries.length) return;
			const until = new Date(Date.now() + (this.cfg.JWT_ACCESS_TTL_S + 10) * 1000).toISOString();
			await Promise.all(entries.map(e => this.revocationRows.insert({ kind: e.kind, subject: e.id, until })));
			const announced: RevocationEntry[] = entries.map(e => ({ kind: e.kind, id: e.id, until }));
			try {
				await this.broker.broadcast(REVOKED_EVENT, { entries: announced });
			} catch (err) {
				this.logger.warn("revocation stored but not broadcast; gateways learn it at their next resync", { error: (err as Error).message });
			}
		},
	},

	created() {
		this.cfg = config();
		this.loadRing();
		this.sessionRows = new Collection<SessionRow>({ collection: "sessions", indexes: [{ fields: ["tokenHash"], unique: true }, { fields: ["userId"] }, { fields: ["familyId"] }] });
		this.resets = new Collection<ResetRow>({ collection: "password_resets", indexes: [{ fields: ["tokenHash"], unique: true }] });
		this.revocationRows = new Collection<RevocationRow>({ collection: "revocations", indexes: [{ fields: ["until"] }] });
		this.sessions = new SessionStore(this.sessionRows, this.cfg.JWT_REFRESH_TTL_S, ids => this.recordRevocations(ids.map(id => ({ kind: "session", id }))));
		this.throttle = new FailureThrottle({ redisUrl: this.cfg.REDIS_URL, prefix: `${this.cfg.NAMESPACE}:login-fail` });
	},

	async started() {
		if (this.cfg.DEV_LOG_RESET_LINKS)
			this.logger.warn("DEV_LOG_RESET_LINKS=true: password-reset tokens are WRITTEN TO THE LOG. Anyone reading it can reset any password. Local development only.");
		await Promise.all([this.sessionRows.open(this.broker), this.resets.open(this.broker), this.revocationRows.open(this.broker)]);
		// The hash an unknown email is checked against, at the cost new hashes have.
		this.dummyHash = await hashPassword(newOpaqueToken(), { N: this.cfg.PASSWORD_SCRYPT_N, r: 8, p: 1 });
		// Expired refresh and reset tokens are useless (reuse detection only matters while a token could
		// still be valid): drop them hourly. Idempotent, so every auth node may do it.
		this.purgeTimer = setInterval(() => {
			const now = new Date().toISOString();
			Promise.all([
				this.sessionRows.remove({ expiresAt: { $lt: now } }),
				this.resets.remove({ expiresAt: { $lt: now } }),
				this.revocationRows.remove({ until: { $lt: now } }),
			]).catch(err =>
				this.logger.warn("could not purge expired tokens", { error: (err as Error).message }),
			);
		}, 3600_000);
		this.purgeTimer.unref();
	},

	async stopped() {
		clearInterval(this.purgeTimer);
		this.throttle.close();
		await Promise.all([this.sessionRows.close(), this.resets.close(), this.revocationRows.close()]);
	},
};

export default AuthService;
