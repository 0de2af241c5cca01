/**
 * How other services tell a user something: `notifications.send` and the channel `notifications.send`
 * (idempotent by (userId, eventId)). Renders the in-app record, applies the user's preferences and quiet
 * hours, stores the notification, hands e-mail and push to `deliveries` and pushes in-app to the user's
 * sockets. Part of the notifications service (README, "Platform: notifications").
 */
import { Errors } from "moleculer";
import { appUrl, config } from "../../lib/config";
import { asSystem, type Ctx } from "../../lib/context";
import { InvalidInputError, NotFoundError, ConflictError } from "../../lib/errors";
import { quietUntil } from "../../lib/quiet-hours";
import type { DbSettings, MixinSchema } from "../../lib/schema";
import { missingVariables, renderPart } from "../../lib/templates";
import {
	asTenantOrNobody,
	categoryParam,
	channelsParam,
	eventIdParam,
	safeLink,
	SEND_CHANNEL,
	templateKeyParam,
	userIdParam,
	varsParam,
	type Preferences,
	type SendInput,
} from "./common";
import type { Handoff, NotificationRow, NotificationsMethods, NotificationsVars, SendResult } from "./notification-model";
import type { EffectiveTemplate } from "./notificationtemplates.service";

interface SendMethods extends NotificationsMethods {
	create(ctx: Ctx<unknown>, input: SendInput, tenantId: string | null): Promise<SendResult>;
	checkMember(ctx: Ctx<unknown>, tenantId: string, userId: string): Promise<void>;
	/** The tenant whose templates a message without a tenant uses: the recipient's only tenant, or null. */
	templateTenantOf(ctx: Ctx<unknown>, userId: string): Promise<string | null>;
	/** Schedules the row's e-mail and push deliveries (idempotent), then clears its `handoff`. */
	handOver(ctx: Ctx<unknown> | null, row: NotificationRow, handoff: Handoff): Promise<void>;
	/** Hands over what a node that died left stored but not handed over; how many. */
	handOverPending(): Promise<number>;
}
interface SendVars extends NotificationsVars {
	tenantsSeen: boolean;
	lastSkipWarning: number;
	handoffTimer?: NodeJS.Timeout;
	handingOver?: Promise<number>;
}

/** A notification whose handoff is older than this was left by a node that died (or a failed call): handed over by the sweep. */
export const HANDOFF_STALE_MS = 10_000;

const sendParams = {
	userId: userIdParam,
	template: templateKeyParam,
	category: { ...categoryParam, optional: true },
	vars: varsParam,
	channels: { ...channelsParam, optional: true },
	eventId: eventIdParam,
	tenantId: { type: "string", max: 64, optional: true, nullable: true },
	// whose templates a message without a tenant uses (a tenant's invitation to an outsider); only from callers without a user
	templateTenantId: { type: "string", max: 64, optional: true },
} as const;

