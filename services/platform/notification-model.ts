/**
 * A notification as the notifications service stores it, and the methods its send mixin shares with it.
 */
import type { AuthUser } from "../../lib/access";
import type { Ctx } from "../../lib/context";
import type { Channel } from "../../lib/templates";
import type { DbThis } from "../../mixins/db.mixin";
import type { Notification } from "./common";

/**
 * The e-mail and push deliveries of a notification not yet handed to `deliveries`: stored in the same write
 * as the notification, cleared once `deliveries.schedule` (idempotent) has them.
 */
export interface Handoff {
	channels: ("email" | "push")[];
	/** the sender's vars plus the recipient and the app, as rendered for the in-app record */
	vars: Record<string, unknown>;
	/** quiet hours: not before this time */
	notBefore: string | null;
	/** whose templates the e-mail and push use (the notification's tenant, else the recipient's): null, the platform's */
	templateTenantId?: string | null;
}

export type NotificationRow = Omit<Notification, "id"> & {
	_id: string;
	eventId: string;
	inApp: boolean;
	updatedAt: string;
	/** absent on rows stored before handoffs were recorded */
	handoff?: Handoff | null;
};
export type Query = Record<string, unknown>;

export interface SendResult {
	notification: Notification;
	/** false when this eventId was seen before for this user (nothing new was sent) */
	created: boolean;
	/** the channels this notification goes to */
	channels: Channel[];
	/** e-mail and push wait until this time (quiet hours), when they do */
	heldUntil: string | null;
}

export interface NotificationsVars {
	adapter: DbThis["adapter"];
}

export interface NotificationsMethods {
	mine(user: AuthUser, extra?: Query): Query;
	toPublic(row: NotificationRow): Notification;
	/** One of the caller's notifications, or null (the `entity:` loader of the actions on one notification). */
	myNotification(ctx: Ctx<unknown>, id: string): Promise<NotificationRow | null>;
	/** One of the user's notifications, or 404. */
	findMine(user: AuthUser, id: string): Promise<NotificationRow>;
	unreadCount(user: AuthUser): Promise<number>;
	/** to the user's sockets; with a `scope` (a tenant id, or null for none), only to those whose token has that scope */
	push(userId: string, event: string, data: unknown, scope?: string | null): void;
	/** DbMixin's (moleculer-db's) entity method: ids, timestamps and the unique keys it keeps (DbMixin exports no methods type). */
	_create(ctx: Ctx<unknown>, entity: Record<string, unknown>): Promise<{ id: string }>;
}
