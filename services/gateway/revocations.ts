/**
 * The gateway's half of token revocation (lib/revocations.ts; README, "Identity: authentication and
 * tenants" → "Revocation"): an in-memory list of ended sessions and deleted users, fed by the
 * `auth.revoked` broadcast, loaded from `auth.revocations` at start and resynced every
 * REVOCATION_SYNC_S (a missed broadcast, a gateway that started before `auth` did). The check itself,
 * `tokenRevoked(user)`, makes no call.
 */
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import { REVOKED_EVENT, RevocationList } from "../../lib/revocations";
import type { ServiceSettingSchema } from "moleculer";
import type { MixinSchema } from "../../lib/schema";

export interface RevocationVars {
	revocations: RevocationList;
	revocationSync: {
		timer?: NodeJS.Timeout;
		catchUp?: NodeJS.Timeout;
		synced: boolean;
		warned: boolean;
		/** when the last complete load began (this node's clock): the next one asks only for what came since */
		lastLoadAt?: number;
		running?: Promise<boolean>;
	};
}

export interface RevocationMethods {
	/** true when the session of this verified token ended or its user was deleted */
	tokenRevoked(user: { id: string; sessionId?: string }): boolean;
	syncRevocations(): Promise<boolean>;
}

/** A resync asks for entries recorded since the last load minus this (clock differences between nodes). */
const SINCE_MARGIN_MS = 60_000;
const PAGE = 1000;
/** How long the first load may hold up the gateway's start when `auth` is not there yet. */
const BOOTSTRAP_WAIT_MS = 2000;
/**
 * Other nodes learn that this gateway listens to `auth.revoked` only once its service info has reached
 * them (about a second after the start): one more load after that closes the window in which a
 * broadcast would have missed this gateway.
 */
const CATCH_UP_MS = 3000;

export const RevocationMixin: MixinSchema<ServiceSettingSchema, RevocationMethods, RevocationVars> = {
	events: {
		[REVOKED_EVENT](ctx: Ctx<{ entries?: unknown }>) {
			this.revocations.add(ctx.params?.entries);
		},
		// A gateway that could not load the list yet (auth not up) tries again as soon as auth appears.
		"$services.changed"() {
			if (!this.revocationSync.synced) void this.syncRevocations();
		},
	},

	methods: {
		tokenRevoked(user: { id: string; sessionId?: string }) {
			return this.revocations.isRevoked(user);
		},

		syncRevocations() {
			const st = this.revocationSync;
			st.running ??= (async () => {
				try {
					const began = Date.now();
					const since = st.lastLoadAt ? new Date(st.lastLoadAt - SINCE_MARGIN_MS).toISOString() : undefined;
					let after: string | undefined;
					for (let page = 0; page < 10_000; page++) {
						const params = { limit: PAGE, ...(since && { since }), ...(after && { after }) };
						const res = (await this.broker.call("auth.revocations", params, { meta: {} })) as { entries: unknown; next?: string | null };
						this.revocations.add(res.entries);
						if (!res.next) break;
						after = res.next;
					}
					st.lastLoadAt = began;
					if (!st.synced || st.warned) this.logger.info("revocation list loaded", { entries: this.revocations.size });
					st.synced = true;
					st.warned = false;
					return true;
				} catch (err) {
					// Tokens are still verified; only sessions ended elsewhere before now are not known yet.
					if (!st.warned) this.logger.warn("could not load the revocation list from auth; retrying", { error: (err as Error).message });
					st.warned = true;
					return false;
				} finally {
					st.running = undefined;
				}
			})();
			return st.running;
		},
	},

	created() {
		this.revocations = new RevocationList();
		this.revocationSync = { synced: false, warned: false };
	},

	async started() {
		// Before the first request where auth is reachable; a gateway started before auth does not wait long.
		const loaded = this.broker
			.waitForServices(["auth"], BOOTSTRAP_WAIT_MS)
			.then(() => this.syncRevocations())
			.catch(() => false);
		await Promise.race([loaded, new Promise(resolve => setTimeout(resolve, BOOTSTRAP_WAIT_MS).unref())]);
		const every = config().REVOCATION_SYNC_S * 1000;
		this.revocationSync.timer = setInterval(() => void this.syncRevocations(), every);
		this.revocationSync.timer.unref();
		this.revocationSync.catchUp = setTimeout(() => void this.syncRevocations(), Math.min(CATCH_UP_MS, every));
		this.revocationSync.catchUp.unref();
	},

	stopped() {
		clearInterval(this.revocationSync.timer);
		clearTimeout(this.revocationSync.catchUp);
	},
};
