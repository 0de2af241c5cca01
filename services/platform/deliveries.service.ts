/**
 * Durable delivery of notifications by e-mail and Web Push (README, "Platform: notifications" →
 * "Delivery"). Each (notification, channel) is one row here, unique, and one message on the channel
 * `notifications.deliver.email` or `notifications.deliver.push` (@moleculer/channels: NATS JetStream in a
 * cluster, in-process embedded) naming the row. The consumer claims the row (compare-and-set), renders the
 * tenant's template, sends through `mailer` or `pushsubscriptions`, and records the outcome:
 *
 *   held ──(quiet hours over)──► queued ──► sending ──► sent | skipped (no address, no subscription, …)
 *                                  ▲           │
 *                                  └─ retry ◄──┤ temporary failure: the channel redelivers with backoff;
 *                                              └─ final refusal, or NOTIFY_DELIVERY_RETRIES used up → failed
 *                                                 (the message is then in the dead letters; a replay runs it again)
 *
 * A provider outage therefore delays a delivery, never loses it. At least once: a node that dies between
 * the provider's "accepted" and the `sent` mark sends again after its lease; an e-mail keeps its Message-ID
 * and a push its Topic across attempts, so receivers can tell (and push services replace) a resend.
 *
 * A scheduler publishes held rows once their quiet hours end, rows whose publication failed, and rows
 * stuck longer than a lease (their message was lost: an embedded node restarted, a consumer died); once an
 * hour it removes the rows of deliveries that are over and a week old (they hold the message's variables).
 */
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import { ProviderUnavailableError } from "../../lib/errors";
import type { DbSettings, MixinSchema, ServiceSchema } from "../../lib/schema";
import type { Category } from "../../lib/templates";
import { compoundKeyField, DbMixin, newId } from "../../mixins/db.mixin";
import { categoryParam, deliveryChannel, idParam, MAX_VARS_BYTES, sendToChannel, templateKeyParam, userIdParam } from "./common";
import { DeliveryAttemptMixin } from "./delivery-attempt.mixin";
import {
	FINAL,
	KEEP_FINAL_MS,
	leaseMs,
	STUCK_MS,
	UNPUBLISHED_MS,
	view,
	type DeliveriesMethods,
	type DeliveriesVars,
	type DeliveryChannel,
	type DeliveryRow,
} from "./delivery-model";

