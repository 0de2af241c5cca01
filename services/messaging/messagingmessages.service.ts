/**
 * Messages of conversations (README, "Messaging domain" → "Conversations and messages"):
 * - inbound ones are recorded by webhook processing, once per Meta message id (`dedupeKey`, unique per
 *   tenant: a redelivered event finds its message stored and does nothing);
 * - outbound ones are `POST /api/messaging/conversations/:id/messages`: stored `queued` and handed to
 *   the `messaging.outbound` channel through the outbox (202); the processor sends them through the
 *   Graph API and marks them `sent` (with Meta's id) or `failed`. With an `Idempotency-Key` a retried
 *   send is the same message (200 with it). Outside Meta's 24-hour window only a template may be sent (422);
 * - statuses from the webhooks move a message forward only: queued → sent → delivered → read (failed
 *   carries Meta's error).
 * New messages and status changes go to the dashboard as the realtime events `messaging.message.created`
 * and `messaging.message.updated` (to the tenant).
 */
import { currentTenantUser, currentUser, type Ctx } from "../../lib/context";
import { InvalidInputError, NotFoundError, OutsideCustomerWindowError, ConflictError } from "../../lib/errors";
import { cursorParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { newId } from "../../mixins/db.mixin";
import { OutboxMixin, type OutboxMethods } from "../../mixins/outbox.mixin";
import { TenantDbMixin, type Row, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { decodeCursor, encodeCursor } from "../social/common";
import { renderTemplate, type TemplateDef } from "./template-content";
import { CUSTOMER_WINDOW_MS, externalIdParam, idParam, kindParam, OUTBOUND_CHANNEL, STATUS_RANK, type ChannelKind } from "./common";

export interface OutboundContent {
	text?: string;
	attachment?: { type: "image" | "video" | "audio" | "file"; url: string };
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
	status: "received" | "queued" | "sent" | "delivered" | "read" | "failed";
	error: { code: number | null; title: string | null; message: string | null } | null;
	sentBy: string | null;
	at: string;
}

interface SendTarget {
	kind: ChannelKind;
	customerId: string;
	lastInboundAt: string | null;
}

interface MessagesMethods extends TenantDbMethods, OutboxMethods {
	fromTemplate(ctx: Ctx<unknown>, conv: SendTarget, templateId: string, vars: Record<string, unknown>): Promise<OutboundContent>;
	messageOr404(ctx: Ctx<unknown>, id: string): Promise<MessageRow>;
	announce(ctx: Ctx<unknown>, row: MessageRow, event: "messaging.message.created" | "messaging.message.updated"): Record<string, unknown>;
}

const preview = (row: MessageRow) => ({
	id: row._id,
	direction: row.direction,
	text:
		(
			row.text ??
			(row.content?.template ? `[template ${row.content.template.name}]` : row.attachments[0] ? `[${row.attachments[0].type}]` : null)
		)?.slice(0, 200) ?? null,
	at: row.at,
});

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
				"Send text, an attachment (URL), a saved template (`templateId`, `vars`) or a WhatsApp template. Idempotency-Key: a retried send is one message.",
			params: {
				conversationId: idParam,
				text: { type: "string", min: 1, max: 2000, optional: true },
				attachment: {
					type: "object",
					optional: true,
					strict: "remove",
					props: { type: { type: "enum", values: ["image", "video", "audio", "file"] }, url: { type: "url", max: 2048 } },
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
			async handler(
				ctx: Ctx<{
					conversationId: string;
					text?: string;
					attachment?: OutboundContent["attachment"];
					template?: OutboundContent["template"];
					templateId?: string;
					vars: Record<string, unknown>;
				}>,
			) {
				const { conversationId: id, templateId, vars, ...given } = ctx.params;
				const conv = (await ctx.call("messagingconversations.forSend", { id })) as SendTarget;
				if ([given.text, given.attachment, given.template, templateId].filter(x => x !== undefined).length !== 1)
					throw new InvalidInputError("Send one of text, attachment, template or templateId.", [
						{ field: "text", message: "exactly one of text, attachment, template, templateId" },
					]);
				const content: OutboundContent = templateId ? await this.fromTemplate(ctx, conv, templateId, vars) : given;
				if (content.template && conv.kind !== "whatsapp")
					throw new InvalidInputError("Templates are WhatsApp's.", [
						{ field: "template", message: `a ${conv.kind} conversation takes text or an attachment` },
					]);
				const inWindow = !!conv.lastInboundAt && Date.now() - Date.parse(conv.lastInboundAt) < CUSTOMER_WINDOW_MS;
				if (!content.template && !inWindow) throw new OutsideCustomerWindowError(content.text !== undefined ? "text" : "attachment");

				const key = ctx.meta.headers?.["idempotency-key"];
				const dedupeKey = `out:${typeof key === "string" && key ? `${currentUser(ctx).id}:${key}` : newId()}`;
				const existing = await this.scopedFindOne<MessageRow>(ctx, { dedupeKey });
				if (existing) return this.toEntity(existing);
				let row: MessageRow;
				try {
					const created = await this._create<{ id: string }>(ctx, {
						conversationId: id,
						direction: "out",
						dedupeKey,
						externalId: null,
						kind: conv.kind,
						text: content.text ?? null,
						content,
						attachments: content.attachment ? [content.attachment] : [],
						postback: null,
						reaction: null,
						status: "queued",
						error: null,
						sentBy: currentUser(ctx).id,
						at: new Date().toISOString(),
					});
					row = (await this.scopedFindById<MessageRow>(ctx, created.id))!;
				} catch (err) {
					if (!(err instanceof ConflictError)) throw err;
					// the same key, sent twice at once: the other one won
					return this.toEntity((await this.scopedFindOne<MessageRow>(ctx, { dedupeKey }))!);
				}
				await this.publishEvent(OUTBOUND_CHANNEL, { tenantId: currentTenantUser(ctx).tenantId, messageId: row._id });
				await ctx.call("messagingconversations.touch", { id, message: preview(row) });
				ctx.meta.$statusCode = 202;
				ctx.meta.$location = `/api/messaging/conversations/${id}/messages`;
				return this.announce(ctx, row, "messaging.message.created");
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
				$$strict: "remove",
			},
			async handler(ctx: Ctx<Omit<MessageRow, "_id" | "tenantId" | "direction" | "status" | "error" | "sentBy" | "content">>) {
				const p = ctx.params;
				try {
					const created = await this._create<{ id: string }>(ctx, {
						...p,
						text: p.text ?? null,
						postback: p.postback ?? null,
						reaction: p.reaction ?? null,
						direction: "in",
						content: null,
						status: "received",
						error: null,
						sentBy: null,
					});
					const row = (await this.scopedFindById<MessageRow>(ctx, created.id))!;
					await ctx.call("messagingconversations.touch", { id: p.conversationId, message: preview(row) });
					return { created: true, message: this.announce(ctx, row, "messaging.message.created") };
				} catch (err) {
					if (!(err instanceof ConflictError)) throw err;
					return { created: false, message: null };
				}
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
			async handler(ctx: Ctx<{ externalIds: string[]; status: MessageRow["status"]; error?: MessageRow["error"] }>) {
				const { externalIds, status, error } = ctx.params;
				let matched = 0;
				const changed: string[] = [];
				for (const externalId of externalIds) {
					const row = await this.scopedFindOne<MessageRow>(ctx, { externalId, direction: "out" });
					if (!row) continue;
					matched++;
					// failed is final; otherwise only forward
					if (row.status === "failed" || STATUS_RANK[status] <= STATUS_RANK[row.status]) continue;
					const n = await this.scopedUpdateWhere(
						ctx,
						{ id: row._id, status: row.status },
						{ status, ...(status === "failed" && { error: error ?? null }) },
					);
					if (n) {
						changed.push(row._id);
						this.announce(ctx, (await this.scopedFindById<MessageRow>(ctx, row._id))!, "messaging.message.updated");
					}
				}
				return { matched, changed };
			},
		},
		forDelivery: {
			visibility: "public",
			summary: "An outbound message and where it goes (internal: the outbound channel).",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = await this.messageOr404(ctx, ctx.params.id);
				const conv = (await ctx.call("messagingconversations.forSend", { id: row.conversationId })) as {
					appId: string;
					kind: ChannelKind;
					accountId: string;
					externalId: string;
				};
				return {
					id: row._id,
					status: row.status,
					content: row.content,
					conversationId: row.conversationId,
					appId: conv.appId,
					kind: conv.kind,
					accountId: conv.accountId,
					externalId: conv.externalId,
				};
			},
		},
		markSent: {
			visibility: "public",
			summary: "The Graph API took an outbound message (its Meta id), or refused it for good (internal).",
			params: { id: idParam, externalId: { ...externalIdParam, optional: true }, error: errorParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; externalId?: string; error?: MessageRow["error"] }>) {
				const row = await this.messageOr404(ctx, ctx.params.id);
				const set = ctx.params.externalId
					? { status: "sent", externalId: ctx.params.externalId }
					: { status: "failed", error: ctx.params.error ?? null };
				// only from queued: a status webhook that came first is not undone
				if (await this.scopedUpdateWhere(ctx, { id: row._id, status: "queued" }, set))
					this.announce(ctx, (await this.scopedFindById<MessageRow>(ctx, row._id))!, "messaging.message.updated");
				else if (ctx.params.externalId)
					await this.scopedUpdateWhere(ctx, { id: row._id, externalId: null }, { externalId: ctx.params.externalId });
				return this.toEntity((await this.scopedFindById<MessageRow>(ctx, row._id))!);
			},
		},
	},
	methods: {
		/** A saved template rendered for this conversation: the WhatsApp template on WhatsApp when it names one, else its text, replies, buttons, media. */
		async fromTemplate(ctx: Ctx<unknown>, conv: SendTarget, templateId: string, vars: Record<string, unknown>) {
			const t = (await ctx.call("messagingtemplates.forSend", { id: templateId })) as TemplateDef & { appId: string };
			const customer = (await ctx.call("messagingcustomers.getCustomer", { id: conv.customerId })) as { id: string; name: string | null };
			const rendered = renderTemplate(t, vars, customer);
			if ("missing" in rendered)
				throw new InvalidInputError(
					"The template needs variables that were not given.",
					rendered.missing.map(v => ({ field: `vars.${v}`, message: "is required by the template" })),
				);
			const { template, ...rest } = rendered.content;
			if (conv.kind === "whatsapp" && template) return { template, templateId };
			if (!rest.text && !rest.attachment)
				throw new InvalidInputError(`This template has nothing to send on ${conv.kind}.`, [
					{ field: "templateId", message: "has only a WhatsApp template" },
				]);
			return { ...rest, templateId };
		},
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
