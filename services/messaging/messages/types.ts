/** What the messages service stores and calls: its rows, the methods its modules add, and `this`. */
import type { Ctx } from "../../../lib/context";
import type { DbSettings, ServiceThis } from "../../../lib/schema";
import type { OutboxMethods } from "../../../mixins/outbox.mixin";
import type { Row, TenantDbMethods } from "../../../mixins/tenant.mixin";
import type { ChannelKind } from "../common";

export interface OutboundContent {
	text?: string;
	/** by URL, or a media-service upload of the sender's (`mediaId`; its public URL is what Meta fetches) */
	attachment?: { type: "image" | "video" | "audio" | "file"; url: string; mediaId?: string };
	/** an approved WhatsApp template */
	template?: { name: string; language: string; components?: unknown[] };
	quickReplies?: { title: string; payload: string }[];
	buttons?: ({ type: "postback"; title: string; payload: string } | { type: "url"; title: string; url: string })[];
	/** the saved template (messagingtemplates) this was rendered from */
	templateId?: string;
}
export interface MessageRow extends Row {
	conversationId: string;
	direction: "in" | "out";
	dedupeKey: string;
	externalId: string | null;
	kind: ChannelKind;
	text: string | null;
	content: OutboundContent | null;
	attachments: { type: string; url: string | null }[];
	postback: { title: string | null; payload: string } | null;
	reaction: { emoji: string | null; action: string; messageId: string } | null;
	/** `sending`: handed to the Graph API without an answer yet (since `sendingAt`) */
	status: "received" | "queued" | "sending" | "sent" | "delivered" | "read" | "failed";
	sendingAt?: string | null;
	/** inbound: what the flows are to see of it, until they have (null after) */
	flowPending?: FlowFacts | null;
	/** when Meta took it (a watermark receipt covers the messages sent up to its time) */
	sentAt?: string | null;
	error: { code: number | null; title: string | null; message: string | null } | null;
	sentBy: string | null;
	at: string;
}

/** The conversation a message is sent in, as messagingconversations.forSend answers it. */
export interface SendTarget {
	kind: ChannelKind;
	customerId: string;
	lastInboundAt: string | null;
}

export type SendParams = {
	conversationId: string;
	text?: string;
	attachment?: { type?: "image" | "video" | "audio" | "file"; url?: string; mediaId?: string };
	template?: OutboundContent["template"];
	templateId?: string;
	vars: Record<string, unknown>;
};
/** What flow triggers need to know of an inbound message, as its first processing saw it. */
export type FlowFacts = { customerCreated: boolean; reopened: boolean };
export type InboundParams = Omit<MessageRow, "_id" | "tenantId" | "direction" | "status" | "error" | "sentBy" | "content" | "flowPending"> & {
	flow: FlowFacts | null;
};
export type StatusParams = { externalIds: string[]; status: MessageRow["status"]; error?: MessageRow["error"] };
export type MarkSentParams = { id: string; externalId?: string; error?: MessageRow["error"] };
export type BeginSendParams = { id: string; status: "queued" | "sending"; sendingAt?: string | null };
export type WatermarkParams = { conversationId: string; status: "delivered" | "read"; watermark: string };

export interface MessagesMethods extends TenantDbMethods, OutboxMethods {
	// send.ts
	sendMessage(ctx: Ctx<SendParams>): Promise<unknown>;
	fromTemplate(ctx: Ctx<unknown>, conv: SendTarget, templateId: string, vars: Record<string, unknown>): Promise<OutboundContent>;
	mediaAttachment(ctx: Ctx<unknown>, mediaId: string): Promise<NonNullable<OutboundContent["attachment"]>>;
	// delivery.ts
	recordInbound(
		ctx: Ctx<InboundParams>,
	): Promise<{ created: boolean; messageId: string; flowPending: FlowFacts | null; message: Record<string, unknown> | null }>;
	markFlowHandled(ctx: Ctx<{ id: string }>): Promise<{ ok: true }>;
	applyStatus(ctx: Ctx<StatusParams>): Promise<{ matched: number; changed: string[] }>;
	forDelivery(ctx: Ctx<{ id: string }>): Promise<Record<string, unknown>>;
	/** the `markSent` action (not named so: OutboxMixin has a `markSent` method) */
	markSendResult(ctx: Ctx<MarkSentParams>): Promise<unknown>;
	beginSend(ctx: Ctx<BeginSendParams>): Promise<{ claimed: boolean; sendingAt: string }>;
	releaseSend(ctx: Ctx<{ id: string; sendingAt: string }>): Promise<{ released: boolean }>;
	applyWatermark(ctx: Ctx<WatermarkParams>): Promise<{ changed: string[] }>;
	// the service
	messageOr404(ctx: Ctx<unknown>, id: string): Promise<MessageRow>;
	announce(ctx: Ctx<unknown>, row: MessageRow, event: "messaging.message.created" | "messaging.message.updated"): Record<string, unknown>;
}

export type MessagesThis = ServiceThis<DbSettings, MessagesMethods>;

/** Some of the messages methods, written in a module beside the service (`this` is the service). */
export type MessagesMethodsOf<K extends keyof MessagesMethods> = Pick<MessagesMethods, K> & ThisType<MessagesThis>;

/** What a conversation shows of its last message. */
export const preview = (row: MessageRow) => ({
	id: row._id,
	direction: row.direction,
	text:
		(
			row.text ??
			(row.content?.template ? `[template ${row.content.template.name}]` : row.attachments[0] ? `[${row.attachments[0].type}]` : null)
		)?.slice(0, 200) ?? null,
	at: row.at,
});
