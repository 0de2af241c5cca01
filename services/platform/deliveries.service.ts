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
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { config } from "../../lib/config";
import { ProviderRejectedError, ProviderUnavailableError } from "../../lib/errors";
import { renderPart, type Category } from "../../lib/templates";
import { compoundKeyField, DbMixin, newId, type DbThis } from "../../mixins/db.mixin";
import { asSystem, categoryParam, deliveryChannel, idParam, MAX_VARS_BYTES, sendToChannel, templateKeyParam, userIdParam, type Ctx } from "./common";
import { lateVariables } from "./late-variables";
import type { EffectiveTemplate } from "./notificationtemplates.service";
import type { DeliverResult } from "./pushsubscriptions.service";
import { MAX_PUSH_PAYLOAD } from "./pushsubscriptions.service";

export type DeliveryChannel = "email" | "push";
export type DeliveryStatus = "held" | "queued" | "sending" | "sent" | "skipped" | "failed";

export interface DeliveryRow {
	_id: string;
	notificationId: string;
	channel: DeliveryChannel;
	userId: string;
	tenantId: string | null;
	category: Category;
	template: string;
	vars: Record<string, unknown>;
	link: string | null;
	notificationCreatedAt: string;
	status: DeliveryStatus;
	dueAt: string;
	attempts: number;
	lastError: string | null;
	reason: string | null;
	sentTo: string[];
	publishedAt: string | null;
	claimedAt: string | null;
	sentAt: string | null;
	createdAt: string;
	updatedAt: string;
}

type Outcome = { status: "sent" | "skipped"; reason?: string; sentTo?: string[] };

/** A sending row older than this belongs to a worker that died (longer than any attempt may take). */
const leaseMs = () => Math.max(config().MAIL_TIMEOUT_MS * 3, config().PUSH_TIMEOUT_MS) + 10_000;
/** A queued row untouched this long has lost its message (an embedded node restarted): published again. */
const STUCK_MS = 5 * 60_000;
/** A queued row never published after this long (the publication failed): published again. */
const UNPUBLISHED_MS = 30_000;
const FINAL = new Set<DeliveryStatus>(["sent", "skipped"]);
/** Rows of deliveries that are over (sent or skipped) are removed after this long: they hold the message's variables. */
export const KEEP_FINAL_MS = 7 * 24 * 3600_000;

const view = (r: DeliveryRow) => ({
	id: r._id,
	notificationId: r.notificationId,
	channel: r.channel,
	status: r.status,
	dueAt: r.dueAt,
	attempts: r.attempts,
	reason: r.reason,
	lastError: r.lastError,
	sentAt: r.sentAt,
	createdAt: r.createdAt,
});

const mailDomain = () => /@([^>\s]+)>?\s*$/.exec(config().MAIL_FROM)?.[1] ?? "valence.invalid";

interface DeliveriesVars {
	adapter: DbThis["adapter"];
	timer?: NodeJS.Timeout;
	sweeping?: Promise<number>;
	lastPrune: number;
}
interface DeliveriesMethods {
	publish(row: DeliveryRow): Promise<void>;
	run(ctx: Ctx, id: string, channel: DeliveryChannel): Promise<void>;
	sendEmail(ctx: Ctx, row: DeliveryRow, tpl: EffectiveTemplate): Promise<Outcome>;
	sendPush(ctx: Ctx, row: DeliveryRow, tpl: EffectiveTemplate): Promise<Outcome>;
	sweep(asOf?: number, everything?: boolean): Promise<number>;
	setRow(row: DeliveryRow, set: Partial<DeliveryRow>): Promise<number>;
	prune(before: number): Promise<number>;
}

const consumer = (channel: DeliveryChannel) => ({
	group: "deliveries",
	maxRetries: config().NOTIFY_DELIVERY_RETRIES,
	maxInFlight: channel === "email" ? 10 : 20,
	deadLettering: { enabled: true },
	handler(this: DeliveriesMethods, ctx: Ctx<{ deliveryId?: unknown }>) {
		const id = ctx.params?.deliveryId;
		if (typeof id !== "string" || !id) return undefined; // malformed: nothing to deliver, nothing to retry
		return this.run(ctx, id, channel);
	},
});

