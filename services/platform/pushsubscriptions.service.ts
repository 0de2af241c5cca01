/**
 * Web Push subscriptions and sending (README, "Platform: notifications" → "Web Push"), at
 * `/api/notifications/push-subscriptions`:
 * - a browser subscribes with the `PushSubscription` it got from `pushManager.subscribe()` (its endpoint
 *   and keys, checked by `lib/webpush.ts`: https on a known push service, a real P-256 key) using the
 *   application server key from `GET /key`. One row per endpoint: subscribing the same browser again
 *   updates it (and moves it to whoever is signed in now).
 * - `deliver` (internal, for the deliveries service) sends one payload to each of a user's subscriptions.
 *   A 404/410 from the push service removes that subscription; 429, 5xx, timeouts and an open breaker
 *   (one per push service) are reported for a retry; each push service has its own breaker, so one failing
 *   service does not hold the others up.
 */
import { config } from "../../lib/config";
import { type Ctx, currentUser } from "../../lib/context";
import { FeatureDisabledError, InvalidInputError } from "../../lib/errors";
import type { DbSettings, MixinSchema, ServiceSchema } from "../../lib/schema";
import { checkSubscription, loadVapidKeys, sendWebPush, type PushOutcome, type VapidKeys } from "../../lib/webpush";
import { entityOf } from "../../middlewares/entity.middleware";
import { DbMixin, newId, type DbThis } from "../../mixins/db.mixin";
import { CircuitBreaker, CircuitOpenError } from "../social/circuit-breaker";
import { idParam, userIdParam } from "./common";

interface SubscriptionRow {
	_id: string;
	userId: string;
	endpoint: string;
	keys: { p256dh: string; auth: string };
	userAgent: string | null;
	createdAt: string;
	updatedAt: string;
}

const view = (r: SubscriptionRow) => ({ id: r._id, endpoint: r.endpoint, userAgent: r.userAgent, createdAt: r.createdAt, updatedAt: r.updatedAt });

/** The largest payload a push may carry before encryption (RFC 8291 leaves 4 KB for record and padding). */
export const MAX_PUSH_PAYLOAD = 3000;

export interface DeliverResult {
	/** push is off on this node (no VAPID keys in production) */
	disabled?: boolean;
	sent: string[];
	gone: string[];
	retry: { id: string; reason: string }[];
	rejected: { id: string; reason: string }[];
}

interface PushVars {
	adapter: DbThis["adapter"];
	vapid: VapidKeys | null;
	breakers: Map<string, CircuitBreaker>;
}
interface PushMethods {
	breakerFor(origin: string): CircuitBreaker;
	sendOne(row: SubscriptionRow, payload: string, topic?: string): Promise<PushOutcome>;
	/** One of the caller's subscriptions, or null (the `entity:` loader of unsubscribe). */
	mine(ctx: Ctx<unknown>, id: string): Promise<SubscriptionRow | null>;
}

