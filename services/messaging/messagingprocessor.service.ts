/**
 * Webhook processing and outbound delivery (README, "Messaging domain" → "Processing"): the consumers of
 * the domain's durable channels. Stateless: run it on as many nodes as the load needs; each message of a
 * channel goes to one of them (group), is retried with backoff when it fails and dead-lettered at last.
 * - `messaging.inbound`: an event of a webhook delivery → the customer (created on first contact, its
 *   profile requested), the conversation, the message (once per Meta id: the message store's unique
 *   index makes a redelivery a no-op); a status moves its outbound message forward.
 * - `messaging.profile`: the customer's profile from the Graph API. While Graph fails the message is
 *   retried; messages are never held up by it.
 * - `messaging.outbound`: an outbound message through the Graph API send endpoint. Meta's Send API takes
 *   no idempotency key, so a send is claimed (`sending`) before it goes out and carries our message id
 *   (echoed back by Meta); when its answer is lost (a timeout, a node that died mid-send), a redelivery
 *   waits up to GRAPH_SEND_CONFIRM_MS for that echo before it sends again.
 * Each acts as its tenant's system identity.
 */
import type { ServiceSettingSchema } from "moleculer";
import { config } from "../../lib/config";
import { asSystem, type Ctx } from "../../lib/context";
import { NotFoundError, ProviderRejectedError, ProviderUnavailableError, SendInProgressError, SendOutcomeUnknownError } from "../../lib/errors";
import type { ServiceSchema } from "../../lib/schema";
import { sendToChannel } from "../platform/common";
import { INBOUND_CHANNEL, OUTBOUND_CHANNEL, PROFILE_CHANNEL, type ChannelKind, type InboundEvent, type InboundJob } from "./common";
import type { Identity } from "./messagingcustomers.service";
import type { OutboundContent } from "./messages/types";

interface ProcessorVars {
	/** what this node processed since it started (the `stats` action) */
	counters: { messages: number; duplicates: number; statuses: number; profiles: number; sends: number; resends: number };
	/** GRAPH_SEND_CONFIRM_MS */
	confirmMs: number;
}
interface ProcessorMethods {
	processMessage(ctx: Ctx<unknown>, job: InboundJob, event: Extract<InboundEvent, { type: "message" }>): Promise<void>;
	processStatus(ctx: Ctx<unknown>, job: InboundJob, event: Extract<InboundEvent, { type: "status" }>): Promise<void>;
}

/** Every consumer: retried with backoff (lib/channels.ts), dead-lettered after 8 deliveries. */
const retrying = { maxRetries: 8, deadLettering: { enabled: true } };

