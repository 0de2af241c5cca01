/**
 * Revoked sessions and deleted users, as every gateway keeps them in memory, so that an access token of a
 * session that ended stops working within seconds without a call per request (README, "Identity:
 * authentication and tenants" → "Revocation").
 *
 * `auth` records an entry when a session ends (logout, refresh-token reuse, a session ended from the
 * list, password change or reset) or a user is deleted, keeps it until the longest-lived access token
 * it could concern has expired (`until`), and broadcasts it as the event `auth.revoked`. Gateways add
 * what they hear, and at start (and every REVOCATION_SYNC_S) fetch every entry still in force from the
 * internal action `auth.revocations`, so a gateway that started later, or missed a broadcast, knows
 * them too. Checking a token is two map lookups.
 */
export const REVOKED_EVENT = "auth.revoked";

export interface RevocationEntry {
	kind: "session" | "user";
	/** the session id (`sid`) or the user id (`sub`) */
	id: string;
	/** ISO time after which no access token it concerns can still be valid */
	until: string;
}

export class RevocationList {
	private readonly sessions = new Map<string, number>();
	private readonly users = new Map<string, number>();
	private lastPrune = 0;

	constructor(private readonly now: () => number = Date.now) {}

	get size(): number {
		return this.sessions.size + this.users.size;
	}

	/** Adds entries (malformed ones are skipped); an entry heard twice keeps the later `until`. */
	add(entries: unknown): number {
		if (!Array.isArray(entries)) return 0;
		let added = 0;
		const now = this.now();
		for (const e of entries as Partial<RevocationEntry>[]) {
			const until = typeof e?.until === "string" ? Date.parse(e.until) : NaN;
			if (typeof e?.id !== "string" || !e.id || !(until > now)) continue;
			const map = e.kind === "session" ? this.sessions : e.kind === "user" ? this.users : null;
			if (!map) continue;
			if ((map.get(e.id) ?? 0) < until) map.set(e.id, until);
			added++;
		}
		this.prune(now);
		return added;
	}

	/** True when the token's session ended or its user was deleted (and the entry still applies). */
	isRevoked(user: { id: string; sessionId?: string }): boolean {
		if (this.size === 0) return false;
		const now = this.now();
		const sessionUntil = user.sessionId ? this.sessions.get(user.sessionId) : undefined;
		const userUntil = this.users.get(user.id);
		if (now - this.lastPrune > 60_000) this.prune(now);
		return (sessionUntil !== undefined && sessionUntil > now) || (userUntil !== undefined && userUntil > now);
	}

	/** Drops entries whose tokens have all expired. */
	prune(now = this.now()): void {
		this.lastPrune = now;
		for (const map of [this.sessions, this.users]) for (const [id, until] of map) if (until <= now) map.delete(id);
	}
}