const PushSubscriptionsService: ServiceSchema<DbSettings, PushMethods, PushVars> = {
	name: "pushsubscriptions",
	// DbMixin types its own `this` (DbThis), not Moleculer's default mixin type.
	mixins: [DbMixin({ collection: "push_subscriptions", indexes: [{ fields: ["endpoint"], unique: true }, { fields: ["userId"] }] }) as MixinSchema],
	settings: { rest: "/notifications/push-subscriptions", fields: ["id"] },

	actions: {
		key: {
			rest: "GET /key",
			auth: "required",
			summary: "The application server key (VAPID public key) to pass to pushManager.subscribe().",
			params: { $$strict: true },
			handler() {
				if (!this.vapid) throw new FeatureDisabledError("Web Push is not configured on this server.", "PUSH_DISABLED");
				return { publicKey: this.vapid.publicKey };
			},
		},
		subscribe: {
			rest: "POST /",
			auth: "required",
			idempotent: true,
			summary: "Register this browser's push subscription ({ endpoint, keys: { p256dh, auth } }). 201 when new, 200 when known.",
			params: {
				$$strict: "remove",
				endpoint: { type: "string", min: 10, max: 2048 },
				keys: {
					type: "object",
					strict: "remove",
					props: { p256dh: { type: "string", min: 1, max: 200 }, auth: { type: "string", min: 1, max: 100 } },
				},
				expirationTime: { type: "number", optional: true, nullable: true },
			},
			async handler(ctx: Ctx<{ endpoint: string; keys: { p256dh: string; auth: string } }>) {
				const userId = currentUser(ctx).id;
				if (!this.vapid) throw new FeatureDisabledError("Web Push is not configured on this server.", "PUSH_DISABLED");
				const { endpoint, keys } = ctx.params;
				const issues = checkSubscription({ endpoint, keys }, config());
				if (issues.length) throw new InvalidInputError("The push subscription is not valid.", issues);
				const ua = ctx.meta.client?.userAgent ?? null;
				const now = new Date().toISOString();
				const set = { userId, keys: { p256dh: keys.p256dh, auth: keys.auth }, userAgent: ua, updatedAt: now };
				for (let attempt = 0; attempt < 3; attempt++) {
					const existing = (await this.adapter.findOne({ endpoint })) as SubscriptionRow | null;
					if (existing) {
						await this.adapter.updateMany({ _id: existing._id }, { $set: set });
						return view({ ...existing, ...set });
					}
					try {
						const row = (await this.adapter.insert({ _id: newId(), endpoint, ...set, createdAt: now })) as SubscriptionRow;
						ctx.meta.$statusCode = 201;
						ctx.meta.$location = `/api/notifications/push-subscriptions/${row._id}`;
						return view(row);
					} catch {
						// the same endpoint registered concurrently: update that one
					}
				}
				throw new InvalidInputError("The push subscription could not be saved.", [{ field: "endpoint", message: "try again" }]);
			},
		},
		listMine: {
			rest: "GET /",
			auth: "required",
			summary: "Your push subscriptions (one per browser or device).",
			params: { $$strict: true },
			async handler(ctx: Ctx) {
				const rows = (await this.adapter.find({
					query: { userId: currentUser(ctx).id },
					sort: ["createdAt"],
					limit: 100,
				})) as SubscriptionRow[];
				return { rows: rows.map(view), total: rows.length };
			},
		},
		unsubscribe: {
			rest: "DELETE /:id",
			auth: "required",
			summary: "Remove one of your push subscriptions.",
			params: { $$strict: true, id: idParam },
			entity: "mine",
			async handler(ctx: Ctx<{ id: string }>) {
				const row = entityOf<SubscriptionRow>(ctx);
				await this.adapter.removeMany({ _id: row._id, userId: row.userId });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		deliver: {
			visibility: "public",
			// not retried by the broker: the deliveries service retries through its channel, knowing what was sent
			idempotent: false,
			// each push service has its own breaker (breakerFor); a failing one must not shut this action for all
			circuitBreaker: { enabled: false },
			summary: "Send a payload to each of a user's subscriptions (except `exclude`); removes the gone ones.",
			params: {
				$$strict: true,
				userId: userIdParam,
				payload: { type: "string", max: MAX_PUSH_PAYLOAD },
				topic: { type: "string", optional: true, max: 32, pattern: /^[A-Za-z0-9_-]+$/ },
				exclude: { type: "array", optional: true, default: [], max: 100, items: { type: "string", max: 64 } },
			},
			async handler(
				ctx: Ctx<{ userId: string; payload: string; topic?: string; exclude: string[] }>,
			): Promise<DeliverResult & { subscriptions: number }> {
				const out: DeliverResult & { subscriptions: number } = { sent: [], gone: [], retry: [], rejected: [], subscriptions: 0 };
				if (!this.vapid) return { ...out, disabled: true };
				const rows = (await this.adapter.find({ query: { userId: ctx.params.userId }, limit: 100 })) as SubscriptionRow[];
				out.subscriptions = rows.length;
				const todo = rows.filter(r => !ctx.params.exclude.includes(r._id));
				await Promise.all(
					todo.map(async row => {
						const outcome = await this.sendOne(row, ctx.params.payload, ctx.params.topic);
						if (outcome.kind === "sent") out.sent.push(row._id);
						else if (outcome.kind === "gone") {
							await this.adapter.removeMany({ _id: row._id, endpoint: row.endpoint });
							this.logger.info("push subscription gone: removed", {
								subscriptionId: row._id,
								userId: row.userId,
								status: outcome.status,
							});
							out.gone.push(row._id);
						} else if (outcome.kind === "retry") out.retry.push({ id: row._id, reason: outcome.reason });
						else out.rejected.push({ id: row._id, reason: outcome.reason });
					}),
				);
				return out;
			},
		},
		countFor: {
			visibility: "public",
			idempotent: true,
			params: { $$strict: true, userId: userIdParam },
			handler(ctx: Ctx<{ userId: string }>) {
				return this.adapter.count({ query: { userId: ctx.params.userId } });
			},
		},
	},

	methods: {
		breakerFor(origin: string) {
			let b = this.breakers.get(origin);
			if (!b) {
				const cfg = config();
				b = new CircuitBreaker({
					name: `push service ${origin}`,
					threshold: cfg.NOTIFY_BREAKER_THRESHOLD,
					cooldownMs: cfg.NOTIFY_BREAKER_COOLDOWN_MS,
					onStateChange: state => this.logger.warn("push circuit breaker", { origin, state }),
				});
				this.breakers.set(origin, b);
			}
			return b;
		},
		async sendOne(row: SubscriptionRow, payload: string, topic?: string) {
			const cfg = config();
			const origin = new URL(row.endpoint).origin;
			try {
				// Only a temporary failure counts against the push service's breaker.
				return await this.breakerFor(origin).run(async () => {
					const outcome = await sendWebPush({ endpoint: row.endpoint, keys: row.keys }, payload, {
						vapid: this.vapid!,
						ttlSec: cfg.PUSH_TTL_S,
						timeoutMs: cfg.PUSH_TIMEOUT_MS,
						topic,
					});
					if (outcome.kind === "retry") throw Object.assign(new Error(outcome.reason), { outcome });
					return outcome;
				});
			} catch (err) {
				if (err instanceof CircuitOpenError) return { kind: "retry", reason: err.message };
				const outcome = (err as { outcome?: PushOutcome }).outcome;
				return outcome ?? { kind: "retry", reason: (err as Error).message };
			}
		},
		mine(ctx: Ctx<unknown>, id: string) {
			return this.adapter.findOne({ _id: id, userId: currentUser(ctx).id }) as Promise<SubscriptionRow | null>;
		},
	},

	created() {
		this.breakers = new Map();
		const cfg = config();
		this.vapid = loadVapidKeys(cfg);
		if (!this.vapid) this.logger.error("Web Push is OFF: set VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY (NODE_ENV=production generates no dev keys)");
		else if (this.vapid.generated)
			this.logger.warn(
				"Web Push uses DEV VAPID keys generated into DATA_DIR/keys/vapid.json: set VAPID_PUBLIC_KEY/VAPID_PRIVATE_KEY for production",
			);
	},
};

export default PushSubscriptionsService;
