/**
 * Third-party accounts a user connects (README, "Signing in with a provider, API clients and
 * integrations"): any OAuth 2 provider from INTEGRATION_PROVIDERS (GitHub, Notion, …), authorization
 * code + PKCE, tokens sealed at rest with AES-256-GCM (lib/secret-box.ts), refreshed before they expire,
 * revoked at the provider on disconnect where it supports RFC 7009.
 *
 * This file lists the actions; the flow, refresh and disconnect are in ./connections/flow.ts, the provider
 * protocol in ./connections/provider-client.ts, inbound webhooks in ./connections/webhooks.ts (routed by the
 * gateway with their raw body), issues mirrored as tasks in ./connections/issues-to-tasks.ts.
 */
import { config, integrationProviders } from "../../lib/config";
import { currentUser, type Ctx } from "../../lib/context";
import { KeyedMutex } from "../../lib/keyed-mutex";
import { disconnectRedis, redisClient } from "../../lib/redis";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { loadSecretKey, SecretBox } from "../../lib/secret-box";
import { Collection } from "../../mixins/collection";
import { JobHandlersMixin } from "../platform/jobs/handlers";
import { PlatformSchedulesMixin } from "../platform/scheduler/platform-schedules";
import { connectionMethods } from "./connections/flow";
import { issueSyncMethods } from "./connections/issues-to-tasks";
import { WEBHOOK_CHANNEL, webhookMethods, type WebhookParams } from "./connections/webhooks";
import { IntegrationClient } from "./connections/provider-client";
import { RefreshLock } from "./connections/refresh-lock";
import {
	publicConnection,
	type ConnectionRow,
	type IntegrationsMethods,
	type IntegrationsThis,
	type IntegrationsVars,
	type PendingConnect,
	type TaskLinkRow,
	type WebhookDeliveryRow,
} from "./connections/types";

const cfgAtLoad = config();
const provider = { type: "string", min: 1, max: 32, pattern: /^[a-z][a-z0-9-]*$/ } as const;
const callbackParam = { type: "string", max: 2048, optional: true } as const;

/** The purge of expired connect flows, hourly through the scheduler (README, "Platform jobs"). */
export const INTEGRATIONS_PURGE_JOB = "integrations.purge";
/** Items of providers without webhooks for them (Notion rows) follow through this sync, every 15 minutes. */
export const INTEGRATIONS_SYNC_JOB = "integrations.sync-lists";

