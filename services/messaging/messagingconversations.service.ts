/**
 * Conversations (README, "Messaging domain" → "Conversations and messages"): one per customer identity
 * and channel account (`key`, unique per tenant), status open / pending / closed, an assignee (a tenant
 * member), the unread count and the last message; listed newest activity first with a cursor; assign,
 * close, reopen, mark read. Every change reaches the dashboard as the realtime event
 * `messaging.conversation.updated` (to the tenant). Messages live in `messagingmessages`.
 */
import { asSystem, currentTenantUser, type Ctx } from "../../lib/context";
import { InvalidInputError, NotFoundError, ConflictError } from "../../lib/errors";
import { cursorParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { TenantDbMixin, type Row, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { decodeCursor, encodeCursor } from "../social/common";
import { externalIdParam, idParam, kindParam, type ChannelKind } from "./common";

export interface ConversationRow extends Row {
	customerId: string;
	appId: string;
	kind: ChannelKind;
	accountId: string;
	externalId: string;
	key: string;
	status: "open" | "pending" | "closed";
	assigneeId: string | null;
	unreadCount: number;
	lastMessage: { id: string; direction: "in" | "out"; text: string | null; at: string } | null;
	lastMessageAt: string;
	lastInboundAt: string | null;
	/** ids of the last TOUCHED_KEPT messages counted (not public) */
	touched?: string[];
}
type Preview = NonNullable<ConversationRow["lastMessage"]>;

const STATUSES = ["open", "pending", "closed"] as const;
/** Compare-and-set attempts of a counter update before giving up (two nodes writing one conversation). */
const CAS_ATTEMPTS = 20;
/** The last messages a conversation counted, so a repeated touch (a redelivery) counts none twice. */
const TOUCHED_KEPT = 50;

/** One conversation per customer identity on a channel account of an app (a unique key). */
const conversationKey = (p: { appId: string; kind: ChannelKind; accountId: string; externalId: string }) =>
	`${p.appId}|${p.kind}|${p.accountId}|${p.externalId}`;

interface ConversationsMethods extends TenantDbMethods {
	conversationOr404(ctx: Ctx<unknown>, id: string): Promise<ConversationRow>;
	requireMember(ctx: Ctx<unknown>, userId: string | null): Promise<void>;
	changed(ctx: Ctx<unknown>, id: string): Promise<Record<string, unknown>>;
	casUpdate(ctx: Ctx<unknown>, id: string, change: (row: ConversationRow) => Record<string, unknown> | null): Promise<Record<string, unknown>>;
}

const previewParam = {
	type: "object",
	strict: "remove",
	props: {
		id: idParam,
		direction: { type: "enum", values: ["in", "out"] },
		text: { type: "string", max: 200, optional: true, nullable: true },
		at: { type: "string", max: 40 },
	},
} as const;

const ConversationsService: ServiceSchema<DbSettings, ConversationsMethods> = {
	name: "messagingconversations",
	mixins: [TenantDbMixin({ collection: "messaging_conversations", indexes: [{ fields: ["tenantId", "key"], unique: true }] })],
	settings: {
		rest: "/messaging/conversations",
		fields: [
			"id",
			"customerId",
			"appId",
			"kind",
			"accountId",
			"status",
			"assigneeId",
			"unreadCount",
			"lastMessage",
			"lastMessageAt",
			"lastInboundAt",
			"createdAt",
			"updatedAt",
		],
	},
	actions: {
		listConversations: {
			rest: "GET /",
			roles: ["member"],
			summary: "Newest activity first; filters combine. `assigneeId=me` is the caller, `assigneeId=none` unassigned.",
			params: {
				...cursorParams,
				status: { type: "enum", values: [...STATUSES], optional: true },
				assigneeId: { type: "string", max: 128, optional: true },
				customerId: { ...idParam, optional: true },
				appId: { ...idParam, optional: true },
				kind: { ...kindParam, optional: true },
				$$strict: "remove",
			},
			async handler(
				ctx: Ctx<{
					cursor?: string;
					limit: number;
					status?: string;
					assigneeId?: string;
					customerId?: string;
					appId?: string;
					kind?: string;
				}>,
			) {
				const { cursor, limit, status, assigneeId, customerId, appId, kind } = ctx.params;
				const query: Record<string, unknown> = {};
				if (status) query.status = status;
				if (assigneeId) query.assigneeId = assigneeId === "me" ? currentTenantUser(ctx).id : assigneeId === "none" ? null : assigneeId;
				if (customerId) query.customerId = customerId;
				if (appId) query.appId = appId;
				if (kind) query.kind = kind;
				const after = decodeCursor<{ t: string; i: string }>(cursor, v => typeof v.t === "string" && typeof v.i === "string");
				if (after) query.$or = [{ lastMessageAt: { $lt: after.t } }, { lastMessageAt: after.t, _id: { $lt: after.i } }];
				const rows = await this._find<ConversationRow & { id: string }>(ctx, { query, sort: ["-lastMessageAt", "-_id"], limit: limit + 1 });
				const items = rows.slice(0, limit);
				const last = items[items.length - 1];
				return { items, nextCursor: rows.length > limit && last ? encodeCursor({ t: last.lastMessageAt, i: last.id }) : null };
			},
		},
		getConversation: {
			rest: "GET /:id",
			roles: ["member"],
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},
		assignConversation: {
			rest: "POST /:id/assign",
			roles: ["member"],
			idempotent: true,
			summary: "Assign to a tenant member (`assigneeId`), or unassign (null).",
			params: { id: idParam, assigneeId: { type: "string", min: 1, max: 128, nullable: true }, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; assigneeId: string | null }>) {
				await this.conversationOr404(ctx, ctx.params.id);
				await this.requireMember(ctx, ctx.params.assigneeId);
				await this.scopedUpdateWhere(ctx, { id: ctx.params.id }, { assigneeId: ctx.params.assigneeId });
				return this.changed(ctx, ctx.params.id);
			},
		},
		closeConversation: {
			rest: "POST /:id/close",
			roles: ["member"],
			idempotent: true,
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				await this.conversationOr404(ctx, ctx.params.id);
				await this.scopedUpdateWhere(ctx, { id: ctx.params.id }, { status: "closed" });
				return this.changed(ctx, ctx.params.id);
			},
		},
		pendConversation: {
			rest: "POST /:id/pending",
			roles: ["member"],
			idempotent: true,
			summary: "Waiting on someone (the customer, a colleague): neither open work nor closed.",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				await this.conversationOr404(ctx, ctx.params.id);
				await this.scopedUpdateWhere(ctx, { id: ctx.params.id }, { status: "pending" });
				return this.changed(ctx, ctx.params.id);
			},
		},
		reopenConversation: {
			rest: "POST /:id/reopen",
			roles: ["member"],
			idempotent: true,
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				await this.conversationOr404(ctx, ctx.params.id);
				await this.scopedUpdateWhere(ctx, { id: ctx.params.id }, { status: "open" });
				return this.changed(ctx, ctx.params.id);
			},
		},
		markRead: {
			rest: "POST /:id/read",
			roles: ["member"],
			idempotent: true,
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				await this.conversationOr404(ctx, ctx.params.id);
				await this.scopedUpdateWhere(ctx, { id: ctx.params.id }, { unreadCount: 0 });
				return this.changed(ctx, ctx.params.id);
			},
		},

		ensure: {
			visibility: "public",
			summary: "The conversation of a customer identity on a channel account, created on first contact (internal).",
			params: {
				customerId: idParam,
				appId: idParam,
				kind: kindParam,
				accountId: externalIdParam,
				externalId: externalIdParam,
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ customerId: string; appId: string; kind: ChannelKind; accountId: string; externalId: string }>) {
				const key = conversationKey(ctx.params);
				const found = await this.scopedFindOne<ConversationRow>(ctx, { key });
				if (found) return { ...this.toEntity(found), created: false };
				try {
					const row = await this._create(ctx, {
						...ctx.params,
						key,
						status: "open",
						assigneeId: null,
						unreadCount: 0,
						lastMessage: null,
						lastMessageAt: new Date().toISOString(),
						lastInboundAt: null,
					});
					return { ...row, created: true };
				} catch (err) {
					if (!(err instanceof ConflictError)) throw err;
					const winner = await this.scopedFindOne<ConversationRow>(ctx, { key });
					if (!winner) throw err;
					return { ...this.toEntity(winner), created: false };
				}
			},
		},
		byIdentity: {
			visibility: "public",
			summary: "The id of the conversation of a customer identity on a channel account, if there is one (internal).",
			params: { appId: idParam, kind: kindParam, accountId: externalIdParam, externalId: externalIdParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ appId: string; kind: ChannelKind; accountId: string; externalId: string }>) {
				const key = conversationKey(ctx.params);
				const found = await this.scopedFindOne<ConversationRow>(ctx, { key });
				return found ? { id: found._id } : null;
			},
		},
		forSend: {
			visibility: "public",
			summary: "A conversation with where to send to (internal: messagingmessages).",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = await this.conversationOr404(ctx, ctx.params.id);
				return {
					id: row._id,
					customerId: row.customerId,
					appId: row.appId,
					kind: row.kind,
					accountId: row.accountId,
					externalId: row.externalId,
					lastInboundAt: row.lastInboundAt,
					status: row.status,
				};
			},
		},
		touch: {
			visibility: "public",
			summary: "A new message in a conversation: last message, and for inbound ones the unread count, the window and a reopen (internal).",
			params: { id: idParam, message: previewParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string; message: Preview }>) {
				const m = ctx.params.message;
				return this.casUpdate(ctx, ctx.params.id, row => {
					// Once per message: a processor that died between storing a message and this touch does it again.
					if (row.touched?.includes(m.id)) return {};
					// A late (redelivered, out-of-order) message does not replace a newer last message.
					const newer = !row.lastMessage || row.lastMessage.at <= m.at;
					const set: Record<string, unknown> = newer ? { lastMessage: m, lastMessageAt: m.at } : {};
					set.touched = [...(row.touched ?? []).slice(1 - TOUCHED_KEPT), m.id];
					if (m.direction === "in") {
						set.unreadCount = row.unreadCount + 1;
						if (!row.lastInboundAt || row.lastInboundAt < m.at) set.lastInboundAt = m.at;
						if (row.status === "closed") set.status = "open";
					}
					return set;
				});
			},
		},
		moveCustomer: {
			visibility: "public",
			summary: "Every conversation of customer `from` now belongs to `to` (a merge; internal).",
			params: { from: idParam, to: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ from: string; to: string }>) {
				return { moved: await this.scopedUpdateWhere(ctx, { customerId: ctx.params.from }, { customerId: ctx.params.to }) };
			},
		},
	},
	methods: {
		async conversationOr404(ctx: Ctx<unknown>, id: string) {
			const row = await this.scopedFindById<ConversationRow>(ctx, id);
			if (!row) throw new NotFoundError("No such conversation.", id);
			return row;
		},
		/**
		 * An assignee must be a member of the tenant (identity's `tenants.membership`). A messaging-only
		 * node without identity in reach cannot check: it says so in the log and lets it through.
		 */
		async requireMember(ctx: Ctx<unknown>, userId: string | null) {
			if (!userId) return;
			const tenantId = currentTenantUser(ctx).tenantId;
			if (!this.broker.registry.getActionEndpoints("tenants.membership")?.hasAvailable()) {
				this.logger.warn("conversation assignee NOT checked for membership: the tenants service is not running", { tenantId });
				return;
			}
			if (!(await ctx.call("tenants.membership", { tenantId, userId }, asSystem(tenantId))))
				throw new InvalidInputError(`Not a member of this tenant: ${userId}.`, [
					{ field: "assigneeId", message: "must be a member of this tenant" },
				]);
		},
		async changed(ctx: Ctx<unknown>, id: string) {
			const entity = this.toEntity<Record<string, unknown>>(await this.conversationOr404(ctx, id));
			ctx.emit("realtime.toTenant", { tenantId: currentTenantUser(ctx).tenantId, event: "messaging.conversation.updated", data: entity });
			return entity;
		},
		async casUpdate(ctx: Ctx<unknown>, id: string, change: (row: ConversationRow) => Record<string, unknown> | null) {
			for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
				const row = await this.conversationOr404(ctx, id);
				const set = change(row);
				if (!set || !Object.keys(set).length) return this.toEntity(row);
				// The values read are the condition: a concurrent writer makes this match nothing, and we read again.
				if (await this.scopedUpdateWhere(ctx, { id, updatedAt: row.updatedAt, unreadCount: row.unreadCount }, set))
					return this.changed(ctx, id);
			}
			throw new Error(`conversation ${id}: too many concurrent updates`);
		},
	},
};

export default ConversationsService;