const DeliveriesService: ServiceSchema<ServiceSettingSchema & Record<string, unknown>, DeliveriesMethods, DeliveriesVars> = {
	name: "deliveries",
	mixins: [
		DbMixin({
			collection: "notification_deliveries",
			indexes: [{ fields: ["notificationId", "channel"], unique: true }, { fields: ["status"] }, { fields: ["notificationId"] }],
		}) as Partial<ServiceSchema>,
	],
	settings: { fields: ["id"] },

	channels: {
		[deliveryChannel("email")]: consumer("email"),
		[deliveryChannel("push")]: consumer("push"),
	},

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
				vars: { type: "object", custom: (v: unknown, errors: { type: string; actual: unknown }[]) => (Buffer.byteLength(JSON.stringify(v)) > 2 * MAX_VARS_BYTES && errors.push({ type: "objectMaxProps", actual: "too large" }), v) },
				link: { type: "string", max: 2000, nullable: true },
				createdAt: { type: "string", max: 40 },
				channels: { type: "array", min: 1, max: 2, unique: true, items: { type: "enum", values: ["email", "push"] } },
				notBefore: { type: "string", max: 40, optional: true },
			},
			async handler(ctx: Ctx<{ notificationId: string; userId: string; tenantId: string | null; category: Category; template: string; vars: Record<string, unknown>; link: string | null; createdAt: string; channels: DeliveryChannel[]; notBefore?: string }>) {
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
							row = (await this.adapter.insert({ ...fresh, [compoundKeyField(["notificationId", "channel"])]: JSON.stringify([p.notificationId, channel]) })) as DeliveryRow;
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
			await sendToChannel(this.broker, deliveryChannel(row.channel), { deliveryId: row._id, channel: row.channel, notificationId: row.notificationId });
			await this.adapter.updateMany({ _id: row._id }, { $set: { publishedAt: new Date().toISOString() } });
		},

		/** Compare-and-set on the row as read (status and updatedAt); how many rows changed (0 or 1). */
		setRow(row: DeliveryRow, set: Partial<DeliveryRow>) {
			return this.adapter.updateMany({ _id: row._id, status: row.status, updatedAt: row.updatedAt }, { $set: { ...set, updatedAt: new Date().toISOString() } });
		},

		async run(ctx: Ctx, id: string, channel: DeliveryChannel) {
			let row: DeliveryRow | null = null;
			for (let i = 0; ; i++) {
				row = (await this.adapter.findById(id)) as DeliveryRow | null;
				if (!row || row.channel !== channel || FINAL.has(row.status)) return;
				if (row.status === "held" && Date.parse(row.dueAt) > Date.now()) return; // the scheduler publishes it when due
				if (row.status === "sending" && Date.now() - Date.parse(row.claimedAt ?? row.updatedAt) < leaseMs())
					throw new ProviderUnavailableError("delivery", "another attempt is in progress"); // come back after it
				const claimedAt = new Date().toISOString();
				if ((await this.setRow(row, { status: "sending", claimedAt })) === 1) {
					row = { ...row, status: "sending", claimedAt };
					break;
				}
				if (i >= 2) throw new ProviderUnavailableError("delivery", "the delivery changed meanwhile");
			}
			const current = (await this.adapter.findById(id)) as DeliveryRow;
			try {
				const tpl = (await ctx.call("notificationtemplates.resolve", { key: row.template }, asSystem(row.tenantId))) as EffectiveTemplate | null;
				const outcome: Outcome = !tpl
					? { status: "skipped", reason: "the template no longer exists" }
					: channel === "email"
						? await this.sendEmail(ctx, row, tpl)
						: await this.sendPush(ctx, row, tpl);
				await this.setRow(current, { status: outcome.status, reason: outcome.reason ?? null, sentTo: outcome.sentTo ?? row.sentTo, sentAt: outcome.status === "sent" ? new Date().toISOString() : null, lastError: null });
				this.logger.info("notification delivered", { deliveryId: id, channel, status: outcome.status, reason: outcome.reason });
			} catch (err) {
				const attempts = (row.attempts ?? 0) + 1;
				const lastError = String((err as Error).message ?? err).slice(0, 500);
				const sentTo = (err as { sentTo?: string[] }).sentTo ?? row.sentTo;
				const retryable = !!(err as { retryable?: boolean }).retryable;
				const status: DeliveryStatus = retryable && attempts < config().NOTIFY_DELIVERY_RETRIES ? "queued" : "failed";
				await this.setRow(current, { status, attempts, lastError, sentTo, reason: retryable ? null : "refused" });
				if (retryable) {
					this.logger.warn("notification delivery failed, will retry", { deliveryId: id, channel, attempts, error: lastError });
					throw err;
				}
				this.logger.warn("notification delivery refused for good", { deliveryId: id, channel, error: lastError });
			}
		},

		async sendEmail(ctx: Ctx, row: DeliveryRow, tpl: EffectiveTemplate) {
			const part = tpl.parts.email as Record<string, string> | undefined;
			if (!part || !tpl.channels.includes("email")) return { status: "skipped", reason: "the template has no e-mail part" };
			const mode = ((await ctx.call("mailer.mode")) as { mode: string }).mode;
			if (mode === "off") return { status: "skipped", reason: "e-mail is off (no SMTP_URL)" };
			const late = await lateVariables(ctx, row.template, row.vars);
			if ("skip" in late) return { status: "skipped", reason: late.skip };
			const to = late.to ?? ((await ctx.call("auth.emailOf", { userId: row.userId })) as { email: string | null }).email;
			if (!to) return { status: "skipped", reason: "no e-mail address" };
			let rendered;
			try {
				rendered = renderPart("email", part, { ...row.vars, ...late.vars });
			} catch (err) {
				throw new ProviderRejectedError("template", (err as Error).message);
			}
			await ctx.call("mailer.send", { to, subject: rendered.subject, html: rendered.html, text: rendered.text, messageId: `<${row._id}@${mailDomain()}>` });
			return { status: "sent" };
		},

		async sendPush(ctx: Ctx, row: DeliveryRow, tpl: EffectiveTemplate) {
			const part = tpl.parts.push as Record<string, string> | undefined;
			if (!part || !tpl.channels.includes("push")) return { status: "skipped", reason: "the template has no push part" };
			const late = await lateVariables(ctx, row.template, row.vars);
			if ("skip" in late) return { status: "skipped", reason: late.skip };
			let rendered;
			try {
				rendered = renderPart("push", part, { ...row.vars, ...late.vars });
			} catch (err) {
				throw new ProviderRejectedError("template", (err as Error).message);
			}
			const message = { id: row.notificationId, category: row.category, tenantId: row.tenantId, title: rendered.title, body: rendered.body, link: row.link, createdAt: row.notificationCreatedAt };
			let payload = JSON.stringify(message);
			if (Buffer.byteLength(payload) > MAX_PUSH_PAYLOAD) {
				const room = MAX_PUSH_PAYLOAD - (Buffer.byteLength(payload) - Buffer.byteLength(message.body)) - 3;
				payload = JSON.stringify({ ...message, body: `${Buffer.from(message.body).subarray(0, Math.max(0, room)).toString("utf8").replace(/\uFFFD+$/, "")}…` });
			}
			const res = (await ctx.call("pushsubscriptions.deliver", { userId: row.userId, payload, topic: row._id.slice(0, 32), exclude: row.sentTo })) as DeliverResult & { subscriptions: number };
			if (res.disabled) return { status: "skipped", reason: "Web Push is off (no VAPID keys)" };
			const sentTo = [...row.sentTo, ...res.sent];
			if (res.retry.length)
				throw Object.assign(new ProviderUnavailableError("push service", res.retry.map(r => r.reason).join("; ")), { sentTo });
			if (sentTo.length) return { status: "sent", sentTo };
			if (!res.subscriptions) return { status: "skipped", reason: "no push subscription", sentTo };
			if (res.rejected.length) throw new ProviderRejectedError("push service", res.rejected.map(r => r.reason).join("; "));
			return { status: "skipped", reason: "every subscription is gone", sentTo };
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
					const due = (await this.adapter.find({ query: { status: "held", dueAt: { $lte: iso } }, sort: ["dueAt"], limit: 500 })) as DeliveryRow[];
					for (const row of due) {
						if ((await this.setRow(row, { status: "queued", reason: null, publishedAt: null })) !== 1) continue;
						await this.publish({ ...row, status: "queued" });
						published++;
					}
					const now = Date.now();
					const lost = (await this.adapter.find({ query: { status: { $in: ["queued", "sending"] } }, sort: ["updatedAt"], limit: 500 })) as DeliveryRow[];
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
					await this.prune(Date.now() - KEEP_FINAL_MS).catch(err => this.logger.warn("delivery rows: could not prune", { error: (err as Error).message }));
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
