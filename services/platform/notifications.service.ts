/**
 * Notifications (README, "Platform: notifications"): the record of what a user was told, at
 * `/api/notifications`, and the one way other services tell them something.
 *
 * - `send` (internal action) and the channel `notifications.send` take `{ userId, template, category?,
 *   vars, channels?, eventId }`, idempotent by (userId, eventId): a repeat returns the stored notification
 *   and sends nothing twice. The template (the tenant's, else the built-in) is rendered for the in-app
 *   record; the user's preferences choose the channels; e-mail and push become delivery rows of the
 *   `deliveries` service (held until the user's quiet hours end); in-app is stored at once and pushed to the
 *   user's open sockets (`realtime.deliver`: a fast path, the list stays the record).
 * - Tenants: a notification made by a tenant-scoped call (or a channel message naming `tenantId`) belongs to
 *   that tenant, and its recipient must be a member: anyone else is 404, exactly like an unknown user.
 *   Notifications without a tenant (social, identity) are the user's own. A user sees their notifications
 *   without a tenant and those of the tenant their token is scoped to: `mine()` is the one place that says so.
 *   (TenantDbMixin is not used: it requires a tenant on every call, and most notifications have none.)
 */
import type { ServiceSchema, ServiceSettingSchema } from "moleculer";
import { Errors } from "moleculer";
import type { AuthUser } from "../../lib/access";
import { appUrl, config } from "../../lib/config";
import { InvalidCursorError, InvalidInputError, NotFoundError } from "../../lib/errors";
import { quietUntil } from "../../lib/quiet-hours";
import { REALTIME_DELIVER, type RealtimeMessage } from "../../lib/realtime";
import { missingVariables, renderPart, type Category, type Channel } from "../../lib/templates";
import { DbMixin, isDuplicateKeyError, type DbThis } from "../../mixins/db.mixin";
import {
	asSystem,
	callerOf,
	categoryParam,
	channelsParam,
	decodeCursor,
	encodeCursor,
	eventIdParam,
	idParam,
	safeLink,
	SEND_CHANNEL,
	templateKeyParam,
	userIdParam,
	varsParam,
	type Ctx,
	type Notification,
	type Preferences,
	type SendInput,
} from "./common";
import type { EffectiveTemplate } from "./notificationtemplates.service";

type Row = Omit<Notification, "id"> & { _id: string; eventId: string; inApp: boolean; updatedAt: string };
type Query = Record<string, unknown>;

export interface SendResult {
	notification: Notification;
	/** false when this eventId was seen before for this user (nothing new was sent) */
	created: boolean;
	/** the channels this notification goes to */
	channels: Channel[];
	/** e-mail and push wait until this time (quiet hours), when they do */
	heldUntil: string | null;
}

interface NotificationsVars {
	adapter: DbThis["adapter"];
	tenantsSeen: boolean;
	lastSkipWarning: number;
}
interface NotificationsMethods {
	mine(user: AuthUser, extra?: Query): Query;
	toPublic(row: Row): Notification;
	findMine(user: AuthUser, id: string): Promise<Row>;
	unreadCount(user: AuthUser): Promise<number>;
	/** to the user's sockets; with a `scope` (a tenant id, or null for none), only to those whose token has that scope */
	push(userId: string, event: string, data: unknown, scope?: string | null): void;
	create(ctx: Ctx, input: SendInput, tenantId: string | null): Promise<SendResult>;
	checkMember(ctx: Ctx, tenantId: string, userId: string): Promise<void>;
}

const sendParams = {
	userId: userIdParam,
	template: templateKeyParam,
	category: { ...categoryParam, optional: true },
	vars: varsParam,
	channels: { ...channelsParam, optional: true },
	eventId: eventIdParam,
	tenantId: { type: "string", max: 64, optional: true, nullable: true },
} as const;