const ProcessorService: ServiceSchema<ServiceSettingSchema, ProcessorMethods, ProcessorVars> = {
	name: "messagingprocessor",

	actions: {
		stats: {
			visibility: "public",
			summary: "What this node processed since it started (internal: operators and the cluster test).",
			params: { $$strict: "remove" },
			handler() {
				return { ...this.counters };
			},
		},
	},

	channels: {
		[INBOUND_CHANNEL]: {
			group: "messaging-processor",
			...retrying,
			async handler(ctx: Ctx<InboundJob>) {
				const job = ctx.params;
				if (!job?.tenantId || !job.event?.type) return void this.logger.warn("malformed messaging.inbound message dropped");
				if (job.event.type === "message") await this.processMessage(ctx, job, job.event);
				else await this.processStatus(ctx, job, job.event);
			},
		},

		[PROFILE_CHANNEL]: {
			group: "messaging-profiles",
			...retrying,
			async handler(ctx: Ctx<{ tenantId: string; customerId: string }>) {
				const { tenantId, customerId } = ctx.params;
				const sys = asSystem(tenantId);
				const target = (await ctx.call("messagingcustomers.profileTarget", { id: customerId }, sys)) as Identity | null;
				if (!target) return;
				try {
					const profile = (await ctx.call(
						"messaginggraph.profile",
						{ appId: target.appId, kind: target.kind, accountId: target.accountId, externalId: target.externalId },
						sys,
					)) as { name: string | null; pictureUrl: string | null };
					await ctx.call("messagingcustomers.saveProfile", { id: customerId, ...profile }, sys);
					this.counters.profiles++;
				} catch (err) {
					// Meta refused for good (no permission, the user blocked the page): retrying cannot help.
					if (!(err instanceof ProviderRejectedError)) throw err;
					this.logger.warn("customer profile not available from Meta", { customerId, error: err.message });
					await ctx.call("messagingcustomers.saveProfile", { id: customerId, unavailable: true }, sys);
				}
			},
		},

		[OUTBOUND_CHANNEL]: {
			group: "messaging-outbound",
			...retrying,
			async handler(ctx: Ctx<{ tenantId: string; messageId: string }>) {
				const { tenantId, messageId } = ctx.params;
				const sys = asSystem(tenantId);
				const m = (await ctx.call("messagingmessages.forDelivery", { id: messageId }, sys)) as {
					status: string;
					sendingAt: string | null;
					content: OutboundContent;
					appId: string;
					kind: ChannelKind;
					accountId: string;
					externalId: string;
				};
				if (m.status !== "queued" && m.status !== "sending") return; // sent already (a redelivery)
				if (m.status === "sending") {
					// An attempt went out and its answer was lost: Meta's echo may still name it.
					const waited = Date.now() - Date.parse(m.sendingAt ?? "");
					if (waited < this.confirmMs) throw new SendInProgressError(messageId, this.confirmMs - waited);
					this.logger.warn("sending again: Meta did not confirm the earlier attempt", { messageId, sendingAt: m.sendingAt });
				}
				const claim = (await ctx.call("messagingmessages.beginSend", { id: messageId, status: m.status, sendingAt: m.sendingAt }, sys)) as {
					claimed: boolean;
					sendingAt: string;
				};
				if (!claim.claimed) return; // another delivery of it took this attempt
				if (m.status === "sending") this.counters.resends++;
				try {
					const { externalId } = (await ctx.call(
						"messaginggraph.send",
						{ appId: m.appId, kind: m.kind, accountId: m.accountId, to: m.externalId, content: m.content, ref: messageId },
						sys,
					)) as { externalId: string };
					await ctx.call("messagingmessages.markSent", { id: messageId, externalId }, sys);
					this.counters.sends++;
				} catch (err) {
					if (err instanceof SendOutcomeUnknownError) throw new SendInProgressError(messageId, this.confirmMs);
					// Graph answered every try with an error (or its breaker is open): nothing went out, the next delivery may send.
					if (err instanceof ProviderUnavailableError)
						await ctx.call("messagingmessages.releaseSend", { id: messageId, sendingAt: claim.sendingAt }, sys);
					if (!(err instanceof ProviderRejectedError)) throw err;
					await ctx.call(
						"messagingmessages.markSent",
						{ id: messageId, error: { code: null, title: "rejected by Meta", message: err.message.slice(0, 1000) } },
						sys,
					);
				}
			},
		},
	},

	methods: {
		async processMessage(ctx: Ctx<unknown>, job: InboundJob, e: Extract<InboundEvent, { type: "message" }>) {
			const sys = asSystem(job.tenantId);
			const identity = { appId: job.appId, kind: e.kind, accountId: e.accountId, externalId: e.from };
			const customer = (await ctx.call("messagingcustomers.ensure", { ...identity, profileName: e.profileName ?? null }, sys)) as {
				id: string;
				created: boolean;
				profileStatus: string;
			};
			// The profile fills in later: a Graph outage never holds up the message.
			if (customer.profileStatus === "pending")
				await sendToChannel(this.broker, PROFILE_CHANNEL, { tenantId: job.tenantId, customerId: customer.id });
			const conversation = (await ctx.call("messagingconversations.ensure", { customerId: customer.id, ...identity }, sys)) as {
				id: string;
				customerId: string;
				status: string;
				created: boolean;
			};
			const flow = { customerCreated: customer.created, reopened: !conversation.created && conversation.status === "closed" };
			const recorded = (await ctx.call(
				"messagingmessages.recordInbound",
				{
					conversationId: conversation.id,
					dedupeKey: `in:${job.key}`,
					externalId: e.externalId.slice(0, 256),
					kind: e.kind,
					text: e.text,
					attachments: e.attachments.slice(0, 20),
					postback: e.postback ?? null,
					reaction: e.reaction ?? null,
					at: e.at,
					flow,
				},
				sys,
			)) as { created: boolean; messageId: string; flowPending: typeof flow | null };
			if (recorded.created) this.counters.messages++;
			// A redelivery: done, unless the first attempt died before the flows saw the message.
			else if (!recorded.flowPending) return void this.counters.duplicates++;
			// Flows are an add-on: a node without them never holds up the message (it is stored already).
			if (!recorded.flowPending || !this.broker.registry.getActionEndpoints("messagingflowruns.onInbound")?.hasAvailable()) return;
			// A failure here is retried by the channel (the message stays stored); onInbound sees each message once.
			await ctx.call(
				"messagingflowruns.onInbound",
				{
					messageId: recorded.messageId,
					conversationId: conversation.id,
					customerId: conversation.customerId,
					appId: job.appId,
					text: e.postback?.payload ?? e.text,
					...recorded.flowPending,
				},
				sys,
			);
			await ctx.call("messagingmessages.markFlowHandled", { id: recorded.messageId }, sys);
		},
		async processStatus(ctx: Ctx<unknown>, job: InboundJob, e: Extract<InboundEvent, { type: "status" }>) {
			const sys = asSystem(job.tenantId);
			// Meta handed back what our send carried: that send went out, whatever became of its own answer.
			if (e.ref && e.externalIds.length)
				await ctx.call("messagingmessages.markSent", { id: e.ref, externalId: e.externalIds[0] }, sys).catch(err => {
					if (!(err instanceof NotFoundError)) throw err; // not a message of this tenant: nothing to confirm
				});
			if (e.externalIds.length) {
				const res = (await ctx.call(
					"messagingmessages.applyStatus",
					{ externalIds: e.externalIds.slice(0, 100), status: e.status, error: e.error ?? null },
					sys,
				)) as { matched: number };
				// A status can overtake the send's own answer: try again shortly (channel retries), dead letter at last.
				if (!res.matched) throw new Error(`status '${e.status}' for a message not known (yet): ${e.externalIds[0]}`);
			}
			// Messenger and Instagram receipts: everything sent up to the watermark, named or not.
			if (e.watermark && (e.status === "delivered" || e.status === "read")) {
				const conv = (await ctx.call(
					"messagingconversations.byIdentity",
					{ appId: job.appId, kind: e.kind, accountId: e.accountId, externalId: e.recipient },
					sys,
				)) as { id: string } | null;
				if (conv)
					await ctx.call("messagingmessages.applyWatermark", { conversationId: conv.id, status: e.status, watermark: e.watermark }, sys);
			}
			this.counters.statuses++;
		},
	},

	created() {
		this.confirmMs = config().GRAPH_SEND_CONFIRM_MS;
		this.counters = { messages: 0, duplicates: 0, statuses: 0, profiles: 0, sends: 0, resends: 0 };
	},
};

export default ProcessorService;
