/**
 * Authentication: credentials (email + scrypt hash), sessions with rotating refresh tokens, password
 * change and reset, tenant switching, and the JWT key ring whose public half (JWKS) the gateway uses
 * to verify access tokens without calling us per request.
 *
 * Public profiles live in `users` (created through `users.createProfile` with the same id);
 * memberships live in `tenants`. This service owns four collections: `credentials` (through
 * DbMixin), `sessions`, `password_resets` and `revocations` (mixins/collection.ts).
 *
 * This file lists the actions; their work is in ./auth: account.ts (the credential, keys, its sessions,
 * logout, me), sign-in.ts (register, login, refresh, switch tenant, token pairs), password.ts (change, forgot, reset),
 * revocation.ts (revocations, deleting a user), purge.ts (the `identity.purge` job: expired rows).
 */
import type { ActionSchema } from "moleculer";
import { config } from "../../lib/config";
import { COMPACT_EVENT } from "../../lib/maintenance";
import type { Ctx } from "../../lib/context";
import { toJwks } from "../../lib/keys";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { Collection } from "../../mixins/collection";
import { DbMixin } from "../../mixins/db.mixin";
import { OutboxMixin } from "../../mixins/outbox.mixin";
import { JobHandlersMixin } from "../platform/jobs/handlers";
import { PlatformSchedulesMixin } from "../platform/scheduler/platform-schedules";
import { accountMethods } from "./auth/account";
import { signClientToken } from "./oauth/client-token";
import { passwordMethods } from "./auth/password";
import { purgeMethods, PURGE_JOB } from "./auth/purge";
import { revocationMethods } from "./auth/revocation";
import { signInMethods } from "./auth/sign-in";
import { client, hashCost, normaliseEmail, type AuthMethods, type AuthThis, type AuthVars, type ResetRow, type RevocationRow } from "./auth/types";
import { newOpaqueToken, SessionStore, type SessionRow } from "./sessions";
import { hashPassword } from "./passwords";
import { FailureThrottle } from "./throttle";
import { ConflictError, EmailTakenError, NotFoundError } from "../../lib/errors";