export const NotificationSendMixin: MixinSchema<DbSettings, SendMethods, SendVars> = {
	channels: {
		[SEND_CHANNEL]: {
			group: "notifications",
			maxRetries: 5,
			deadLettering: { enabled: true },
			async handler(ctx: Ctx<SendInput>) {
				const msg = ctx.params ?? ({} as SendInput);
				// Channel messages are validated like the action's params; a malformed one can never succeed (dead letters).
				await ctx.call("notifications.send", msg, asTenantOrNobody(null));
			},
		},
	},

	actions: {
		send: {
			visibility: "public",
			// A repeat with the same eventId is harmless (it returns the stored notification): safe to retry.
			idempotent: true,
			summary: "Notify a user: { userId, template, category?, vars, channels?, eventId }. Idempotent by eventId.",
			params: { $$strict: true, ...sendParams },
			async handler(ctx: Ctx<SendInput>) {
				// A tenant-scoped caller sends within its tenant, whatever the params say; only a call without a
				// user (a channel message, another service acting as nobody) may name the tenant.
				const tenantId = ctx.meta.user ? (ctx.meta.user.tenantId ?? null) : (ctx.params.tenantId ?? null);
				return this.create(ctx, ctx.params, tenantId);
			},
		},
	},

	methods: {
		async handOver(ctx: Ctx<unknown> | null, row: NotificationRow, handoff: Handoff) {
			const params = {
				notificationId: row._id,
				userId: row.userId,
				tenantId: row.tenantId ?? null,
				category: row.category,
				template: row.template,
				vars: handoff.vars,
				link: row.link ?? null,
				createdAt: row.createdAt,
				channels: handoff.channels,
				...(handoff.notBefore && { notBefore: handoff.notBefore }),
				...(handoff.templateTenantId && { templateTenantId: handoff.templateTenantId }),
			};
			if (ctx) await ctx.call("deliveries.schedule", params);
			else await this.broker.call("deliveries.schedule", params, asTenantOrNobody(null));
			if (row.handoff) await this.adapter.updateMany({ _id: row._id }, { $set: { handoff: null } });
		},

		handOverPending() {
			this.handingOver ??= (async () => {
				let n = 0;
				try {
					const stale = new Date(Date.now() - HANDOFF_STALE_MS).toISOString();
					const rows = (await this.adapter.find({
						// (not `handoff: { $ne: null }`: rows stored before handoffs were recorded have none, and would match)
						query: { "handoff.channels": { $exists: true }, updatedAt: { $lt: stale } },
						sort: ["updatedAt"],
						limit: 500,
					})) as NotificationRow[];
					for (const row of rows) {
						if (!row.handoff) continue;
						await this.handOver(null, row, row.handoff);
						n++;
					}
				} catch (err) {
					this.logger.warn("notification handoff sweep: will try again", { error: (err as Error).message });
				} finally {
					this.handingOver = undefined;
				}
				if (n) this.logger.info("notification handoff sweep: handed over", { notifications: n });
				return n;
			})();
			return this.handingOver;
		},

		async checkMember(ctx: Ctx<unknown>, tenantId: string, userId: string) {
			// As CRM's assignees (services/crm/membership.ts): checked when identity's tenants service runs; skipped
			// with a warning on a node that never saw it (platform-only tests); 503 once seen and gone (fail closed).
			if (!this.broker.registry.getActionEndpoints("tenants.membership")?.hasAvailable()) {
				if (this.tenantsSeen) throw new Errors.ServiceNotAvailableError({ action: "tenants.membership", nodeID: this.broker.nodeID });
				if (Date.now() - this.lastSkipWarning > 60_000) {
					this.lastSkipWarning = Date.now();
					this.logger.warn("tenant membership of a notification's recipient NOT checked: the tenants service is not running", { tenantId });
				}
				return;
			}
			this.tenantsSeen = true;
			const member = await ctx.call("tenants.membership", { tenantId, userId }, asSystem(tenantId));
			if (!member) throw new NotFoundError("No such user.", userId);
		},

		async templateTenantOf(ctx: Ctx<unknown>, userId: string) {
			// The recipient's tenant, when they have exactly one (identity's memberships); else none (the platform's words).
			if (!this.broker.registry.getActionEndpoints("tenants.membershipsOf")?.hasAvailable()) return null;
			const mine = (await ctx.call("tenants.membershipsOf", { userId }, asTenantOrNobody(null))) as { tenantId: string }[];
			return mine.length === 1 ? mine[0].tenantId : null;
		},

		async create(ctx: Ctx<unknown>, input: SendInput, tenantId: string | null): Promise<SendResult> {
			const { userId, eventId } = input;
			// A message without a tenant is written in its recipient's tenant's words when that is known (README, "Templates").
			const named = ctx.meta.user ? undefined : input.templateTenantId;
			const templateTenantId = tenantId ?? named ?? (await this.templateTenantOf(ctx, userId));
			const tpl = (await ctx.call(
				"notificationtemplates.resolve",
				{ key: input.template, forTenant: templateTenantId },
				asTenantOrNobody(null),
			)) as EffectiveTemplate | null;
			if (!tpl)
				throw new InvalidInputError("Unknown template.", [
					{ field: "template", message: `no message '${input.template}' exists${tenantId ? " for this tenant" : ""}` },
				]);
			const vars = input.vars ?? {};
			const missing = missingVariables(tpl, vars);
			if (missing.length)
				throw new InvalidInputError(
					"Variables are missing.",
					missing.map(m => ({ field: `vars.${m}`, message: `is required by the message '${tpl.key}'` })),
				);
			if (tenantId) await this.checkMember(ctx, tenantId, userId);

			const existing = (await this.adapter.findOne({ userId, eventId })) as NotificationRow | null;
			const category = existing?.category ?? input.category ?? tpl.category;
			const prefs = (await ctx.call("notificationprefs.forUser", { userId })) as Preferences;
			const wanted = (input.channels ?? tpl.channels).filter(c => tpl.channels.includes(c) && tpl.parts[c] && prefs.categories[category][c]);
			const profile = (await ctx.call("users.getProfile", { id: userId }).catch(() => null)) as { name?: string } | null;
			const allVars = { ...vars, recipient: { id: userId, name: profile?.name ?? "there" }, app: { name: "Valence", url: appUrl(config()) } };

			// Quiet hours hold e-mail and push, never in-app; a security message (a reset the user just asked for) is never held.
			const until = category === "security" ? null : quietUntil(Date.now(), prefs.quietHours, prefs.timeZone);
			const external = wanted.filter((c): c is "email" | "push" => c === "email" || c === "push");
			const freshHandoff: Handoff | null = external.length
				? { channels: external, vars: allVars, notBefore: until ? new Date(until).toISOString() : null, templateTenantId }
				: null;

			let row = existing;
			let created = false;
			if (!row) {
				let inApp: Record<string, string>;
				try {
					inApp = renderPart("inApp", tpl.parts.inApp as Record<string, string>, allVars);
				} catch (err) {
					throw new InvalidInputError("The message does not render with these variables.", [
						{ field: "vars", message: (err as Error).message },
					]);
				}
				const entity = {
					tenantId,
					userId,
					eventId,
					category,
					template: tpl.key,
					title: inApp.title.slice(0, 500),
					body: inApp.body.slice(0, 4000),
					link: safeLink(inApp.link),
					data: vars,
					readAt: null,
					inApp: wanted.includes("inApp"),
					// The e-mail and push deliveries still to hand to `deliveries`, in the same write as the notification:
					// cleared once handed over; a node that dies before that leaves it for the sweep (handOverPending).
					handoff: freshHandoff,
				};
				try {
					const stored = await this._create(ctx, entity);
					row = (await this.adapter.findById(stored.id)) as NotificationRow;
					created = true;
				} catch (err) {
					if (!(err instanceof ConflictError)) throw err;
					row = (await this.adapter.findOne({ userId, eventId })) as NotificationRow; // a concurrent repeat stored it first
				}
			}

			if (row.tenantId !== tenantId) throw new NotFoundError("No such user.", userId); // the eventId belongs to another tenant's message

			// A repeat completes a handoff the first attempt stored but did not finish (as the sweep would), with what it stored.
			const handoff: Handoff | null = row.handoff ?? (created ? null : freshHandoff);
			if (handoff) await this.handOver(ctx, row, handoff);
			const notification = this.toPublic(row);
			// A tenant's notification only reaches sockets scoped to that tenant (the list shows it only there); others reach every socket.
			if (created && row.inApp) this.push(userId, "notification", { notification }, tenantId ?? undefined);
			return { notification, created, channels: wanted, heldUntil: until && external.length ? new Date(until).toISOString() : null };
		},
	},

	created() {
		this.tenantsSeen = false;
		this.lastSkipWarning = 0;
	},
	started() {
		this.handoffTimer = setInterval(() => void this.handOverPending(), config().NOTIFY_SCHEDULER_INTERVAL_MS);
		this.handoffTimer.unref();
	},
	async stopped() {
		clearInterval(this.handoffTimer);
		await this.handingOver;
	},
};
