/**
 * Messages as Meta reports them: inbound ones recorded once per dedupe key, delivery statuses that
 * only move forward, and the outbound channel's view of a queued message (what to send, then sent or failed).
 */
import { ConflictError } from "../../../lib/errors";
import { STATUS_RANK, type ChannelKind } from "../common";
import { preview, type MessageRow, type MessagesMethodsOf } from "./types";

export const deliveryMethods: MessagesMethodsOf<
	"recordInbound" | "markFlowHandled" | "applyStatus" | "forDelivery" | "markSendResult" | "beginSend" | "releaseSend" | "applyWatermark"
> = {
	async recordInbound(ctx) {
		const { flow, ...p } = ctx.params;
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
				// what the flows are to see of it, until they have (markFlowHandled)
				flowPending: flow,
			});
			const row = (await this.scopedFindById<MessageRow>(ctx, created.id))!;
			await ctx.call("messagingconversations.touch", { id: p.conversationId, message: preview(row) });
			return { created: true, messageId: row._id, flowPending: flow, message: this.announce(ctx, row, "messaging.message.created") };
		} catch (err) {
			if (!(err instanceof ConflictError)) throw err;
			// Stored before. The first attempt may have died before its conversation counted it, or before the flows saw it.
			const stored = await this.scopedFindOne<MessageRow>(ctx, { dedupeKey: p.dedupeKey });
			if (!stored) throw err;
			await ctx.call("messagingconversations.touch", { id: p.conversationId, message: preview(stored) });
			return { created: false, messageId: stored._id, flowPending: stored.flowPending ?? null, message: null };
		}
	},

	async markFlowHandled(ctx) {
		await this.scopedUpdateWhere(ctx, { id: ctx.params.id }, { flowPending: null });
		return { ok: true };
	},

	async applyStatus(ctx) {
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

	async forDelivery(ctx) {
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
			sendingAt: row.sendingAt ?? null,
			content: row.content,
			conversationId: row.conversationId,
			appId: conv.appId,
			kind: conv.kind,
			accountId: conv.accountId,
			externalId: conv.externalId,
		};
	},

	async markSendResult(ctx) {
		const row = await this.messageOr404(ctx, ctx.params.id);
		const now = new Date().toISOString();
		const set = ctx.params.externalId
			? { status: "sent", externalId: ctx.params.externalId, sentAt: now, sendingAt: null }
			: { status: "failed", error: ctx.params.error ?? null, sendingAt: null };
		// only from queued or sending: a status webhook that came first is not undone
		if (await this.scopedUpdateWhere(ctx, { id: row._id, status: { $in: ["queued", "sending"] } }, set))
			this.announce(ctx, (await this.scopedFindById<MessageRow>(ctx, row._id))!, "messaging.message.updated");
		else if (ctx.params.externalId)
			await this.scopedUpdateWhere(ctx, { id: row._id, externalId: null }, { externalId: ctx.params.externalId, sentAt: row.sentAt ?? now });
		return this.toEntity((await this.scopedFindById<MessageRow>(ctx, row._id))!);
	},

	/** The outbound channel's claim on one attempt: from the state it read, so of two nodes (or a redelivery) one sends. */
	async beginSend(ctx) {
		const { id, status, sendingAt } = ctx.params;
		const at = new Date().toISOString();
		const claimed = await this.scopedUpdateWhere(
			ctx,
			{ id, status, ...(status === "sending" && { sendingAt: sendingAt ?? null }) },
			{ status: "sending", sendingAt: at },
		);
		return { claimed: claimed > 0, sendingAt: at };
	},

	/** The attempt claimed at `sendingAt` provably did not reach Meta (every try answered with an error): queued again. */
	async releaseSend(ctx) {
		const { id, sendingAt } = ctx.params;
		return { released: (await this.scopedUpdateWhere(ctx, { id, status: "sending", sendingAt }, { status: "queued", sendingAt: null })) > 0 };
	},

	/**
	 * A read or delivery receipt that names no message, only a time (Messenger, Instagram): every message
	 * of the conversation that Meta took up to then moves forward.
	 */
	async applyWatermark(ctx) {
		const { conversationId, status, watermark } = ctx.params;
		const below = Object.keys(STATUS_RANK).filter(s => STATUS_RANK[s] >= STATUS_RANK.sent && STATUS_RANK[s] < STATUS_RANK[status]);
		const rows = await this.scopedScan<Pick<MessageRow, "_id" | "status">>(
			ctx,
			{ conversationId, direction: "out", status: { $in: below }, sentAt: { $lte: watermark } },
			["_id", "status"],
		);
		const changed: string[] = [];
		for (const { _id, status: from } of rows.slice()) {
			if (!(await this.scopedUpdateWhere(ctx, { id: _id, status: from }, { status }))) continue;
			changed.push(_id);
			this.announce(ctx, (await this.scopedFindById<MessageRow>(ctx, _id))!, "messaging.message.updated");
		}
		return { changed };
	},
};
