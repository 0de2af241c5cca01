/**
 * A delivery of one notification by one channel (e-mail or Web Push) as the deliveries service stores
 * it, the timings of its life cycle, and the methods the service shares with its attempt mixin.
 */
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import type { Category } from "../../lib/templates";
import type { DbThis } from "../../mixins/db.mixin";
import type { EffectiveTemplate } from "./notificationtemplates.service";

export type DeliveryChannel = "email" | "push";
export type DeliveryStatus = "held" | "queued" | "sending" | "sent" | "skipped" | "failed";

export interface DeliveryRow {
	_id: string;
	notificationId: string;
	channel: DeliveryChannel;
	userId: string;
	tenantId: string | null;
	/** whose templates it is rendered with (absent on older rows: the tenant's) */
	templateTenantId?: string | null;
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

export type Outcome = { status: "sent" | "skipped"; reason?: string; sentTo?: string[] };

/** A sending row older than this belongs to a worker that died (longer than any attempt may take). */
export const leaseMs = () => Math.max(config().MAIL_TIMEOUT_MS * 3, config().PUSH_TIMEOUT_MS) + 10_000;
/** A queued row untouched this long has lost its message (an embedded node restarted): published again. */
export const STUCK_MS = 5 * 60_000;
/** A queued row never published after this long (the publication failed): published again. */
export const UNPUBLISHED_MS = 30_000;
export const FINAL = new Set<DeliveryStatus>(["sent", "skipped"]);
/** Rows of deliveries that are over (sent or skipped) are removed after this long: they hold the message's variables. */
export const KEEP_FINAL_MS = 7 * 24 * 3600_000;

export const view = (r: DeliveryRow) => ({
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

export interface DeliveriesVars {
	adapter: DbThis["adapter"];
	timer?: NodeJS.Timeout;
	sweeping?: Promise<number>;
	lastPrune: number;
}

export interface DeliveriesMethods {
	publish(row: DeliveryRow): Promise<void>;
	/** Compare-and-set on the row as read (status and updatedAt); how many rows changed (0 or 1). */
	setRow(row: DeliveryRow, set: Partial<DeliveryRow>): Promise<number>;
	/** One attempt at the delivery a channel message names (claim, render, send, record the outcome). */
	run(ctx: Ctx<unknown>, id: string, channel: DeliveryChannel): Promise<void>;
	sendEmail(ctx: Ctx<unknown>, row: DeliveryRow, tpl: EffectiveTemplate): Promise<Outcome>;
	sendPush(ctx: Ctx<unknown>, row: DeliveryRow, tpl: EffectiveTemplate): Promise<Outcome>;
	sweep(asOf?: number, everything?: boolean): Promise<number>;
	prune(before: number): Promise<number>;
}