// Hashing may wait in its bounded queue (see passwords.ts): these actions get a longer timeout
// than the broker's default (Moleculer's Timeout middleware reads `timeout` from the action).
const slow = { timeout: 10_000 };
// Sensitive public actions: counted per client address whatever token comes along (lib/access.ts).
const perIp = { max: 20, windowSec: 60, by: "ip" as const };

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
		// hourly, through the scheduler (README, "Platform jobs")
		JobHandlersMixin<AuthThis>({
			[PURGE_JOB]: {
				handler() {
					return this.purgeExpired();
				},
			},
		}),
		PlatformSchedulesMixin([{ id: "identity-purge", name: "Purge expired sessions and reset tokens", cron: "0 * * * *", jobType: PURGE_JOB }]),
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
			handler(ctx: Ctx<{ email: string; password: string; name: string }>) {
				return this.register(ctx);
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
			handler(ctx: Ctx<{ refreshToken: string }>) {
				return this.refresh(ctx);
			},
		},

		logout: {
			rest: "POST /logout",
			auth: "required",
			summary: "End the current session (its refresh token stops working).",
			params: { refreshToken: { type: "string", min: 1, max: 200, optional: true }, $$strict: "remove" },
			handler(ctx: Ctx<{ refreshToken?: string }>) {
				return this.logout(ctx);
			},
		},

		me: {
			rest: "GET /me",
			auth: "required",
			summary: "Your profile, your organisations and the scope of this token.",
			params: { $$strict: "remove" },
			handler(ctx: Ctx) {
				return this.me(ctx);
			},
		},

		sessions: {
			rest: "GET /sessions",
			auth: "required",
			summary: "Your active sessions.",
			params: { $$strict: "remove" },
			handler(ctx: Ctx) {
				return this.listSessions(ctx);
			},
		},

		revokeSession: {
			rest: "DELETE /sessions/:id",
			auth: "required",
			summary: "End one of your sessions.",
			params: { id: { type: "string", min: 1, max: 64 } },
			handler(ctx: Ctx<{ id: string }>) {
				return this.revokeSession(ctx);
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
			handler(ctx: Ctx<{ currentPassword: string; newPassword: string }>) {
				return this.changePassword(ctx);
			},
		},

		forgotPassword: {
			rest: "POST /password/forgot",
			auth: "public",
			rateLimit: perIp,
			summary: "Ask for a password reset link. Always 202, whether or not the address is registered.",
			params: { email: { type: "string", min: 3, max: 254, trim: true }, $$strict: "remove" },
			handler(ctx: Ctx<{ email: string }>) {
				return this.forgotPassword(ctx);
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
			handler(ctx: Ctx<{ token: string; password: string }>) {
				return this.resetPassword(ctx);
			},
		},

		switchTenant: {
			rest: "POST /switch-tenant",
			auth: "required",
			summary: "A new token pair scoped to one of your organisations.",
			params: { tenantId: { type: "string", min: 1, max: 64 }, $$strict: "remove" },
			handler(ctx: Ctx<{ tenantId: string }>) {
				return this.switchTenant(ctx);
			},
		},

		passwordResetLink: {
			// Internal, for the mailer of `notifications.passwordReset`: the token of a reset that can still
			// be used, or null (used, expired, unknown, or made under a signing key rotated away since).
			visibility: "public",
			idempotent: true,
			params: { resetId: { type: "string", min: 1, max: 64 } },
			handler(ctx: Ctx<{ resetId: string }>) {
				return this.passwordResetLink(ctx.params.resetId);
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
			handler(ctx: Ctx<{ since?: string; after?: string; limit: number }>) {
				return this.revocationsSince(ctx.params);
			},
		},

		deleteUser: {
			// Internal (operators, e.g. from the REPL: `call auth.deleteUser --userId …`): removes the account's
			// credentials and sessions; its access tokens stop working like those of a revoked session.
			// The public profile (users) and memberships (tenants) are not removed here.
			visibility: "public",
			idempotent: true,
			params: { userId: { type: "string", min: 1, max: 64 } },
			handler(ctx: Ctx<{ userId: string }>) {
				return this.deleteUser(ctx.params.userId);
			},
		},

		signClientToken: {
			// Internal, for `oauth`'s token endpoint: only auth holds the signing key (README, "API clients").
			visibility: "public",
			params: {
				clientId: { type: "string", min: 1, max: 64 },
				tenantId: { type: "string", min: 1, max: 64 },
				scopes: { type: "array", items: { type: "string", max: 64 }, max: 50 },
			},
			handler(ctx: Ctx<{ clientId: string; tenantId: string; scopes: string[] }>) {
				return signClientToken(this.ring, this.cfg, ctx.params);
			},
		},

		revokeTokens: {
			// Internal, for `oauth`: a revoked client token (kind "session", its `sid`) or every token of a revoked client (kind "user").
			visibility: "public",
			params: { kind: { type: "enum", values: ["session", "user"] }, id: { type: "string", min: 1, max: 64 } },
			async handler(ctx: Ctx<{ kind: "session" | "user"; id: string }>) {
				await this.recordRevocations([{ kind: ctx.params.kind, id: ctx.params.id }]);
				return null;
			},
		},

		signInAs: {
			// Internal, for `oauthsignin`: the session and token response of a user a provider vouched for (the same as login's).
			visibility: "public",
			params: { userId: { type: "string", min: 1, max: 64 } },
			async handler(ctx: Ctx<{ userId: string }>) {
				const cred = await this.credentialById(ctx.params.userId);
				if (!cred) throw new NotFoundError("Not found.", ctx.params.userId);
				const scope = await this.preferredScope(ctx, cred);
				const issued = await this.sessions.start(cred._id, scope.tenantId, client(ctx));
				await this.publish("auth.loggedIn", cred._id, scope.tenantId, { userId: cred._id, sessionId: issued.row.familyId, ...client(ctx) });
				return this.tokenResponse(ctx, cred._id, issued, scope, await this.profileOf(ctx, cred));
			},
		},

		createPasswordless: {
			// Internal, for `oauthsignin`: an account without a password (a provider's verified address); a reset sets one.
			visibility: "public",
			params: { email: { type: "email", max: 254, normalize: true }, name: { type: "string", min: 1, max: 100, trim: true } },
			async handler(ctx: Ctx<{ email: string; name: string }>) {
				const email = normaliseEmail(ctx.params.email);
				let cred: { id: string };
				try {
					cred = await this._create(ctx, { email, passwordHash: "", currentTenantId: null, passwordChangedAt: new Date().toISOString() });
				} catch (err) {
					if (err instanceof ConflictError) throw new EmailTakenError();
					throw err;
				}
				try {
					await ctx.call("users.createProfile", { id: cred.id, email, name: ctx.params.name });
				} catch (err) {
					await this.adapter.removeById(cred.id).catch(() => undefined);
					throw err;
				}
				return { userId: cred.id };
			},
		},

		hasPassword: {
			// Internal, for `oauthsignin`: may the user sign in with a password (is unlinking a provider safe)?
			visibility: "public",
			params: { userId: { type: "string", min: 1, max: 64 } },
			async handler(ctx: Ctx<{ userId: string }>) {
				return { hasPassword: !!(await this.credentialById(ctx.params.userId))?.passwordHash };
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

		purgeExpired: {
			// Internal (the `identity.purge` job; operators from the REPL): how many sessions, reset tokens and revocations went.
			visibility: "public",
			idempotent: true,
			params: {},
			handler() {
				return this.purgeExpired();
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

	events: {
		// the `platform.compact` job (README, "Platform jobs"): DbMixin compacts `credentials`, these are auth's own
		async [COMPACT_EVENT]() {
			await Promise.all([this.sessionRows.compact(), this.resets.compact(), this.revocationRows.compact()]);
		},
	},

	methods: {
		...accountMethods,
		...signInMethods,
		...passwordMethods,
		...revocationMethods,
		...purgeMethods,
	},

	created() {
		this.cfg = config();
		this.loadRing();
		this.sessionRows = new Collection<SessionRow>({
			collection: "sessions",
			indexes: [{ fields: ["tokenHash"], unique: true }, { fields: ["userId"] }, { fields: ["familyId"] }],
		});
		this.resets = new Collection<ResetRow>({ collection: "password_resets", indexes: [{ fields: ["tokenHash"], unique: true }] });
		this.revocationRows = new Collection<RevocationRow>({ collection: "revocations", indexes: [{ fields: ["until"] }] });
		this.sessions = new SessionStore(this.sessionRows, this.cfg.JWT_REFRESH_TTL_S, ids =>
			this.recordRevocations(ids.map(id => ({ kind: "session", id }))),
		);
		this.throttle = new FailureThrottle({ redisUrl: this.cfg.REDIS_URL, prefix: `${this.cfg.NAMESPACE}:login-fail` });
	},

	async started() {
		if (this.cfg.DEV_LOG_RESET_LINKS)
			this.logger.warn(
				"DEV_LOG_RESET_LINKS=true: password-reset tokens are WRITTEN TO THE LOG. Anyone reading it can reset any password. Local development only.",
			);
		await Promise.all([this.sessionRows.open(this.broker), this.resets.open(this.broker), this.revocationRows.open(this.broker)]);
		// The hash an unknown email is checked against, at the cost new hashes have.
		this.dummyHash = await hashPassword(newOpaqueToken(), hashCost(this.cfg));
	},

	async stopped() {
		this.throttle.close();
		await Promise.all([this.sessionRows.close(), this.resets.close(), this.revocationRows.close()]);
	},
};

export default AuthService;
