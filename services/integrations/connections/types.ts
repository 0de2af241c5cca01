/** What the `integrations` service keeps and calls. */
import type { Config, IntegrationProviderConfig } from "../../../lib/config";
import type { Ctx } from "../../../lib/context";
import type { KeyedMutex } from "../../../lib/keyed-mutex";
import type { DbSettings, ServiceThis } from "../../../lib/schema";
import type { SecretBox } from "../../../lib/secret-box";
import type { CollectionOf } from "../../../mixins/collection";
import type { Redis } from "ioredis";
import type { IntegrationClient } from "./provider-client";
import type { RefreshLock } from "./refresh-lock";

/** A user's connection to a provider; the tokens only sealed (lib/secret-box.ts). */
export interface ConnectionRow {
	id: string;
	userId: string;
	/** the tenant the user was acting in when connecting: where synced tasks land (null: no task sync) */
	tenantId: string | null;
	provider: string;
	accessTokenSealed: string;
	refreshTokenSealed: string | null;
	expiresAt: string | null;
	scope: string | null;
	createdAt: string;
	updatedAt: string;
}

/** What a user sees of a connection: never a token. */
export interface PublicConnection {
	id: string;
	provider: string;
	scope: string | null;
	expiresAt: string | null;
	createdAt: string;
	updatedAt: string;
}

export interface PendingConnect {
	id: string;
	stateHash: string;
	provider: string;
	userId: string;
	tenantId: string | null;
	codeVerifier: string;
	/** SHA-256 of the flow cookie's nonce set on the browser that started it */
	browserHash: string;
	expiresAt: string;
	createdAt: string;
}

/** An inbound webhook delivery, stored once per (provider, delivery id). */
export interface WebhookDeliveryRow {
	id: string;
	provider: string;
	connectionId: string;
	userId: string;
	deliveryId: string;
	event: string | null;
	payload: unknown;
	status: "received" | "processed";
	processedAt: string | null;
	createdAt: string;
}

/** A provider issue mirrored as a task: one per (connection, issue id), so a repeated event never makes a second task. */
export interface TaskLinkRow {
	id: string;
	connectionId: string;
	externalId: string;
	tenantId: string;
	taskId: string;
	createdAt: string;
}

/** What the sync reads of a GitHub issue (REST API and `issues` webhooks alike). */
/** What a sync did: tasks created, updated, items skipped (pull requests, tasks the user deleted), tasks of vanished items completed. */
export type SyncCounts = { created: number; updated: number; skipped: number; closed: number };

export interface ProviderIssue {
	id: number | string;
	title?: string;
	body?: string | null;
	state?: string;
	/** set on pull requests, which GitHub's /issues also lists: not synced */
	pull_request?: unknown;
	/** no longer at the provider (a Notion row deleted or archived): its task is completed, nothing else changes */
	gone?: boolean;
}

export interface IntegrationsVars {
	taskLinks: CollectionOf<TaskLinkRow>;
	syncing: KeyedMutex;
	providerConfigs: Map<string, IntegrationProviderConfig>;
	deliveries: CollectionOf<WebhookDeliveryRow>;
	cfg: Config;
	box: SecretBox;
	clients: Map<string, IntegrationClient>;
	connections: CollectionOf<ConnectionRow>;
	pending: CollectionOf<PendingConnect>;
	/** one refresh at a time per connection: cluster-wide with Redis (./refresh-lock.ts) */
	refreshing: RefreshLock;
	lockRedis: Redis | null;
}

export interface IntegrationsMethods {
	clientOf(provider: string): IntegrationClient;
	redirectUri(provider: string): string;
	beginConnect(ctx: Ctx<{ provider: string }>): Promise<string>;
	finishConnect(ctx: Ctx<{ provider: string; code?: string; state?: string; error?: string; iss?: string }>): Promise<PublicConnection>;
	disconnect(ctx: Ctx<{ id: string }>): Promise<null>;
	/** The connection's access token, refreshed first when it expires within REFRESH_MARGIN_MS. */
	accessTokenOf(connectionId: string): Promise<string>;
	/** the `integrations.purge` job: expired connect flows removed */
	purgeExpired(): Promise<{ flows: number }>;
	// webhooks.ts
	receiveWebhook(ctx: Ctx<{ provider: string; connectionId: string }>): Promise<unknown>;
	processWebhook(id: string): Promise<void>;
	replayWebhook(id: string): Promise<{ replayed: boolean }>;
	// issues-to-tasks.ts
	syncIssue(connection: ConnectionRow, issue: ProviderIssue): Promise<"created" | "updated" | "skipped">;
	syncAssignedIssues(ctx: Ctx<{ id: string }>): Promise<SyncCounts>;
	syncConnection(connection: ConnectionRow): Promise<SyncCounts>;
	syncListConnections(): Promise<{ synced: number; failed: number }>;
}

export type IntegrationsThis = ServiceThis<DbSettings, IntegrationsMethods, IntegrationsVars>;
export type IntegrationsMethodsOf<K extends keyof IntegrationsMethods> = Pick<IntegrationsMethods, K> & ThisType<IntegrationsThis>;

export const publicConnection = (r: ConnectionRow): PublicConnection => ({
	id: r.id,
	provider: r.provider,
	scope: r.scope,
	expiresAt: r.expiresAt,
	createdAt: r.createdAt,
	updatedAt: r.updatedAt,
});
