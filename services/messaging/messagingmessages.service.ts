/**
 * Messages of conversations (README, "Messaging domain" → "Conversations and messages"):
 * - inbound ones are recorded by webhook processing, once per Meta message id (`dedupeKey`, unique per
 *   tenant: a redelivered event finds its message stored and does nothing);
 * - outbound ones are `POST /api/messaging/conversations/:id/messages`: stored `queued` and handed to
 *   the `messaging.outbound` channel through the outbox (202); the processor claims a send (`sending`),
 *   sends it through the Graph API and marks it `sent` (with Meta's id) or `failed`. A send whose answer
 *   was lost stays `sending` until Meta's echo confirms it, or GRAPH_SEND_CONFIRM_MS pass and it is sent
 *   again. With an `Idempotency-Key` a retried send is the same message (200 with it). Outside Meta's
 *   24-hour window only a template may be sent (422);
 * - statuses from the webhooks move a message forward only: queued → sending → sent → delivered → read
 *   (failed carries Meta's error); a receipt with only a watermark moves every message sent up to its time.
 * New messages and status changes go to the dashboard as the realtime events `messaging.message.created`
 * and `messaging.message.updated` (to the tenant).
 */
import type { Ctx } from "../../lib/context";
import { NotFoundError } from "../../lib/errors";
import { cursorParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { OutboxMixin } from "../../mixins/outbox.mixin";
import { TenantDbMixin } from "../../mixins/tenant.mixin";
import { decodeCursor, encodeCursor } from "../social/common";
import { externalIdParam, idParam, kindParam } from "./common";
import { deliveryMethods } from "./messages/delivery";
import { sendMethods } from "./messages/send";
import type {
	BeginSendParams,
	InboundParams,
	MarkSentParams,
	MessageRow,
	MessagesMethods,
	SendParams,
	StatusParams,
	WatermarkParams,
} from "./messages/types";

const errorParam = {
	type: "object",
	optional: true,
	nullable: true,
	strict: "remove",
	props: {
		code: { type: "number", nullable: true, optional: true },
		title: { type: "string", max: 256, nullable: true, optional: true },
		message: { type: "string", max: 1000, nullable: true, optional: true },
	},
} as const;

const MessagesService: ServiceSchema<DbSettings, MessagesMethods> = {
	name: "messagingmessages",
	mixins: [
		TenantDbMixin({
			collection: "messaging_messages",
			indexes: [{ fields: ["tenantId", "dedupeKey"], unique: true }, { fields: ["externalId"] }, { fields: ["conversationId"] }],
		}),
		OutboxMixin({ collection: "messaging_messages_outbox", removeSent: true }),
	],
	settings: {
		rest: "/messaging/conversations",
		fields: [
			"id",
			"conversationId",
			"direction",
			"externalId",
			"kind",
			"text",
			"content",
			"attachments",
			"postback",
			"reaction",
			"status",
			"error",
			"sentBy",
			"at",
			"sentAt",
			"createdAt",
			"updatedAt",
		],
	},
	actions: {
		listMessages: {
			rest: "GET /:conversationId/messages",
			roles: ["member"],
			summary: "A conversation's messages, newest first.",
			params: { conversationId: idParam, ...cursorParams, $$strict: "remove" },
			async handler(ctx: Ctx<{ conversationId: string; cursor?: string; limit: number }>) {
				await ctx.call("messagingconversations.forSend", { id: ctx.params.conversationId });
				const query: Record<string, unknown> = { conversationId: ctx.params.conversationId };
				const before = decodeCursor<{ i: string }>(ctx.params.cursor, v => typeof v.i === "string");
				if (before) query._id = { $lt: before.i };
				const rows = await this._find<MessageRow & { id: string }>(ctx, { query, sort: ["-_id"], limit: ctx.params.limit + 1 });
				const items = rows.slice(0, ctx.params.limit);
				return { items, nextCursor: rows.length > ctx.params.limit ? encodeCursor({ i: items[items.length - 1].id }) : null };
			},
		},
		sendMessage: {
			rest: "POST /:conversationId/messages",
			roles: ["member"],
			summary:
				"Send text, an attachment (a URL, or `mediaId`: an upload of yours to the media service), a saved template (`templateId`, `vars`) or a WhatsApp template. Idempotency-Key: a retried send is one message.",
			params: {
				conversationId: idParam,
				text: { type: "string", min: 1, max: 2000, optional: true },
				attachment: {
					type: "object",
					optional: true,
					strict: "remove",
					props: {
						type: { type: "enum", values: ["image", "video", "audio", "file"], optional: true },
						url: { type: "url", max: 2048, optional: true },
						mediaId: { ...idParam, optional: true },
					},
				},
				template: {
					type: "object",
					optional: true,
					strict: "remove",
					props: {
						name: { type: "string", min: 1, max: 512, pattern: /^[a-z0-9_]+$/ },
						language: { type: "string", min: 2, max: 15 },
						components: { type: "array", max: 10, optional: true, items: "object" },
					},
				},
				templateId: { ...idParam, optional: true },
				vars: { type: "object", optional: true, default: {}, maxProps: 50 },
				$$strict: "remove",
			},
			handler(ctx: Ctx<SendParams>) {
				return this.sendMessage(ctx);
			},
		},

		recordInbound: {
			visibility: "public",
			summary: "Store an inbound message once per dedupe key (internal: webhook processing).",
			params: {
				conversationId: idParam,
				dedupeKey: { type: "string", max: 600 },
				externalId: externalIdParam,
				kind: kindParam,
				text: { type: "string", max: 4096, optional: true, nullable: true },
				attachments: {
					type: "array",
					max: 20,
					default: [],
					items: {
						type: "object",
						strict: "remove",
						props: { type: { type: "string", max: 32 }, url: { type: "string", max: 4096, nullable: true } },
					},
				},
				postback: {
					type: "object",
					optional: true,
					nullable: true,
					strict: "remove",
					props: { title: { type: "string", max: 256, nullable: true }, payload: { type: "string", max: 1000 } },
				},
				reaction: {
					type: "object",
					optional: true,
					nullable: true,
					strict: "remove",
					props: {
						emoji: { type: "string", max: 16, nullable: true },
						action: { type: "string", max: 16 },
						messageId: { type: "string", max: 256 },
					},
				},
				at: { type: "string", max: 40 },
				flow: {
					type: "object",
					nullable: true,
					default: null,
					strict: "remove",
					props: { customerCreated: "boolean", reopened: "boolean" },
				},
				$$strict: "remove",
			},
			handler(ctx: Ctx<InboundParams>) {
				return this.recordInbound(ctx);
			},
		},
		markFlowHandled: {
			visibility: "public",
			summary: "The flows have seen this inbound message (internal: webhook processing).",
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.markFlowHandled(ctx);
			},
		},
		applyStatus: {
			visibility: "public",
			summary: "A delivery status from the webhooks: the outbound messages it names move forward (internal).",
			params: {
				externalIds: { type: "array", max: 100, items: externalIdParam },
				status: { type: "enum", values: ["sent", "delivered", "read", "failed"] },
				error: errorParam,
				$$strict: "remove",
			},
			handler(ctx: Ctx<StatusParams>) {
				return this.applyStatus(ctx);
			},
		},
		beginSend: {
			visibility: "public",
			summary: "The outbound channel claims one send attempt of a message, from the state it read (internal).",
			params: {
				id: idParam,
				status: { type: "enum", values: ["queued", "sending"] },
				sendingAt: { type: "string", max: 40, optional: true, nullable: true },
				$$strict: "remove",
			},
			handler(ctx: Ctx<BeginSendParams>) {
				return this.beginSend(ctx);
			},
		},
		releaseSend: {
			visibility: "public",
			summary: "The claimed attempt never reached Meta: the message is queued again (internal).",
			params: { id: idParam, sendingAt: { type: "string", max: 40 }, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string; sendingAt: string }>) {
				return this.releaseSend(ctx);
			},
		},
		applyWatermark: {
			visibility: "public",
			summary: "A receipt with only a watermark: the conversation's outbound messages Meta took up to then move forward (internal).",
			params: {
				conversationId: idParam,
				status: { type: "enum", values: ["delivered", "read"] },
				watermark: { type: "string", max: 40 },
				$$strict: "remove",
			},
			handler(ctx: Ctx<WatermarkParams>) {
				return this.applyWatermark(ctx);
			},
		},
		forDelivery: {
			visibility: "public",
			summary: "An outbound message and where it goes (internal: the outbound channel).",
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.forDelivery(ctx);
			},
		},
		markSent: {
			visibility: "public",
			summary: "The Graph API took an outbound message (its Meta id), or refused it for good (internal).",
			params: { id: idParam, externalId: { ...externalIdParam, optional: true }, error: errorParam, $$strict: "remove" },
			handler(ctx: Ctx<MarkSentParams>) {
				return this.markSendResult(ctx);
			},
		},
	},
	methods: {
		...sendMethods,
		...deliveryMethods,
		async messageOr404(ctx: Ctx<unknown>, id: string) {
			const row = await this.scopedFindById<MessageRow>(ctx, id);
			if (!row) throw new NotFoundError("No such message.", id);
			return row;
		},
		announce(ctx: Ctx<unknown>, row: MessageRow, event: "messaging.message.created" | "messaging.message.updated") {
			const entity = this.toEntity<Record<string, unknown>>(row);
			ctx.emit("realtime.toTenant", { tenantId: row.tenantId, event, data: entity });
			ctx.emit(event, { tenantId: row.tenantId, message: entity });
			return entity;
		},
	},
};

export default MessagesService;
