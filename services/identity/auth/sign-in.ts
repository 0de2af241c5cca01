/** Getting a session: registration, login, switching tenant, and the token pair every one answers with. */
import { attemptEventId, attemptKey } from "../../../lib/attempt";
import { currentUser } from "../../../lib/context";
import { ConflictError, EmailTakenError, InvalidCredentialsError, NotFoundError, TooManyAttemptsError } from "../../../lib/errors";
import { signAccessToken } from "../../../lib/tokens";
import { hashPassword, parseHash, verifyPassword } from "../passwords";
import { client, hashCost, normaliseEmail, type AuthMethodsOf, type Scope } from "./types";

type SignInMethods = "register" | "login" | "refresh" | "switchTenant" | "tokenResponse" | "scopeFor" | "preferredScope" | "profileOf";

export const signInMethods: AuthMethodsOf<SignInMethods> = {
	async register(ctx) {
		const email = normaliseEmail(ctx.params.email);
		const { password, name } = ctx.params;
		this.checkNewPassword(password, email);
		const passwordHash = await hashPassword(password, hashCost(this.cfg));
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

	async login(ctx) {
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

	/** Spends the refresh token for a new pair; a retry of the attempt that spent it is recognised, not taken for reuse (sessions.ts). */
	async refresh(ctx) {
		const next = await this.sessions.rotate(ctx.params.refreshToken, {
			attempt: attemptKey(ctx),
			onReuse: row => this.logger.warn("refresh token reuse: session revoked", { userId: row.userId, sessionId: row.familyId }),
		});
		const scope = await this.scopeFor(ctx, next.row.userId, next.row.tenantId);
		return this.tokenResponse(ctx, next.row.userId, next, scope);
	},

	async switchTenant(ctx) {
		const user = currentUser(ctx);
		const scope = await this.scopeFor(ctx, user.id, ctx.params.tenantId);
		if (scope.tenantId !== ctx.params.tenantId) throw new NotFoundError("Not found.", ctx.params.tenantId);
		const live = user.sessionId ? await this.sessions.active(user.id, user.sessionId) : null;
		const issued = live
			? await this.sessions.replace(live, { tenantId: scope.tenantId })
			: await this.sessions.start(user.id, scope.tenantId, client(ctx));
		await this.adapter.updateById(user.id, { $set: { currentTenantId: scope.tenantId, updatedAt: new Date().toISOString() } });
		return this.tokenResponse(ctx, user.id, issued, scope);
	},

	async tokenResponse(ctx, userId, issued, scope, profile) {
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
	async scopeFor(ctx, userId, tenantId): Promise<Scope> {
		if (!tenantId) return { tenantId: null, roles: [] };
		const m = (await ctx.call("tenants.membership", { tenantId, userId })) as { role: string } | null;
		return m ? { tenantId, roles: [m.role] } : { tenantId: null, roles: [] };
	},

	/** At login: the tenant the user last switched to, else their oldest membership, else none. */
	async preferredScope(ctx, cred): Promise<Scope> {
		if (cred.currentTenantId) {
			const scope = await this.scopeFor(ctx, cred._id, cred.currentTenantId);
			if (scope.tenantId) return scope;
		}
		const list = (await ctx.call("tenants.membershipsOf", { userId: cred._id })) as { tenantId: string; role: string }[];
		return list.length ? { tenantId: list[0].tenantId, roles: [list[0].role] } : { tenantId: null, roles: [] };
	},

	async profileOf(ctx, cred) {
		try {
			// The public profile, plus the email: these answers go to the account's owner only.
			return { ...((await ctx.call("users.getProfile", { id: cred._id })) as object), email: cred.email };
		} catch (err) {
			this.logger.warn("profile unavailable; answering with the account only", { userId: cred._id, error: (err as Error).message });
			return { id: cred._id, email: cred.email };
		}
	},
};
