/** Outbound messages: checked against Meta's 24-hour window, stored `queued` once per Idempotency-Key, handed to the outbound channel. */
import { appUrl, config } from "../../../lib/config";
import { currentTenantUser, currentUser } from "../../../lib/context";
import { ConflictError, InvalidInputError, NotFoundError, OutsideCustomerWindowError } from "../../../lib/errors";
import { newId } from "../../../mixins/db.mixin";
import { CUSTOMER_WINDOW_MS, OUTBOUND_CHANNEL } from "../common";
import { renderTemplate, type TemplateDef } from "../template-content";
import { preview, type MessageRow, type MessagesMethodsOf, type OutboundContent, type SendTarget } from "./types";

export const sendMethods: MessagesMethodsOf<"sendMessage" | "fromTemplate" | "mediaAttachment"> = {
	async sendMessage(ctx) {
		const { conversationId: id, templateId, vars, ...given } = ctx.params;
		const conv = (await ctx.call("messagingconversations.forSend", { id })) as SendTarget;
		if ([given.text, given.attachment, given.template, templateId].filter(x => x !== undefined).length !== 1)
			throw new InvalidInputError("Send one of text, attachment, template or templateId.", [
				{ field: "text", message: "exactly one of text, attachment, template, templateId" },
			]);
		const { attachment, ...rest } = given;
		if (attachment && (attachment.url === undefined) === (attachment.mediaId === undefined))
			throw new InvalidInputError("An attachment is a URL or a media id.", [{ field: "attachment", message: "exactly one of url, mediaId" }]);
		if (attachment?.url !== undefined && !attachment.type)
			throw new InvalidInputError("Say what the attachment is.", [{ field: "attachment.type", message: "is required with url" }]);
		const content: OutboundContent = templateId
			? await this.fromTemplate(ctx, conv, templateId, vars)
			: {
					...rest,
					...(attachment && {
						attachment: attachment.mediaId
							? await this.mediaAttachment(ctx, attachment.mediaId)
							: { type: attachment.type!, url: attachment.url! },
					}),
				};
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
		const messageId = newId();
		const mediaId = content.attachment?.mediaId;
		// The upload belongs to this message from now on: the media sweeper keeps it, no post can take it.
		if (mediaId) await ctx.call("media.claim", { ids: [mediaId], userId: currentUser(ctx).id, postId: messageId });
		let row: MessageRow;
		try {
			const created = await this._create<{ id: string }>(ctx, {
				id: messageId,
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
			if (mediaId) await ctx.call("media.unclaim", { ids: [mediaId], postId: messageId });
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

	/** The sender's own upload as an attachment, by its public URL (Meta fetches it from there): APP_URL must reach the gateway. */
	async mediaAttachment(ctx, mediaId) {
		const doc = (await ctx.call("media.info", { id: mediaId })) as { ownerId: string; kind: "image" | "video" } | null;
		// someone else's upload answers like a missing one
		if (!doc || doc.ownerId !== currentUser(ctx).id) throw new NotFoundError("Media not found.", mediaId);
		return { type: doc.kind, url: `${appUrl(config())}/media/${mediaId}`, mediaId };
	},

	/** A saved template rendered for this conversation: the WhatsApp template on WhatsApp when it names one, else its text, replies, buttons, media. */
	async fromTemplate(ctx, conv, templateId, vars) {
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
};
