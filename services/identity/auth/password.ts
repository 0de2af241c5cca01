/** Passwords of an account: change (signed in), forgotten (a reset link by mail) and reset (with its token). */
import { randomUUID } from "node:crypto";
import { currentUser } from "../../../lib/context";
import { InvalidCurrentPasswordError, InvalidResetTokenError, NotFoundError, PasswordRulesError, TooManyAttemptsError } from "../../../lib/errors";
import { newId } from "../../../mixins/db.mixin";
import { hashPassword, passwordProblems, verifyPassword } from "../passwords";
import { resetToken } from "../reset-tokens";
import { sha256 } from "../sessions";
import { client, hashCost, normaliseEmail, type AuthMethodsOf } from "./types";

const RESET_TTL_MS = 60 * 60 * 1000;

export const passwordMethods: AuthMethodsOf<
	"changePassword" | "forgotPassword" | "resetPassword" | "passwordResetLink" | "setPassword" | "checkNewPassword"
> = {
	async changePassword(ctx) {
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

	async forgotPassword(ctx) {
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
			if (this.cfg.DEV_LOG_RESET_LINKS)
				this.logger.warn("DEV_LOG_RESET_LINKS: password reset token (local development only)", { userId: cred._id, token });
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

	async resetPassword(ctx) {
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

	/** The token of a reset that can still be used, or null (used, expired, unknown, or made under a signing key rotated away since). */
	async passwordResetLink(resetId) {
		const row = await this.resets.findOne({ id: resetId });
		if (!row || row.usedAt || Date.parse(row.expiresAt) <= Date.now() || row.kid !== this.ring.current.kid) return null;
		const cred = await this.credentialById(row.userId);
		if (!cred) return null;
		return { userId: row.userId, email: cred.email, token: resetToken(this.resetKey, row.id), expiresAt: row.expiresAt };
	},

	/** Stores a new hash of the password; `rehash` keeps passwordChangedAt (same password, new cost). */
	async setPassword(userId, password, rehash = false) {
		const passwordHash = await hashPassword(password, hashCost(this.cfg));
		const now = new Date().toISOString();
		await this.adapter.updateById(userId, { $set: { passwordHash, updatedAt: now, ...(rehash ? {} : { passwordChangedAt: now }) } });
	},

	checkNewPassword(password, email, field = "password") {
		const problems = passwordProblems(password, email);
		if (problems.length) throw new PasswordRulesError(problems.map(p => ({ ...p, field })));
	},
};