const DeliveriesService: ServiceSchema<DbSettings, DeliveriesMethods, DeliveriesVars> = {
	name: "deliveries",
	mixins: [
		// DbMixin's and the attempt mixin's own `this` types are not Moleculer's default mixin type.
		DbMixin({
			collection: "notification_deliveries",
			indexes: [{ fields: ["notificationId", "channel"], unique: true }, { fields: ["status"] }, { fields: ["notificationId"] }],
		}) as MixinSchema,
		DeliveryAttemptMixin as MixinSchema,
	],
	settings: { fields: ["id"] },

	actions: {
		schedule: {
			visibility: "public",
			idempotent: true,
			summary: "One delivery row per channel (once: a repeat returns the existing rows), published unless held.",
			params: {
				$$strict: true,
				notificationId: idParam,
				userId: userIdParam,
				tenantId: { type: "string", max: 64, nullable: true },
				category: categoryParam,
				template: templateKeyParam,
				// the sender's vars (at most MAX_VARS_BYTES) plus the recipient and the app
				vars: {
					type: "object",
					custom: (v: unknown, errors: { type: string; actual: unknown }[]) => (
						Buffer.byteLength(JSON.stringify(v)) > 2 * MAX_VARS_BYTES && errors.push({ type: "objectMaxProps", actual: "too large" }),
						v
					),
				},
				link: { type: "string", max: 2000, nullable: true },
				createdAt: { type: "string", max: 40 },
				channels: { type: "array", min: 1, max: 2, unique: true, items: { type: "enum", values: ["email", "push"] } },
				notBefore: { type: "string", max: 40, optional: true },
				templateTenantId: { type: "string", max: 64, optional: true },
			},
			async handler(
				ctx: Ctx<{
					notificationId: string;
					userId: string;
					tenantId: string | null;
					category: Category;
					template: string;
					vars: Record<string, unknown>;
					link: string | null;
					createdAt: string;
					channels: DeliveryChannel[];
					notBefore?: string;
					templateTenantId?: string;
				}>,
			) {
				const p = ctx.params;
				const now = new Date().toISOString();
				const held = !!p.notBefore && p.notBefore > now;
				const rows: DeliveryRow[] = [];
				for (const channel of p.channels) {
					let row = (await this.adapter.findOne({ notificationId: p.notificationId, channel })) as DeliveryRow | null;
					if (!row) {
						const fresh: Omit<DeliveryRow, "_id"> & { _id: string } = {
							_id: newId(),
							notificationId: p.notificationId,
							channel,
							userId: p.userId,
							tenantId: p.tenantId,
							templateTenantId: p.templateTenantId ?? p.tenantId,
							category: p.category,
							template: p.template,
							vars: p.vars,
							link: p.link,
							notificationCreatedAt: p.createdAt,
							status: held ? "held" : "queued",
							dueAt: held ? p.notBefore! : now,
							attempts: 0,
							lastError: null,
							reason: held ? "quiet hours" : null,
							sentTo: [],
							publishedAt: null,
							claimedAt: null,
							sentAt: null,
							createdAt: now,
							updatedAt: now,
						};
						try {
							// the unique (notificationId, channel) key as DbMixin keeps it for NeDB (a real compound index on MongoDB)
							row = (await this.adapter.insert({
								...fresh,
								[compoundKeyField(["notificationId", "channel"])]: JSON.stringify([p.notificationId, channel]),
							})) as DeliveryRow;
						} catch {
							row = (await this.adapter.findOne({ notificationId: p.notificationId, channel })) as DeliveryRow | null;
							if (!row) throw new ProviderUnavailableError("delivery store", "could not record the delivery");
						}
					}
					// A first attempt, or a repeat of a schedule whose publication failed: publish (once more).
					if (row.status === "queued" && !row.publishedAt) await this.publish(row);
					rows.push(row);
				}
				return rows.map(view);
			},
		},
		forNotification: {
			visibility: "public",
			idempotent: true,
			summary: "The delivery rows of a notification (operators, tests).",
			params: { $$strict: true, notificationId: idParam },
			async handler(ctx: Ctx<{ notificationId: string }>) {
				const rows = (await this.adapter.find({ query: { notificationId: ctx.params.notificationId }, sort: ["channel"] })) as DeliveryRow[];
				return rows.map(view);
			},
		},
		stats: {
			visibility: "public",
			idempotent: true,
			summary: "How many deliveries are in each status, per channel.",
			params: { $$strict: true },
			async handler() {
				const out: Record<string, Record<string, number>> = {};
				for (const channel of ["email", "push"])
					for (const status of ["held", "queued", "sending", "sent", "skipped", "failed"]) {
						const n = await this.adapter.count({ query: { channel, status } });
						if (n) (out[channel] ??= {})[status] = n;
					}
				return out;
			},
		},
		prune: {
			visibility: "public",
			idempotent: true,
			summary: "Remove the rows of deliveries that are over (sent, skipped) and last changed before `before` (default: a week ago); how many.",
			params: { $$strict: true, before: { type: "string", max: 40, optional: true } },
			handler(ctx: Ctx<{ before?: string }>) {
				const before = ctx.params.before ? Date.parse(ctx.params.before) : Date.now() - KEEP_FINAL_MS;
				return this.prune(Number.isFinite(before) ? before : Date.now() - KEEP_FINAL_MS);
			},
		},
		release: {
			visibility: "public",
			idempotent: true,
			summary: "Publish held deliveries due by `asOf` (default now) and stuck ones; how many. The scheduler runs this on its own.",
			params: { $$strict: true, asOf: { type: "string", max: 40, optional: true } },
			handler(ctx: Ctx<{ asOf?: string }>) {
				const asOf = ctx.params.asOf ? Date.parse(ctx.params.asOf) : Date.now();
				return this.sweep(Number.isFinite(asOf) ? asOf : Date.now());
			},
		},
	},

	methods: {
		async publish(row: DeliveryRow) {
			await sendToChannel(this.broker, deliveryChannel(row.channel), {
				deliveryId: row._id,
				channel: row.channel,
				notificationId: row.notificationId,
			});
			await this.adapter.updateMany({ _id: row._id }, { $set: { publishedAt: new Date().toISOString() } });
		},

		/** Compare-and-set on the row as read (status and updatedAt); how many rows changed (0 or 1). */
		setRow(row: DeliveryRow, set: Partial<DeliveryRow>) {
			return this.adapter.updateMany(
				{ _id: row._id, status: row.status, updatedAt: row.updatedAt },
				{ $set: { ...set, updatedAt: new Date().toISOString() } },
			);
		},

		prune(before: number) {
			return this.adapter.removeMany({ status: { $in: [...FINAL] }, updatedAt: { $lt: new Date(before).toISOString() } });
		},

		/** Publishes what is due: held rows whose quiet hours ended, unpublished rows, stuck rows. How many. */
		sweep(asOf = Date.now(), everything = false) {
			this.sweeping ??= (async () => {
				let published = 0;
				try {
					const iso = new Date(asOf).toISOString();
					const due = (await this.adapter.find({
						query: { status: "held", dueAt: { $lte: iso } },
						sort: ["dueAt"],
						limit: 500,
					})) as DeliveryRow[];
					for (const row of due) {
						if ((await this.setRow(row, { status: "queued", reason: null, publishedAt: null })) !== 1) continue;
						await this.publish({ ...row, status: "queued" });
						published++;
					}
					const now = Date.now();
					const lost = (await this.adapter.find({
						query: { status: { $in: ["queued", "sending"] } },
						sort: ["updatedAt"],
						limit: 500,
					})) as DeliveryRow[];
					for (const row of lost) {
						const age = now - Date.parse(row.updatedAt);
						const stuck =
							everything ||
							(row.status === "queued" && !row.publishedAt && age > UNPUBLISHED_MS) ||
							(row.status === "queued" && age > STUCK_MS) ||
							(row.status === "sending" && age > leaseMs());
						if (!stuck) continue;
						// touch it first (compare-and-set): two schedulers sharing one store publish it once
						if ((await this.setRow(row, { status: "queued", publishedAt: null })) !== 1) continue;
						await this.publish(row);
						published++;
					}
				} catch (err) {
					this.logger.warn("delivery scheduler: will try again", { error: (err as Error).message });
				} finally {
					this.sweeping = undefined;
				}
				if (published) this.logger.info("delivery scheduler: published", { published });
				if (Date.now() - this.lastPrune > 3600_000) {
					this.lastPrune = Date.now();
					await this.prune(Date.now() - KEEP_FINAL_MS).catch(err =>
						this.logger.warn("delivery rows: could not prune", { error: (err as Error).message }),
					);
				}
				return published;
			})();
			return this.sweeping;
		},
	},

	started() {
		this.lastPrune = Date.now();
		const every = config().NOTIFY_SCHEDULER_INTERVAL_MS;
		this.timer = setInterval(() => void this.sweep(), every);
		this.timer.unref();
		// Embedded, the channel lived in this process: whatever was queued or in flight when it stopped is gone with it.
		if (!config().TRANSPORTER) setTimeout(() => void this.sweep(Date.now(), true), 0).unref();
	},
	async stopped() {
		clearInterval(this.timer);
		await this.sweeping;
	},
};

export default DeliveriesService;
