/**
 * Provider webhooks: a delivery is verified by its provider (signature and timestamp for the sandbox
 * and Stripe, PayPal's verify API), then applied ONCE per provider event id: the apply step is an
 * `idempotencyKey: "required"` action keyed by `<provider>:<eventId>`, so the Idempotency middleware
 * deduplicates redeliveries across every node (a redelivery during the first answers 409, which the
 * provider retries; after it, the stored answer). A failed apply stores nothing: the redelivery runs it.
 *
 * HTTP: `POST /api/commerce/webhooks/:provider` takes the body unparsed (`rawBody: true`, at most 256 KB)
 * with the providers' signature headers, and hands both to `receive`.
 */
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import type { ServiceSchema } from "../../lib/schema";
import { Providers, PROVIDER_NAMES } from "./providers";
import type { WebhookEvent } from "./providers/provider";

interface Vars {
	providers: Providers;
}

const MAX_BODY = 256 * 1024;

const PAYOUT_OUTCOME: Partial<Record<WebhookEvent["type"], "paid" | "failed">> = { "payout.paid": "paid", "payout.failed": "failed" };

const WebhooksService: ServiceSchema<{ rest: string }, object, Vars> = {
	name: "commercewebhooks",
	settings: { rest: "/commerce/webhooks" },
	created() {
		this.providers = new Providers(config());
	},
	actions: {
		receive: {
			visibility: "public",
			auth: "public",
			summary: "Verify a provider's delivery and apply its event once.",
			params: {
				provider: { type: "enum", values: [...PROVIDER_NAMES] },
				rawBody: { type: "string", max: MAX_BODY },
				headers: { type: "record", key: { type: "string", max: 100 }, value: { type: "string", max: 4096 } },
			},
			async handler(ctx: Ctx<{ provider: string; rawBody: string; headers: Record<string, string> }>) {
				const { provider, rawBody, headers } = ctx.params;
				const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
				const event = await this.providers.get(provider).verifyWebhook(rawBody, lower);
				const result = await ctx.call(
					"commercewebhooks.apply",
					{ provider, event },
					{ meta: { headers: { "idempotency-key": `${provider}:${event.eventId}`.slice(0, 255) } } },
				);
				const duplicate = ctx.meta.$responseHeaders?.["Idempotent-Replayed"] === "true";
				return { received: true, eventId: event.eventId, duplicate, result };
			},
		},
		http: {
			rest: "POST /:provider",
			auth: "public",
			// the signatures cover the exact bytes: the gateway hands them over unparsed (lib/body.ts)
			rawBody: true,
			bodyLimit: "256kb",
			summary: "A payment provider's webhook delivery (raw body, signature headers).",
			params: {
				provider: { type: "enum", values: [...PROVIDER_NAMES] },
				rawBody: { type: "string", max: 400_000, default: "" },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ provider: string; rawBody: string }>) {
				const rawBody = Buffer.from(ctx.params.rawBody, "base64").toString("utf8");
				const headers = Object.fromEntries(
					Object.entries(ctx.meta.headers ?? {}).filter((e): e is [string, string] => typeof e[1] === "string"),
				);
				return ctx.call("commercewebhooks.receive", { provider: ctx.params.provider, rawBody, headers });
			},
		},
		apply: {
			visibility: "public",
			auth: "public",
			idempotencyKey: "required",
			params: { provider: { type: "string", max: 20 }, event: { type: "object" } },
			async handler(ctx: Ctx<{ provider: string; event: WebhookEvent }>) {
				const { provider, event } = ctx.params;
				const outcome = PAYOUT_OUTCOME[event.type];
				if (outcome) return ctx.call("sellerpayouts.applyPayoutEvent", { provider, providerRef: event.objectRef, outcome });
				if (event.type === "other") return { applied: false };
				return ctx.call("payments.applyEvent", {
					provider,
					providerRef: event.objectRef,
					type: event.type,
					...(event.declineCode && { declineCode: event.declineCode }),
				});
			},
		},
	},
};

export default WebhooksService;