const NotificationsService: ServiceSchema<ServiceSettingSchema & Record<string, unknown>, NotificationsMethods, NotificationsVars> = {
	name: "notifications",
	mixins: [
		DbMixin({
			collection: "notifications",
			indexes: [{ fields: ["userId", "eventId"], unique: true }, { fields: ["userId"] }],
		}) as Partial<ServiceSchema>,
	],
	settings: { fields: ["id"] },

	channels: {
		[SEND_CHANNEL]: {
			group: "notifications",
			maxRetries: 5,
			deadLettering: { enabled: true },
			async handler(ctx: Ctx<SendInput>) {
				const msg = ctx.params ?? ({} as SendInput);
				// Channel messages are validated like the action's params; a malformed one can never succeed (dead letters).
				await ctx.call("notifications.send", msg, asSystem(null));
			},
		},
	},

	actions: {
		listMine: {
			rest: "GET /",
			auth: "required",
			summary: "Your notifications, newest first. `cursor` continues a page; `after` (an id) only what is newer, for catching up.",
			params: {
				$$strict: true,
				cursor: { type: "string", max: 200, optional: true },
				after: { type: "string", max: 64, optional: true },
				limit: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
				unread: { type: "boolean", convert: true, optional: true },
				category: { ...categoryParam, optional: true },
			},
			async handler(ctx: Ctx<{ cursor?: string; after?: string; limit: number; unread?: boolean; category?: Category }>) {
				const user = callerOf(ctx);
				const { cursor, after, limit, unread, category } = ctx.params;
				const idRange: Query = {};
				if (cursor) {
					const before = decodeCursor(cursor);
					if (!before) throw new InvalidCursorError();
					idRange.$lt = before;
				}
				if (after) idRange.$gt = after;
				const query = this.mine(user, {
					...(unread === true && { readAt: null }),
					...(unread === false && { readAt: { $ne: null } }),
					...(category && { category }),
					...(Object.keys(idRange).length && { _id: idRange }),
				});
				const rows = (await this.adapter.find({ query, sort: ["-_id"], limit: limit + 1 })) as Row[];
				const items = rows.slice(0, limit).map(r => this.toPublic(r));
				return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].id) : null, unreadCount: await this.unreadCount(user) };
			},
		},
		unread: {
			rest: "GET /unread-count",
			auth: "required",
			summary: "How many of your notifications are unread.",
			params: { $$strict: true },
			async handler(ctx: Ctx) {
				return { unreadCount: await this.unreadCount(callerOf(ctx)) };
			},
		},
		getOne: {
			rest: "GET /:id",
			auth: "required",
			summary: "One of your notifications.",
			params: { $$strict: true, id: idParam },
			async handler(ctx: Ctx<{ id: string }>) {
				return this.toPublic(await this.findMine(callerOf(ctx), ctx.params.id));
			},
		},
		markRead: {
			rest: "POST /:id/read",
			auth: "required",
			idempotent: true,
			summary: "Mark one of your notifications read (again: no change).",
			params: { $$strict: true, id: idParam },
			async handler(ctx: Ctx<{ id: string }>) {
				const user = callerOf(ctx);
				const row = await this.findMine(user, ctx.params.id);
				if (!row.readAt) {
					const readAt = new Date().toISOString();
					await this.adapter.updateMany(this.mine(user, { _id: row._id, readAt: null }), { $set: { readAt, updatedAt: readAt } });
					this.push(user.id, "notifications.unread", { unreadCount: await this.unreadCount(user) }, user.tenantId);
				}
				return this.toPublic(await this.findMine(user, ctx.params.id));
			},
		},
		markAllRead: {
			rest: "POST /read-all",
			auth: "required",
			idempotent: true,
			summary: "Mark all your notifications read (or those of one category).",
			params: { $$strict: true, category: { ...categoryParam, optional: true } },
			async handler(ctx: Ctx<{ category?: Category }>) {
				const user = callerOf(ctx);
				const readAt = new Date().toISOString();
				const updated = await this.adapter.updateMany(this.mine(user, { readAt: null, ...(ctx.params.category && { category: ctx.params.category }) }), {
					$set: { readAt, updatedAt: readAt },
				});
				const unreadCount = await this.unreadCount(user);
				if (updated) this.push(user.id, "notifications.unread", { unreadCount }, user.tenantId);
				return { updated, unreadCount };
			},
		},
		removeOne: {
			rest: "DELETE /:id",
			auth: "required",
			summary: "Delete one of your notifications.",
			params: { $$strict: true, id: idParam },
			async handler(ctx: Ctx<{ id: string }>) {
				const user = callerOf(ctx);
				const row = await this.findMine(user, ctx.params.id);
				await this.adapter.removeMany(this.mine(user, { _id: row._id }));
				if (!row.readAt) this.push(user.id, "notifications.unread", { unreadCount: await this.unreadCount(user) }, user.tenantId);
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

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
		countFor: {
			visibility: "public",
			idempotent: true,
			summary: "How many notifications a user has (operators, tests).",
			params: { $$strict: true, userId: userIdParam },
			handler(ctx: Ctx<{ userId: string }>) {
				return this.adapter.count({ query: { userId: ctx.params.userId } });
			},
		},
	},

	methods: {
		/** The caller's notifications: theirs, without a tenant or of the tenant their token is scoped to. */
		mine(user: AuthUser, extra: Query = {}) {
			return { ...extra, userId: user.id, inApp: true, tenantId: { $in: user.tenantId ? [null, user.tenantId] : [null] } };
		},
		toPublic(row: Row): Notification {
			return {
				id: row._id,
				tenantId: row.tenantId ?? null,
				userId: row.userId,
				category: row.category,
				template: row.template,
				title: row.title,
				body: row.body,
				link: row.link ?? null,
				data: row.data ?? {},
				readAt: row.readAt ?? null,
				createdAt: row.createdAt,
			};
		},
		async findMine(user: AuthUser, id: string) {
			const row = (await this.adapter.findOne(this.mine(user, { _id: id }))) as Row | null;
			if (!row) throw new NotFoundError("No such notification.", id);
			return row;
		},
		unreadCount(user: AuthUser) {
			return this.adapter.count({ query: this.mine(user, { readAt: null }) });
		},
		/** The socket fast path (services/gateway/realtime.service.ts): every gateway node emits to its own sockets. */
		push(userId: string, event: string, data: unknown, scope?: string | null) {
			const message: RealtimeMessage = { target: "user", id: userId, ...(scope !== undefined && { scope }), event, data };
			void this.broker.broadcast(REALTIME_DELIVER, message).catch(() => undefined);
		},

		async checkMember(ctx: Ctx, tenantId: string, userId: string) {
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

		async create(ctx: Ctx, input: SendInput, tenantId: string | null): Promise<SendResult> {
			const { userId, eventId } = input;
			const tpl = (await ctx.call("notificationtemplates.resolve", { key: input.template }, asSystem(tenantId))) as EffectiveTemplate | null;
			if (!tpl) throw new InvalidInputError("Unknown template.", [{ field: "template", message: `no message '${input.template}' exists${tenantId ? " for this tenant" : ""}` }]);
			const vars = input.vars ?? {};
			const missing = missingVariables(tpl, vars);
			if (missing.length) throw new InvalidInputError("Variables are missing.", missing.map(m => ({ field: `vars.${m}`, message: `is required by the message '${tpl.key}'` })));
			if (tenantId) await this.checkMember(ctx, tenantId, userId);

			const existing = (await this.adapter.findOne({ userId, eventId })) as Row | null;
			const category = existing?.category ?? input.category ?? tpl.category;
			const prefs = (await ctx.call("notificationprefs.forUser", { userId })) as Preferences;
			const wanted = (input.channels ?? tpl.channels).filter(c => tpl.channels.includes(c) && tpl.parts[c] && prefs.categories[category][c]);
			const profile = (await ctx.call("users.getProfile", { id: userId }).catch(() => null)) as { name?: string } | null;
			const allVars = { ...vars, recipient: { id: userId, name: profile?.name ?? "there" }, app: { name: "Valence", url: appUrl(config()) } };

			let row = existing;
			let created = false;
			if (!row) {
				let inApp: Record<string, string>;
				try {
					inApp = renderPart("inApp", tpl.parts.inApp as Record<string, string>, allVars);
				} catch (err) {
					throw new InvalidInputError("The message does not render with these variables.", [{ field: "vars", message: (err as Error).message }]);
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
				};
				try {
					const stored = (await (this as unknown as { _create(c: Ctx, e: unknown): Promise<{ id: string }> })._create(ctx, entity)) as { id: string };
					row = (await this.adapter.findById(stored.id)) as Row;
					created = true;
				} catch (err) {
					if (!(isDuplicateKeyError(err) || (err as { code?: number }).code === 409)) throw err;
					row = (await this.adapter.findOne({ userId, eventId })) as Row; // a concurrent repeat stored it first
				}
			}
			if (row.tenantId !== tenantId) throw new NotFoundError("No such user.", userId); // the eventId belongs to another tenant's message

			// Quiet hours hold e-mail and push, never in-app; a security message (a reset the user just asked for) is never held.
			const until = category === "security" ? null : quietUntil(Date.now(), prefs.quietHours, prefs.timeZone);
			const external = wanted.filter((c): c is "email" | "push" => c === "email" || c === "push");
			if (external.length)
				// Also on a repeat: a first attempt that stored the notification but failed here is completed now.
				await ctx.call("deliveries.schedule", {
					notificationId: row._id,
					userId,
					tenantId,
					category,
					template: tpl.key,
					vars: allVars,
					link: row.link ?? null,
					createdAt: row.createdAt,
					channels: external,
					...(until && { notBefore: new Date(until).toISOString() }),
				});
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
};

export default NotificationsService;
