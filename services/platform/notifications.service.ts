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
import type { AuthUser } from "../../lib/access";
import { currentUser, type Ctx } from "../../lib/context";
import { InvalidCursorError, NotFoundError } from "../../lib/errors";
import { REALTIME_DELIVER, type RealtimeMessage } from "../../lib/realtime";
import type { DbSettings, MixinSchema, ServiceSchema } from "../../lib/schema";
import type { Category } from "../../lib/templates";
import { entityOf } from "../../middlewares/entity.middleware";
import { DbMixin } from "../../mixins/db.mixin";
import { categoryParam, decodeCursor, encodeCursor, idParam, userIdParam, type Notification } from "./common";
import type { NotificationRow, NotificationsMethods, NotificationsVars, Query } from "./notification-model";
import { NotificationSendMixin } from "./notification-send.mixin";

export type { SendResult } from "./notification-model";

const NotificationsService: ServiceSchema<DbSettings, NotificationsMethods, NotificationsVars> = {
	name: "notifications",
	mixins: [
		// DbMixin's and the send mixin's own `this` types are not Moleculer's default mixin type.
		DbMixin({
			collection: "notifications",
			indexes: [{ fields: ["userId", "eventId"], unique: true }, { fields: ["userId"] }],
		}) as MixinSchema,
		NotificationSendMixin as MixinSchema,
	],
	settings: { fields: ["id"] },

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
				const user = currentUser(ctx);
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
				const rows = (await this.adapter.find({ query, sort: ["-_id"], limit: limit + 1 })) as NotificationRow[];
				const items = rows.slice(0, limit).map(r => this.toPublic(r));
				return {
					items,
					nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1].id) : null,
					unreadCount: await this.unreadCount(user),
				};
			},
		},
		unread: {
			rest: "GET /unread-count",
			auth: "required",
			summary: "How many of your notifications are unread.",
			params: { $$strict: true },
			async handler(ctx: Ctx) {
				return { unreadCount: await this.unreadCount(currentUser(ctx)) };
			},
		},
		getOne: {
			rest: "GET /:id",
			auth: "required",
			summary: "One of your notifications.",
			params: { $$strict: true, id: idParam },
			entity: "myNotification",
			handler(ctx: Ctx<{ id: string }>) {
				return this.toPublic(entityOf<NotificationRow>(ctx));
			},
		},
		markRead: {
			rest: "POST /:id/read",
			auth: "required",
			idempotent: true,
			summary: "Mark one of your notifications read (again: no change).",
			params: { $$strict: true, id: idParam },
			entity: "myNotification",
			async handler(ctx: Ctx<{ id: string }>) {
				const user = currentUser(ctx);
				const row = entityOf<NotificationRow>(ctx);
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
				const user = currentUser(ctx);
				const readAt = new Date().toISOString();
				const updated = await this.adapter.updateMany(
					this.mine(user, { readAt: null, ...(ctx.params.category && { category: ctx.params.category }) }),
					{
						$set: { readAt, updatedAt: readAt },
					},
				);
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
			entity: "myNotification",
			async handler(ctx: Ctx<{ id: string }>) {
				const user = currentUser(ctx);
				const row = entityOf<NotificationRow>(ctx);
				await this.adapter.removeMany(this.mine(user, { _id: row._id }));
				if (!row.readAt) this.push(user.id, "notifications.unread", { unreadCount: await this.unreadCount(user) }, user.tenantId);
				ctx.meta.$statusCode = 204;
				return null;
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
		toPublic(row: NotificationRow): Notification {
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
		myNotification(ctx: Ctx<unknown>, id: string) {
			return this.adapter.findOne(this.mine(currentUser(ctx), { _id: id })) as Promise<NotificationRow | null>;
		},
		async findMine(user: AuthUser, id: string) {
			const row = (await this.adapter.findOne(this.mine(user, { _id: id }))) as NotificationRow | null;
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
	},
};

export default NotificationsService;
