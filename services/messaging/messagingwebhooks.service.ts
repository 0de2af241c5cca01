/**
 * Meta's webhooks (public; README, "Messaging domain" → "Webhooks"):
 * - `GET /api/messaging/webhooks/:appId`: the subscription handshake (`hub.mode=subscribe` and the app's
 *   verify token: 200 with `hub.challenge` as plain text; anything else 403);
 * - `POST /api/messaging/webhooks/:appId`: `X-Hub-Signature-256` checked over the raw body with the app
 *   secret (missing or wrong: 401, nothing stored). A valid delivery is split into events; each event is
 *   stored under its key (Meta's message id, status id …; a unique index) and handed durably to the
 *   `messaging.inbound` channel through the outbox, then 200. An event whose key is stored and queued
 *   already is a redelivery and is skipped. A well-signed payload that is not JSON or not shaped like
 *   Meta's is recorded as rejected (operators: `GET /api/messaging/webhooks/rejections`) and still 200:
 *   Meta would only retry it for 36 hours.
 */
import { asSystem, type Ctx } from "../../lib/context";
import { ForbiddenError, InvalidSignatureError, NotFoundError, ConflictError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { OutboxMixin, type OutboxMethods } from "../../mixins/outbox.mixin";
import { newId } from "../../mixins/db.mixin";
import { TenantDbMixin, type Row, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { idParam, INBOUND_CHANNEL, type InboundEvent, type InboundJob } from "./common";
import { eventKey, parsePayload } from "./payloads";
import { signatureMatches } from "./signature";

/** Meta's batches are small; a page of 1,000 events is well under this. */
const WEBHOOK_BODY_LIMIT = "512kb";
/** How much of a rejected payload is kept for the operator. */
const REJECTED_EXCERPT = 4096;
/** Meta retries a delivery for up to 36 hours: event keys are kept a week, rejections 30 days. */
const EVENT_RETENTION_MS = 7 * 24 * 3600 * 1000;
const REJECTED_RETENTION_MS = 30 * 24 * 3600 * 1000;
/** A tenant's old rows are looked for at most this often, on its next delivery. */
const PRUNE_EVERY_MS = 3600 * 1000;

interface WebhookApp {
	tenantId: string;
	appSecret: string;
	verifyToken: string;
	accounts: { kind: string; accountId: string }[];
}

interface WebhookMethods extends TenantDbMethods, OutboxMethods {
	webhookApp(ctx: Ctx<unknown>, id: string): Promise<WebhookApp | null>;
	accept(app: WebhookApp, appId: string, event: InboundEvent): Promise<"queued" | "duplicate">;
	reject(app: WebhookApp, appId: string, problems: string[], raw: Buffer): Promise<void>;
	pruneSometimes(tenantId: string): void;
}
interface WebhookVars {
	/** when each tenant's old rows were last pruned (on this node) */
	prunedAt: Map<string, number>;
}

const WebhooksService: ServiceSchema<DbSettings, WebhookMethods, WebhookVars> = {
	name: "messagingwebhooks",
	mixins: [
		TenantDbMixin({ collection: "messaging_webhook_events", indexes: [{ fields: ["tenantId", "key"], unique: true }] }),
		OutboxMixin({ collection: "messaging_webhooks_outbox", removeSent: true }),
	],
	settings: {
		rest: "/messaging/webhooks",
		fields: ["id", "appId", "problems", "excerpt", "createdAt"],
	},
	actions: {
		listRejections: {
			rest: "GET /rejections",
			roles: ["admin"],
			summary: "Well-signed deliveries that were not Meta-shaped (what was wrong, and the start of the body).",
			params: { ...pageParams, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number }>) {
				const { page, pageSize } = ctx.params;
				return this._list(ctx, { query: { kind: "rejected" }, page, pageSize, sort: "-createdAt" });
			},
		},
		verify: {
			rest: "GET /:appId",
			auth: "public",
			rateLimit: { max: 60, windowSec: 60 },
			summary: "Meta's subscription handshake: answers `hub.challenge` for the app's verify token.",
			params: {
				appId: idParam,
				"hub.mode": { type: "string", max: 32, optional: true },
				"hub.verify_token": { type: "string", max: 512, optional: true },
				"hub.challenge": { type: "string", max: 256, optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ appId: string; "hub.mode"?: string; "hub.verify_token"?: string; "hub.challenge"?: string }>) {
				const app = await this.webhookApp(ctx, ctx.params.appId);
				const { "hub.mode": mode, "hub.verify_token": token, "hub.challenge": challenge } = ctx.params;
				if (!app || mode !== "subscribe" || token !== app.verifyToken || challenge === undefined)
					throw new ForbiddenError("The verification request does not match this app.", "WEBHOOK_VERIFICATION_FAILED");
				ctx.meta.$responseType = "text/plain; charset=utf-8";
				return challenge;
			},
		},
		receive: {
			rest: "POST /:appId",
			auth: "public",
			rawBody: true,
			bodyLimit: WEBHOOK_BODY_LIMIT,
			// Meta sends from many addresses at its own pace; the gateway's default limit per address still applies.
			summary: "Meta's webhook deliveries (Messenger, Instagram, WhatsApp), signed with X-Hub-Signature-256.",
			params: { appId: idParam, rawBody: { type: "string", max: 800_000, default: "" }, $$strict: "remove" },
			async handler(ctx: Ctx<{ appId: string; rawBody: string }>) {
				const app = await this.webhookApp(ctx, ctx.params.appId);
				if (!app) throw new NotFoundError("No such app.", ctx.params.appId);
				const raw = Buffer.from(ctx.params.rawBody, "base64");
				const header = ctx.meta.headers?.["x-hub-signature-256"];
				if (!signatureMatches(raw, typeof header === "string" ? header : undefined, app.appSecret)) throw new InvalidSignatureError();
				let body: unknown;
				try {
					body = JSON.parse(raw.toString("utf8"));
				} catch {
					await this.reject(app, ctx.params.appId, ["the body is not JSON"], raw);
					return { received: true, events: 0, duplicates: 0, rejected: true };
				}
				this.pruneSometimes(app.tenantId);
				const parsed = parsePayload(body);
				if (parsed.problems.length) await this.reject(app, ctx.params.appId, parsed.problems, raw);
				let duplicates = 0;
				for (const event of parsed.events) if ((await this.accept(app, ctx.params.appId, event)) === "duplicate") duplicates++;
				return { received: true, events: parsed.events.length - duplicates, duplicates, rejected: parsed.problems.length > 0 };
			},
		},
	},
	methods: {
		async webhookApp(ctx: Ctx<unknown>, id: string) {
			return (await ctx.call("messagingapps.webhookApp", { id }, { meta: {} })) as WebhookApp | null;
		},
		async accept(app: WebhookApp, appId: string, event: InboundEvent) {
			const sys = asSystem(app.tenantId);
			const key = `${appId}|${eventKey(event)}`;
			try {
				await this._create(sys, { kind: "event", key, appId, queued: false });
			} catch (err) {
				if (!(err instanceof ConflictError)) throw err;
				// Stored before: a redelivery, unless the first attempt died before it was queued.
				const seen = await this.scopedFindOne<Row & { queued: boolean }>(sys, { key });
				if (seen?.queued) return "duplicate";
			}
			const job: InboundJob = { tenantId: app.tenantId, appId, key, event };
			await this.publishEvent(INBOUND_CHANNEL, { ...job });
			await this.scopedUpdateWhere(sys, { key }, { queued: true });
			return "queued";
		},
		pruneSometimes(tenantId: string) {
			const now = Date.now();
			if (now - (this.prunedAt.get(tenantId) ?? 0) < PRUNE_EVERY_MS) return;
			this.prunedAt.set(tenantId, now);
			const sys = asSystem(tenantId);
			const before = (ms: number) => new Date(now - ms).toISOString();
			// Not awaited: a delivery never waits for housekeeping.
			void Promise.all([
				this.scopedRemoveWhere(sys, { kind: "event", createdAt: { $lt: before(EVENT_RETENTION_MS) } }),
				this.scopedRemoveWhere(sys, { kind: "rejected", createdAt: { $lt: before(REJECTED_RETENTION_MS) } }),
			]).catch(err => this.logger.warn("webhook rows not pruned", { tenantId, error: (err as Error).message }));
		},
		async reject(app: WebhookApp, appId: string, problems: string[], raw: Buffer) {
			this.logger.warn("webhook payload rejected", { appId, problems: problems.slice(0, 5) });
			await this._create(asSystem(app.tenantId), {
				kind: "rejected",
				key: `rejected:${newId()}`,
				appId,
				problems: problems.slice(0, 50),
				excerpt: raw.subarray(0, REJECTED_EXCERPT).toString("utf8"),
			});
		},
	},
	created() {
		this.prunedAt = new Map();
	},
};

export default WebhooksService;
