/**
 * Ended sessions and deleted users, kept while an access token of them could still be valid, so that
 * gateways refuse those tokens (README, "Revocation"). Their purge is in purge.ts.
 */
import type { RevocationEntry } from "../../../lib/revocations";
import { REVOKED_EVENT } from "../../../lib/revocations";
import type { AuthMethodsOf } from "./types";

export const revocationMethods: AuthMethodsOf<"recordRevocations" | "revocationsSince" | "deleteUser"> = {
	/**
	 * Stores revocations until every access token they could concern has expired (the token lifetime,
	 * plus the verifier's clock tolerance), then tells every gateway. A lost broadcast is made up by
	 * the gateways' periodic `auth.revocations` resync.
	 */
	async recordRevocations(entries) {
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

	/** The revocations in force, oldest first, recorded from `since`, after the entry `after`. */
	async revocationsSince({ since, after, limit }) {
		const query: Record<string, unknown> = { until: { $gt: new Date().toISOString() } };
		if (since) query.createdAt = { $gte: since };
		if (after) query.id = { $gt: after };
		// ids are time-ordered (mixins/db.mixin.ts newId): paging by id follows the order they were recorded
		const rows = await this.revocationRows.find(query, { sort: ["id"], limit });
		return {
			entries: rows.map(r => ({ kind: r.kind, id: r.subject, until: r.until })),
			next: rows.length === limit ? rows[rows.length - 1].id : null,
		};
	},

	/** Removes the account's credentials and sessions; its access tokens stop working like those of a revoked session. */
	async deleteUser(userId) {
		const cred = await this.credentialById(userId);
		// The revocation first: from here on no token of the user is accepted, even if the rest fails.
		await this.recordRevocations([{ kind: "user", id: userId }]);
		const sessions = await this.sessions.revokeUser(userId);
		await this.resets.update({ userId, usedAt: null }, { usedAt: new Date().toISOString() });
		if (cred) await this.adapter.removeById(userId);
		this.logger.info("user deleted", { userId, existed: !!cred, revokedSessions: sessions });
		return { deleted: !!cred };
	},
};
