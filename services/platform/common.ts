/**
 * Shared pieces of the platform's notification services (README, "Platform: notifications"): the
 * channel names, who a call acts as, validation fragments, and the shapes crossing between services.
 */
import type { AuthUser } from "../../lib/access";
import { asSystem, type Meta } from "../../lib/context";
import { CATEGORIES, CHANNELS, type Category, type Channel } from "../../lib/templates";

/** Channels (@moleculer/channels) of the notification pipeline. */
export const SEND_CHANNEL = "notifications.send";
export const deliveryChannel = (channel: "email" | "push") => `notifications.deliver.${channel}`;

/**
 * Who a channel handler or an internal call acts as: a tenant's system identity (lib/context
 * `asSystem`), or nobody for what has no tenant (social, identity). Notifications are mostly the latter.
 */
export function asTenantOrNobody(tenantId: string | null): { meta: Meta } {
	return tenantId ? asSystem(tenantId) : { meta: { user: null } };
}

/** A call made as this user (to apply their visibility rules elsewhere, e.g. whether they may see a post). */
export function asUser(userId: string): { meta: Meta } {
	return { meta: { user: { id: userId, tenantId: null, roles: [] } satisfies AuthUser } };
}

export { sendToChannel } from "../../lib/channels";

/** Validation fragments (fastest-validator); every string has a `max`. */
export const idParam = { type: "string", min: 1, max: 64, trim: true } as const;
export const userIdParam = { type: "string", min: 1, max: 128, trim: true } as const;
export const eventIdParam = { type: "string", min: 1, max: 200, trim: true } as const;
export const templateKeyParam = { type: "string", min: 2, max: 64, pattern: /^[a-z][a-z0-9-]{1,63}$/ } as const;
export const categoryParam = { type: "enum", values: [...CATEGORIES] } as const;
export const channelsParam = { type: "array", items: { type: "enum", values: [...CHANNELS] }, unique: true, min: 1, max: CHANNELS.length } as const;

/** The largest `vars` a sender may pass (serialized), so one message cannot bloat the store or a channel. */
export const MAX_VARS_BYTES = 8 * 1024;
export const varsParam = {
	type: "object",
	optional: true,
	default: {},
	custom: (value: unknown, errors: { type: string; actual: unknown; expected?: unknown }[]) => {
		if (value && Buffer.byteLength(JSON.stringify(value)) > MAX_VARS_BYTES)
			errors.push({ type: "objectMaxProps", actual: "too large", expected: `${MAX_VARS_BYTES} bytes` });
		return value;
	},
	messages: { objectMaxProps: "The 'vars' field must be at most 8 KB (as JSON)." },
} as const;

/** What `notifications.send` takes, from an action call or the `notifications.send` channel. */
export interface SendInput {
	userId: string;
	template: string;
	category?: Category;
	vars?: Record<string, unknown>;
	channels?: Channel[];
	eventId: string;
	/** channel messages and internal calls without a user name their tenant here */
	tenantId?: string | null;
	/** a message without a tenant written in this tenant's words (else the recipient's only tenant's, else the platform's) */
	templateTenantId?: string;
}

/** A notification as callers see it. */
export interface Notification {
	id: string;
	tenantId: string | null;
	userId: string;
	category: Category;
	template: string;
	title: string;
	body: string;
	link: string | null;
	data: Record<string, unknown>;
	readAt: string | null;
	createdAt: string;
}

/** Effective preferences of a user (defaults merged with what they saved). */
export interface Preferences {
	categories: Record<Category, Record<Channel, boolean>>;
	quietHours: { start: string; end: string } | null;
	timeZone: string;
}

/** Opaque list cursor: base64url of the last item's id. */
export const encodeCursor = (id: string) => Buffer.from(JSON.stringify({ i: id })).toString("base64url");
export function decodeCursor(cursor: string): string | null {
	try {
		const v = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as { i?: unknown };
		return typeof v.i === "string" && v.i.length <= 64 ? v.i : null;
	} catch {
		return null;
	}
}

/** A rendered link is kept only when it is an http(s) URL (a template cannot make a `javascript:` link). */
export function safeLink(link: string | undefined): string | null {
	if (!link) return null;
	try {
		const u = new URL(link);
		return u.protocol === "https:" || u.protocol === "http:" ? u.toString() : null;
	} catch {
		return null;
	}
}
