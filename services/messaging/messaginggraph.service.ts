/**
 * Meta's Graph API for the messaging domain (README, "Messaging domain" → "Graph API"): customer profiles
 * (cached per identity for GRAPH_PROFILE_CACHE_TTL_S) and sends. Timeouts, retries with backoff and the
 * circuit breaker live in ./graph-client.ts; Moleculer's own breaker and retries are off on these actions
 * (they would stack on the client's). Access tokens come from `messagingapps.credentials` for the
 * caller's tenant and never leave this node.
 */
import type { ServiceSettingSchema } from "moleculer";
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import type { ServiceSchema } from "../../lib/schema";
import { externalIdParam, idParam, kindParam, SEND_REF_PREFIX, type ChannelCredentials, type ChannelKind } from "./common";
import { GraphClient } from "./graph-client";
import type { OutboundContent } from "./messages/types";

const cfg = config();
/** The longest a call can take: every attempt timing out, plus the backoffs between them. */
const CALL_BUDGET_MS = cfg.GRAPH_TIMEOUT_MS * cfg.GRAPH_MAX_ATTEMPTS + cfg.GRAPH_RETRY_DELAY_MS * (2 ** cfg.GRAPH_MAX_ATTEMPTS - 1) + 1000;

interface GraphVars {
	client: GraphClient;
}
interface GraphMethods {
	credentials(ctx: Ctx<unknown>, p: { appId: string; kind: ChannelKind; accountId: string }): Promise<ChannelCredentials>;
}

/**
 * The body of a send for each channel (Meta's Send API and WhatsApp Cloud API formats). `ref` (our
 * message id) rides along as Messenger's `message.metadata` (echoed in message_echoes) and WhatsApp's
 * `biz_opaque_callback_data` (returned with every status of the message).
 */
export function sendBody(kind: ChannelKind, to: string, content: OutboundContent, ref?: string): unknown {
	const body = channelBody(kind, to, content) as Record<string, any>;
	if (!ref) return body;
	if (kind === "whatsapp") return { ...body, biz_opaque_callback_data: SEND_REF_PREFIX + ref };
	return { ...body, message: { ...body.message, metadata: SEND_REF_PREFIX + ref } };
}

function channelBody(kind: ChannelKind, to: string, content: OutboundContent): unknown {
	if (kind === "whatsapp") {
		const base = { messaging_product: "whatsapp", recipient_type: "individual", to };
		if (content.template)
			return {
				...base,
				type: "template",
				template: {
					name: content.template.name,
					language: { code: content.template.language },
					...(content.template.components && { components: content.template.components }),
				},
			};
		if (content.attachment) {
			const type = content.attachment.type === "file" ? "document" : content.attachment.type;
			return { ...base, type, [type]: { link: content.attachment.url } };
		}
		// quick replies and postback buttons are WhatsApp's reply buttons (at most 3)
		const replies = [...(content.quickReplies ?? []), ...(content.buttons ?? []).filter(b => b.type === "postback")].slice(0, 3) as {
			title: string;
			payload: string;
		}[];
		if (replies.length)
			return {
				...base,
				type: "interactive",
				interactive: {
					type: "button",
					body: { text: content.text ?? "" },
					action: { buttons: replies.map(r => ({ type: "reply", reply: { id: r.payload.slice(0, 256), title: r.title } })) },
				},
			};
		return { ...base, type: "text", text: { body: content.text ?? "" } };
	}
	let message: unknown = { text: content.text ?? "" };
	if (content.attachment) message = { attachment: { type: content.attachment.type, payload: { url: content.attachment.url, is_reusable: true } } };
	else if (content.buttons?.length)
		message = {
			attachment: {
				type: "template",
				payload: {
					template_type: "button",
					text: content.text ?? "",
					buttons: content.buttons.map(b =>
						b.type === "url" ? { type: "web_url", url: b.url, title: b.title } : { type: "postback", title: b.title, payload: b.payload },
					),
				},
			},
		};
	else if (content.quickReplies?.length)
		message = {
			text: content.text ?? "",
			quick_replies: content.quickReplies.map(q => ({ content_type: "text", title: q.title, payload: q.payload })),
		};
	return { recipient: { id: to }, messaging_type: "RESPONSE", message };
}

const GraphService: ServiceSchema<ServiceSettingSchema, GraphMethods, GraphVars> = {
	name: "messaginggraph",
	actions: {
		profile: {
			visibility: "public",
			idempotent: false,
			timeout: CALL_BUDGET_MS,
			circuitBreaker: { enabled: false },
			cache: { keys: ["#user.tenantId", "appId", "kind", "accountId", "externalId"], ttl: cfg.GRAPH_PROFILE_CACHE_TTL_S },
			summary: "A customer's name and picture from the Graph API (Messenger, Instagram; internal).",
			params: { appId: idParam, kind: kindParam, accountId: externalIdParam, externalId: externalIdParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ appId: string; kind: ChannelKind; accountId: string; externalId: string }>) {
				const { accessToken } = await this.credentials(ctx, ctx.params);
				const fields = ctx.params.kind === "instagram" ? "name,username,profile_pic" : "first_name,last_name,profile_pic";
				const p = await this.client.request<{
					first_name?: string;
					last_name?: string;
					name?: string;
					username?: string;
					profile_pic?: string;
				}>({
					method: "GET",
					path: `/${encodeURIComponent(ctx.params.externalId)}`,
					accessToken,
					query: { fields },
				});
				const name = p.name ?? ([p.first_name, p.last_name].filter(Boolean).join(" ") || p.username || null);
				return { name: name?.slice(0, 200) ?? null, pictureUrl: typeof p.profile_pic === "string" ? p.profile_pic.slice(0, 2048) : null };
			},
		},
		send: {
			visibility: "public",
			idempotent: false,
			timeout: CALL_BUDGET_MS,
			circuitBreaker: { enabled: false },
			summary: "Send one message through the Graph API; Meta's message id (internal).",
			params: {
				appId: idParam,
				kind: kindParam,
				accountId: externalIdParam,
				to: externalIdParam,
				content: { type: "object" },
				ref: { ...idParam, optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ appId: string; kind: ChannelKind; accountId: string; to: string; content: OutboundContent; ref?: string }>) {
				const { accessToken, accountId } = await this.credentials(ctx, ctx.params);
				const res = await this.client.request<{ message_id?: string; messages?: { id?: string }[] }>({
					method: "POST",
					path: `/${encodeURIComponent(accountId)}/messages`,
					accessToken,
					body: sendBody(ctx.params.kind, ctx.params.to, ctx.params.content, ctx.params.ref),
					repeatable: false,
				});
				const externalId = res?.message_id ?? res?.messages?.[0]?.id;
				if (typeof externalId !== "string" || !externalId) throw new Error("the Graph API answered a send without a message id");
				return { externalId };
			},
		},
		breaker: {
			visibility: "public",
			summary: "The state of this node's Graph API circuit breaker (internal).",
			params: { $$strict: "remove" },
			handler() {
				return { state: this.client.breakerState };
			},
		},
	},
	methods: {
		credentials(ctx: Ctx<unknown>, p: { appId: string; kind: ChannelKind; accountId: string }) {
			return ctx.call("messagingapps.credentials", { appId: p.appId, kind: p.kind, accountId: p.accountId }) as Promise<ChannelCredentials>;
		},
	},
	created() {
		this.client = new GraphClient(cfg, state => this.logger.warn(`Graph API circuit breaker: ${state}`));
	},
};

export default GraphService;
