/**
 * The purge of what has expired (the `identity.purge` job, hourly: README, "Platform jobs"). Expired
 * refresh tokens are useless (reuse detection only matters while a token could still be valid), and so
 * are reset tokens past expiry or already spent, and revocations past every token they concern.
 * Idempotent: a job run twice (at least once) removes nothing more.
 */
import type { AuthMethodsOf } from "./types";

export const PURGE_JOB = "identity.purge";

export const purgeMethods: AuthMethodsOf<"purgeExpired"> = {
	async purgeExpired() {
		const now = new Date().toISOString();
		const [sessions, resetTokens, revocations] = await Promise.all([
			this.sessionRows.remove({ expiresAt: { $lt: now } }),
			this.resets.remove({ $or: [{ expiresAt: { $lt: now } }, { usedAt: { $ne: null } }] }),
			this.revocationRows.remove({ until: { $lt: now } }),
		]);
		if (sessions || resetTokens || revocations) this.logger.info("expired tokens purged", { sessions, resetTokens, revocations });
		return { sessions, resetTokens, revocations };
	},
};