const IntegrationsService: ServiceSchema<DbSettings, IntegrationsMethods, IntegrationsVars> = {
	name: "integrations",
	mixins: [
		JobHandlersMixin<IntegrationsThis>({
			[INTEGRATIONS_PURGE_JOB]: {
				handler() {
					return this.purgeExpired();
				},
			},
			[INTEGRATIONS_SYNC_JOB]: {
				handler() {
					return this.syncListConnections();
				},
			},
		}),
		PlatformSchedulesMixin([
			{ id: "integrations-purge", name: "Purge expired integration connect flows", cron: "20 * * * *", jobType: INTEGRATIONS_PURGE_JOB },
			{ id: "integrations-sync-lists", name: "Sync Notion rows into tasks", cron: "*/15 * * * *", jobType: INTEGRATIONS_SYNC_JOB },
		]),
	],

	channels: {
		[WEBHOOK_CHANNEL]: {
			group: "integrations",
			maxRetries: 5,
			deadLettering: { enabled: true },
			handler(ctx: Ctx<{ id?: unknown }>) {
				const id = ctx.params?.id;
				if (typeof id !== "string" || !id) return undefined; // malformed: nothing to process, nothing to retry
				return this.processWebhook(id);
			},
		},
	},

	actions: {
		list: {
			rest: "GET /",
			auth: "required",
			summary: "Your connected third-party accounts (never their tokens).",
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				const rows = await this.connections.find({ userId: currentUser(ctx).id }, { sort: ["createdAt"], limit: 100 });
				return { rows: rows.map(publicConnection), total: rows.length };
			},
		},

		connect: {
			rest: "POST /:provider/connect",
			auth: "required",
			summary: "Connect a third-party account: answers the URL to send the browser to (code + PKCE).",
			params: { provider, $$strict: "remove" },
			async handler(ctx: Ctx<{ provider: string }>) {
				return { authorizationUrl: await this.beginConnect(ctx) };
			},
		},

		callback: {
			rest: "GET /:provider/callback",
			// The browser comes back from the provider without our token: the state names the user.
			auth: "public",
			rateLimit: { max: 20, windowSec: 60, by: "ip" },
			summary: "Where the provider sends the browser back after a connect.",
			params: {
				provider,
				code: callbackParam,
				state: callbackParam,
				error: callbackParam,
				error_description: callbackParam,
				iss: callbackParam,
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ provider: string; code?: string; state?: string; error?: string; iss?: string }>) {
				return this.finishConnect(ctx);
			},
		},

		disconnect: {
			rest: "DELETE /:id",
			auth: "required",
			summary: "Disconnect (revoked at the provider where it supports it).",
			params: { id: { type: "string", min: 1, max: 64 }, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.disconnect(ctx);
			},
		},

		sync: {
			rest: "POST /:id/sync",
			auth: "required",
			summary:
				"Mirror every issue assigned to you at the provider (or every row of the Notion database) as a task (again: updates, never duplicates; a Notion row gone completes its task).",
			params: { id: { type: "string", min: 1, max: 64 }, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.syncAssignedIssues(ctx);
			},
		},

		webhook: {
			rest: "POST /webhooks/:provider/:connectionId",
			// The signature is the authentication; it covers the exact bytes, handed over unparsed (lib/body.ts).
			auth: "public",
			// per sending address: a provider's bursts pass, a flood of forged deliveries is cut off before any HMAC work
			rateLimit: { max: cfgAtLoad.INTEGRATION_WEBHOOK_RATE_MAX, windowSec: cfgAtLoad.INTEGRATION_WEBHOOK_RATE_WINDOW_S, by: "ip" },
			rawBody: true,
			bodyLimit: "1mb",
			summary: "Inbound webhook of a connection (HMAC-SHA256 signed).",
			params: {
				provider,
				connectionId: { type: "string", min: 1, max: 64 },
				rawBody: { type: "string", max: 1_500_000, default: "" },
				$$strict: "remove",
			},
			handler(ctx: Ctx<WebhookParams>) {
				return this.receiveWebhook(ctx);
			},
		},

		replayWebhook: {
			// Internal (operators: `call integrations.replayWebhook --id …`): process a stored delivery again, e.g. after a dead letter.
			visibility: "public",
			params: { id: { type: "string", min: 1, max: 64 } },
			handler(ctx: Ctx<{ id: string }>) {
				return this.replayWebhook(ctx.params.id);
			},
		},

		purgeExpired: {
			// Internal (the `integrations.purge` job; operators from the REPL): how many expired connect flows went.
			visibility: "public",
			params: {},
			handler() {
				return this.purgeExpired();
			},
		},

		accessToken: {
			// Internal, for what works with a connection (syncs, webhooks): its access token, refreshed when near expiry.
			visibility: "public",
			params: { connectionId: { type: "string", min: 1, max: 64 } },
			async handler(ctx: Ctx<{ connectionId: string }>) {
				return { accessToken: await this.accessTokenOf(ctx.params.connectionId) };
			},
		},
	},

	methods: {
		...connectionMethods,
		...webhookMethods,
		...issueSyncMethods,

		/** Removes the connect flows nobody came back from (a callback refuses them anyway). */
		async purgeExpired() {
			const flows = await this.pending.remove({ expiresAt: { $lt: new Date().toISOString() } });
			if (flows) this.logger.info("expired connect flows purged", { flows });
			return { flows };
		},
	},

	created() {
		this.cfg = config();
		const { key, generated } = loadSecretKey(this.cfg);
		if (generated) this.logger.warn("SECRETS_KEY is not set: generated a development key in DATA_DIR/keys/secrets.key");
		this.box = new SecretBox(key);
		this.providerConfigs = new Map(Object.entries(integrationProviders(this.cfg)));
		this.clients = new Map([...this.providerConfigs].map(([name, p]) => [name, new IntegrationClient(name, p, this.cfg.OAUTH_TIMEOUT_MS)]));
		// cluster-wide with Redis (a refresh takes at most 3 attempts of OAUTH_TIMEOUT_MS), else this process only
		this.lockRedis = this.cfg.REDIS_URL ? redisClient(this.cfg.REDIS_URL, "durable") : null;
		const refreshMs = this.cfg.OAUTH_TIMEOUT_MS * 3 + 5_000;
		this.refreshing = new RefreshLock(this.lockRedis, `${this.cfg.NAMESPACE}:integrations:refresh`, { ttlMs: refreshMs, waitMs: refreshMs });
		this.syncing = new KeyedMutex();
		this.taskLinks = new Collection<TaskLinkRow>({
			collection: "integration_task_links",
			indexes: [{ fields: ["connectionId", "externalId"], unique: true }],
		});
		this.connections = new Collection<ConnectionRow>({ collection: "integration_connections", indexes: [{ fields: ["userId"] }] });
		this.pending = new Collection<PendingConnect>({ collection: "integration_pending", indexes: [{ fields: ["stateHash"], unique: true }] });
		this.deliveries = new Collection<WebhookDeliveryRow>({
			collection: "integration_webhooks",
			indexes: [{ fields: ["provider", "deliveryId"], unique: true }],
		});
	},

	async started() {
		await Promise.all([
			this.connections.open(this.broker),
			this.pending.open(this.broker),
			this.deliveries.open(this.broker),
			this.taskLinks.open(this.broker),
		]);
	},

	async stopped() {
		await Promise.all([this.connections.close(), this.pending.close(), this.deliveries.close(), this.taskLinks.close()]);
		if (this.lockRedis) await disconnectRedis(this.lockRedis);
	},
};

export default IntegrationsService;
