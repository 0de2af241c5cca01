/**
 * Every setting comes from the environment and is validated once, at start.
 * A bad value stops the process with one line naming the variable and what it expected.
 */
import Validator from "fastest-validator";
import path from "node:path";
import { withoutTrailingSlashes } from "./text";

const v = new Validator({ useNewCustomCheckerFunction: true });

const port = { type: "number", convert: true, integer: true, min: 0, max: 65535 } as const;
const positiveInt = { type: "number", convert: true, integer: true, positive: true } as const;
const url = (protocols: string[]) => ({
	type: "string",
	optional: true,
	empty: false,
	custom: (value: string | undefined, errors: { type: string; actual: unknown; expected?: string }[]) => {
		if (value === undefined) return value;
		try {
			const protocol = new URL(value).protocol.replace(/:$/, "");
			if (!protocols.includes(protocol)) errors.push({ type: "urlProtocol", actual: value, expected: protocols.join(" or ") });
		} catch {
			errors.push({ type: "urlProtocol", actual: value, expected: protocols.join(" or ") });
		}
		return value;
	},
	messages: { urlProtocol: "The '{field}' field must be a URL starting with {expected}://" },
});
const list = { type: "string", optional: true, default: "" } as const;

export const configSchema = {
	$$strict: false,
	NODE_ENV: { type: "enum", values: ["development", "production", "test"], default: "development" },
	PORT: { ...port, default: 3000 },
	HOST: { type: "string", default: "127.0.0.1" },
	NODE_ID: { type: "string", optional: true, pattern: /^[\w.-]+$/ },
	NAMESPACE: { type: "string", default: "valence", pattern: /^[\w-]*$/ },
	SERVICES: { type: "string", default: "*" },
	TRANSPORTER: url(["nats"]),
	CACHER: { type: "string", optional: true, pattern: /^(memory|redis:\/\/.+)$/ },
	REDIS_URL: url(["redis", "rediss"]),
	MONGO_URI: url(["mongodb", "mongodb+srv"]),
	DATA_DIR: { type: "string", default: "./data" },
	DB_DRIVER: { type: "enum", values: ["nedb", "memory", "mongo"], optional: true },
	LOG_LEVEL: { type: "enum", values: ["fatal", "error", "warn", "info", "debug", "trace"], default: "info" },
	LOG_FORMAT: { type: "enum", values: ["pretty", "json"], default: "pretty" },
	CORS_ORIGINS: list,
	TRUSTED_PROXIES: list,
	BODY_LIMIT: { type: "string", default: "1mb", pattern: /^\d+(b|kb|mb)$/i },
	PUBLIC_BODY_LIMIT: { type: "string", default: "16kb", pattern: /^\d+(b|kb|mb)$/i },
	REQUEST_TIMEOUT_MS: { ...positiveInt, default: 2000 },
	RETRIES: { type: "number", convert: true, integer: true, min: 0, max: 10, default: 3 },
	HEARTBEAT_INTERVAL_S: { ...positiveInt, default: 1 },
	HEARTBEAT_TIMEOUT_S: { ...positiveInt, default: 3 },
	RATE_LIMIT_WINDOW_S: { ...positiveInt, default: 60 },
	RATE_LIMIT_MAX: { ...positiveInt, default: 600 },
	CACHE_TTL_S: { ...positiveInt, default: 300 },
	CACHE_TIMEOUT_MS: { ...positiveInt, default: 250 },
	CACHE_CALLER_READS: { type: "boolean", convert: true, default: true },
	JWT_ISSUER: { type: "string", default: "valence" },
	JWT_AUDIENCE: { type: "string", default: "valence-api" },
	JWT_KEYS_DIR: { type: "string", optional: true },
	JWT_ACCESS_TTL_S: { ...positiveInt, default: 900 },
	JWT_REFRESH_TTL_S: { ...positiveInt, default: 7 * 24 * 3600 },
	// scrypt cost for new password hashes (a power of two); OWASP's 2^17 unless tests lower it
	PASSWORD_SCRYPT_N: { type: "number", convert: true, integer: true, min: 1024, max: 1 << 20, default: 1 << 17 },
	// writes password-reset tokens to the log, for local work without a mailer; refused in production
	DEV_LOG_RESET_LINKS: { type: "boolean", convert: true, default: false },
	// gateways reload the revocation list this often (a lost auth.revoked broadcast bites by then at the latest)
	REVOCATION_SYNC_S: { type: "number", convert: true, integer: true, min: 1, max: 300, default: 10 },
	// the tenant whose owners and admins are the platform's operators (README, "Web app" → "Operators"); "": nobody
	OPERATOR_TENANT_ID: { type: "string", default: "", max: 64 },
	METRICS: { type: "boolean", convert: true, default: true },
	METRICS_PORT: { ...port, optional: true },
	METRICS_TOKEN: { type: "string", optional: true, max: 512 },
	TRACING_EXPORTER: { type: "enum", values: ["none", "console", "event", "zipkin"], default: "none" },
	// Zipkin's base URL (spans go to <it>/api/v2/spans) and the share of requests traced (lib/tracing.ts)
	ZIPKIN_URL: { ...url(["http", "https"]), default: "http://127.0.0.1:9411" },
	TRACING_SAMPLE_RATE: { type: "number", convert: true, min: 0, max: 1, default: 1 },
	// gateway response compression (lib/compression.ts): the encodings offered, the preferred first, or off
	COMPRESSION: { type: "string", default: "br,gzip", pattern: /^(off|(br|gzip)(,(br|gzip))?)$/ },
	COMPRESSION_MIN_BYTES: { type: "number", convert: true, integer: true, min: 0, max: 1 << 30, default: 1024 },
	// the gateway writes the answers ended in one event-loop turn together (lib/batched-writes.ts)
	BATCH_RESPONSE_WRITES: { type: "boolean", convert: true, default: true },
	SHUTDOWN_TIMEOUT_MS: { ...positiveInt, default: 10000 },
	SHUTDOWN_DRAIN_MS: { type: "number", convert: true, integer: true, min: 0, max: 600_000, default: 0 },
	// read by lib/v8-tuning.ts before this module loads; declared here so that a wrong value is refused
	V8_TUNING: { type: "boolean", convert: true, default: true },
	MEDIA_MAX_BYTES: { ...positiveInt, default: 10 * 1024 * 1024 },
	MEDIA_STORAGE: { type: "enum", values: ["local", "s3"], default: "local" },
	MEDIA_UNATTACHED_TTL_S: { ...positiveInt, default: 24 * 3600 },
	S3_ENDPOINT: url(["http", "https"]),
	S3_REGION: { type: "string", default: "us-east-1", pattern: /^[\w-]+$/ },
	S3_BUCKET: { type: "string", optional: true, pattern: /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/ },
	S3_ACCESS_KEY_ID: { type: "string", optional: true },
	S3_SECRET_ACCESS_KEY: { type: "string", optional: true },
	S3_FORCE_PATH_STYLE: { type: "boolean", convert: true, optional: true },
	S3_TIMEOUT_MS: { ...positiveInt, default: 5000 },
	S3_MAX_ATTEMPTS: { type: "number", convert: true, integer: true, min: 1, max: 10, default: 3 },
	S3_BREAKER_THRESHOLD: { ...positiveInt, default: 5 },
	S3_BREAKER_COOLDOWN_MS: { ...positiveInt, default: 30000 },
	CRM_DEDUPE_WINDOW_S: { ...positiveInt, default: 86400 },
	CHANNELS_RETRY_DELAY_MS: { ...positiveInt, default: 200 },
	CHANNELS_SERVICE_WAIT_MS: { type: "number", convert: true, integer: true, min: 0, default: 600_000 },
	OUTBOX_RELAY_INTERVAL_MS: { ...positiveInt, default: 5000 },
	// platform notifications (README, "Platform: notifications")
	APP_URL: url(["http", "https"]),
	SMTP_URL: url(["smtp", "smtps"]),
	MAIL_FROM: { type: "string", default: "Valence <no-reply@localhost>", max: 320 },
	MAIL_TIMEOUT_MS: { ...positiveInt, default: 10000 },
	VAPID_PUBLIC_KEY: { type: "string", optional: true, pattern: /^[A-Za-z0-9_-]{80,100}$/ },
	VAPID_PRIVATE_KEY: { type: "string", optional: true, pattern: /^[A-Za-z0-9_-]{40,50}$/ },
	VAPID_SUBJECT: { type: "string", default: "mailto:admin@localhost", pattern: /^(mailto:\S+@\S+|https:\/\/\S+)$/ },
	PUSH_ALLOW_HTTP: { type: "boolean", convert: true, default: false },
	PUSH_ALLOWED_HOSTS: {
		type: "string",
		default: "fcm.googleapis.com,updates.push.services.mozilla.com,push.services.mozilla.com,notify.windows.com,push.apple.com",
	},
	PUSH_TIMEOUT_MS: { ...positiveInt, default: 10000 },
	PUSH_TTL_S: { type: "number", convert: true, integer: true, min: 0, max: 28 * 24 * 3600, default: 24 * 3600 },
	NOTIFY_BREAKER_THRESHOLD: { ...positiveInt, default: 5 },
	NOTIFY_BREAKER_COOLDOWN_MS: { ...positiveInt, default: 30000 },
	NOTIFY_SCHEDULER_INTERVAL_MS: { ...positiveInt, default: 15000 },
	NOTIFY_DELIVERY_RETRIES: { type: "number", convert: true, integer: true, min: 1, max: 50, default: 10 },
	NOTIFY_PLATFORM_TENANT_ID: { type: "string", default: "", max: 64 },
	// jobs, schedules and analytics (README, "Jobs, schedules and analytics")
	JOBS_CONCURRENCY: { type: "string", default: "", pattern: /^([\w.-]+=\d+)?(,[\w.-]+=\d+)*$/ },
	JOBS_DEFAULT_ATTEMPTS: { type: "number", convert: true, integer: true, min: 1, max: 50, default: 3 },
	JOBS_BACKOFF_MS: { ...positiveInt, default: 1000 },
	JOBS_MAX_BACKOFF_MS: { ...positiveInt, default: 10 * 60_000 },
	JOBS_TIMEOUT_MS: { ...positiveInt, default: 5 * 60_000 },
	JOBS_LOCK_MS: { type: "number", convert: true, integer: true, min: 1000, max: 600_000, default: 30_000 },
	JOBS_HEARTBEAT_MS: { type: "number", convert: true, integer: true, min: 100, max: 600_000, default: 5000 },
	JOBS_RETENTION_S: { ...positiveInt, default: 7 * 24 * 3600 },
	JOBS_DEAD_RETENTION_S: { ...positiveInt, default: 30 * 24 * 3600 },
	SCHEDULER_TICK_MS: { type: "number", convert: true, integer: true, min: 50, max: 60_000, default: 250 },
	SCHEDULER_MISFIRE_GRACE_MS: { type: "number", convert: true, integer: true, min: 0, max: 3_600_000, default: 5000 },
	SCHEDULER_HISTORY_MAX: { type: "number", convert: true, integer: true, min: 1, max: 10_000, default: 200 },
	ANALYTICS_RAW_RETENTION_DAYS: { type: "number", convert: true, integer: true, min: 1, max: 3650, default: 90 },
	ANALYTICS_REPORT_RETENTION_S: { ...positiveInt, default: 7 * 24 * 3600 },
	// messaging domain (README, "Messaging domain")
	GRAPH_API_URL: { ...url(["http", "https"]), default: "https://graph.facebook.com/v21.0" },
	GRAPH_TIMEOUT_MS: { ...positiveInt, default: 5000 },
	GRAPH_MAX_ATTEMPTS: { type: "number", convert: true, integer: true, min: 1, max: 10, default: 3 },
	GRAPH_RETRY_DELAY_MS: { ...positiveInt, default: 500 },
	GRAPH_BREAKER_THRESHOLD: { ...positiveInt, default: 5 },
	GRAPH_BREAKER_COOLDOWN_MS: { ...positiveInt, default: 30000 },
	GRAPH_PROFILE_CACHE_TTL_S: { ...positiveInt, default: 3600 },
	GRAPH_SEND_CONFIRM_MS: { ...positiveInt, default: 30000 },
	MESSAGING_SECRET_KEY: {
		type: "string",
		optional: true,
		pattern: /^[A-Za-z0-9+/]{43}=$/,
		messages: { stringPattern: "The 'MESSAGING_SECRET_KEY' field must be 32 bytes in base64 (openssl rand -base64 32)" },
	},
	// engagement: the challenge generator and task understanding (README, "Engagement domain")
	LLM_BASE_URL: url(["http", "https"]),
	LLM_MODEL: { type: "string", default: "gpt-4o-mini", max: 200 },
	LLM_API_KEY: { type: "string", optional: true, max: 500 },
	LLM_TIMEOUT_MS: { ...positiveInt, default: 10000 },
	LLM_RETRIES: { type: "number", convert: true, integer: true, min: 0, max: 5, default: 2 },
	LLM_BREAKER_THRESHOLD: { ...positiveInt, default: 5 },
	LLM_BREAKER_COOLDOWN_MS: { ...positiveInt, default: 30000 },
	// commerce (README, "Commerce domain"): providers, webhooks, idempotency keys
	PAYMENTS_PROVIDER: { type: "enum", values: ["sandbox", "stripe", "paypal"], default: "sandbox" },
	SANDBOX_WEBHOOK_SECRET: { type: "string", default: "sandbox-webhook-secret", min: 8, max: 256 },
	STRIPE_API_URL: { ...url(["http", "https"]), default: "https://api.stripe.com" },
	STRIPE_SECRET_KEY: { type: "string", optional: true, max: 256 },
	STRIPE_WEBHOOK_SECRET: { type: "string", optional: true, max: 256 },
	PAYPAL_API_URL: { ...url(["http", "https"]), default: "https://api-m.sandbox.paypal.com" },
	PAYPAL_CLIENT_ID: { type: "string", optional: true, max: 256 },
	PAYPAL_CLIENT_SECRET: { type: "string", optional: true, max: 256 },
	PAYPAL_WEBHOOK_ID: { type: "string", optional: true, max: 256 },
	WEBHOOK_TOLERANCE_S: { type: "number", convert: true, integer: true, min: 1, max: 3600, default: 300 },
	PROVIDER_TIMEOUT_MS: { ...positiveInt, default: 10000 },
	PROVIDER_RETRIES: { type: "number", convert: true, integer: true, min: 0, max: 5, default: 2 },
	PROVIDER_BREAKER_THRESHOLD: { ...positiveInt, default: 5 },
	PROVIDER_BREAKER_COOLDOWN_MS: { ...positiveInt, default: 30000 },
	IDEMPOTENCY_TTL_S: { ...positiveInt, default: 24 * 3600 },
	// sign in with a provider, integrations (README, "Signing in with a provider, API clients and integrations")
	OAUTH_PROVIDERS: {
		type: "string",
		optional: true,
		custom: (value: string | undefined, errors: { type: string; actual: unknown; expected?: string }[]) => checkProviders(value, errors),
		messages: { oauthProviders: "The '{field}' field {expected}" },
	},
	OAUTH_TIMEOUT_MS: { ...positiveInt, default: 10000 },
	OAUTH_ENDPOINT_RATE_MAX: { ...positiveInt, default: 60 },
	OAUTH_ENDPOINT_RATE_WINDOW_S: { ...positiveInt, default: 60 },
	INTEGRATION_WEBHOOK_RATE_MAX: { ...positiveInt, default: 600 },
	INTEGRATION_WEBHOOK_RATE_WINDOW_S: { ...positiveInt, default: 60 },
	SECRETS_KEY: { type: "string", optional: true, pattern: /^[A-Za-z0-9_-]{43}$/ },
	INTEGRATION_PROVIDERS: {
		type: "string",
		optional: true,
		custom: (value: string | undefined, errors: { type: string; actual: unknown; expected?: string }[]) => checkIntegrations(value, errors),
		messages: { integrationProviders: "The '{field}' field {expected}" },
	},
};

export interface Config {
	NODE_ENV: "development" | "production" | "test";
	PORT: number;
	HOST: string;
	NODE_ID?: string;
	NAMESPACE: string;
	SERVICES: string;
	TRANSPORTER?: string;
	CACHER?: string;
	REDIS_URL?: string;
	MONGO_URI?: string;
	DATA_DIR: string;
	DB_DRIVER?: "nedb" | "memory" | "mongo";
	LOG_LEVEL: "fatal" | "error" | "warn" | "info" | "debug" | "trace";
	LOG_FORMAT: "pretty" | "json";
	CORS_ORIGINS: string;
	TRUSTED_PROXIES: string;
	BODY_LIMIT: string;
	PUBLIC_BODY_LIMIT: string;
	REQUEST_TIMEOUT_MS: number;
	RETRIES: number;
	HEARTBEAT_INTERVAL_S: number;
	HEARTBEAT_TIMEOUT_S: number;
	RATE_LIMIT_WINDOW_S: number;
	RATE_LIMIT_MAX: number;
	CACHE_TTL_S: number;
	CACHE_TIMEOUT_MS: number;
	/** With the Redis cacher: a node reads another node's cached answers itself (middlewares/caller-cache.middleware.ts). */
	CACHE_CALLER_READS: boolean;
	JWT_ISSUER: string;
	JWT_AUDIENCE: string;
	JWT_KEYS_DIR?: string;
	JWT_ACCESS_TTL_S: number;
	JWT_REFRESH_TTL_S: number;
	PASSWORD_SCRYPT_N: number;
	/** log password-reset tokens (local development without a mailer only; refused with NODE_ENV=production) */
	DEV_LOG_RESET_LINKS: boolean;
	/** how often a gateway reloads the revocation list from auth (seconds; lib/revocations.ts) */
	REVOCATION_SYNC_S: number;
	/** the tenant whose owners and admins are operators: cluster-wide views in the operator console ("": nobody) */
	OPERATOR_TENANT_ID: string;
	METRICS: boolean;
	METRICS_PORT?: number;
	/** secret: a scraper sending `Authorization: Bearer <it>` may read /metrics from any address (else loopback only) */
	METRICS_TOKEN?: string;
	TRACING_EXPORTER: "none" | "console" | "event" | "zipkin";
	/** where TRACING_EXPORTER=zipkin sends spans (Zipkin's base URL) */
	ZIPKIN_URL: string;
	/** 0..1: the share of requests traced (the gateway's decision holds for the whole request, on every node) */
	TRACING_SAMPLE_RATE: number;
	/** `br,gzip` (default), `gzip`, `br`, or `off`: how the gateway may compress JSON answers */
	COMPRESSION: string;
	/** JSON answers smaller than this many bytes are sent uncompressed */
	COMPRESSION_MIN_BYTES: number;
	/** answers ended during one turn of the event loop are written together at its end (fewer wake-ups of waiting clients) */
	BATCH_RESPONSE_WRITES: boolean;
	SHUTDOWN_TIMEOUT_MS: number;
	/** after SIGTERM: how long the node stays up, answering readiness 503, before it stops (load balancers notice) */
	SHUTDOWN_DRAIN_MS: number;
	/** a Valence node's V8 garbage-collector settings for serving (lib/v8-tuning.ts); false: V8's defaults */
	V8_TUNING: boolean;
	/** largest accepted media upload, cut off while streaming (413) */
	MEDIA_MAX_BYTES: number;
	/** media storage backend: local disk under DATA_DIR/media, or an S3-compatible bucket (S3_*) */
	MEDIA_STORAGE: "local" | "s3";
	/** uploads never attached to a post are deleted after this long (seconds) */
	MEDIA_UNATTACHED_TTL_S: number;
	/** S3-compatible endpoint (MinIO, R2, ...); unset for AWS itself */
	S3_ENDPOINT?: string;
	S3_REGION: string;
	/** required when MEDIA_STORAGE=s3 */
	S3_BUCKET?: string;
	/** secret: never logged. Unset: the SDK's default credential chain. */
	S3_ACCESS_KEY_ID?: string;
	/** secret: never logged */
	S3_SECRET_ACCESS_KEY?: string;
	/** path-style URLs (endpoint/bucket/key); default true when S3_ENDPOINT is set */
	S3_FORCE_PATH_STYLE?: boolean;
	/** per attempt: connection, time to the response, and socket idle */
	S3_TIMEOUT_MS: number;
	/** attempts per call, with the SDK's exponential backoff between them */
	S3_MAX_ATTEMPTS: number;
	/** consecutive failed calls that open the storage circuit breaker */
	S3_BREAKER_THRESHOLD: number;
	/** how long the open breaker fails fast before letting one trial call through */
	S3_BREAKER_COOLDOWN_MS: number;
	/** CRM web-form capture: a submission with the email/phone of a lead created this recently is merged into it. */
	CRM_DEDUPE_WINDOW_S: number;
	/** embedded channels adapter: first retry delay of a failed message (doubles per retry) */
	CHANNELS_RETRY_DELAY_MS: number;
	/** how long after publication a channel message failing for an unreachable service is retried and not dead-lettered for it (ms) */
	CHANNELS_SERVICE_WAIT_MS: number;
	/** outbox relay: how often a service re-sends its unsent domain events (ms; backs off while sends fail) */
	OUTBOX_RELAY_INTERVAL_MS: number;
	/** where people reach the app: links in notifications (reset link, lead, profile); default http://localhost:PORT */
	APP_URL?: string;
	/** SMTP server for e-mail (smtp:// or smtps://, credentials in the URL). Unset: .eml files under DATA_DIR/mail (not in production) */
	SMTP_URL?: string;
	MAIL_FROM: string;
	/** connection, greeting and socket timeouts of one SMTP delivery (ms) */
	MAIL_TIMEOUT_MS: number;
	/** VAPID key pair for Web Push (base64url, as web-push generates them); unset: dev keys in DATA_DIR/keys (not in production) */
	VAPID_PUBLIC_KEY?: string;
	/** secret: never logged */
	VAPID_PRIVATE_KEY?: string;
	/** who the push services may contact about our pushes: mailto: or https: */
	VAPID_SUBJECT: string;
	/** accept http:// push endpoints (local development and tests only; refused in production) */
	PUSH_ALLOW_HTTP: boolean;
	/** push endpoints must be on one of these hosts (or their subdomains); "*" for any host */
	PUSH_ALLOWED_HOSTS: string;
	/** one request to a push service: connection and answer (ms) */
	PUSH_TIMEOUT_MS: number;
	/** how long a push service keeps an undelivered push (seconds) */
	PUSH_TTL_S: number;
	/** consecutive failures that open the breaker of the SMTP server or of one push service */
	NOTIFY_BREAKER_THRESHOLD: number;
	/** how long an open breaker fails fast before one trial call (ms) */
	NOTIFY_BREAKER_COOLDOWN_MS: number;
	/** how often held deliveries (quiet hours) and unsent ones are looked at (ms) */
	NOTIFY_SCHEDULER_INTERVAL_MS: number;
	/** deliveries of one e-mail or push before it goes to the dead letters (backoff CHANNELS_RETRY_DELAY_MS, doubling, ≤ 30 s) */
	NOTIFY_DELIVERY_RETRIES: number;
	/** the tenant whose admins manage the platform-wide overrides of the built-in messages ("": none) */
	NOTIFY_PLATFORM_TENANT_ID: string;
	/** per job type, the handlers each node runs at once: `crm.report=2,analytics.report=1` (else the type's own default) */
	JOBS_CONCURRENCY: string;
	/** attempts of a job that names none (the first included) */
	JOBS_DEFAULT_ATTEMPTS: number;
	/** first retry delay of a job that names none (doubling, with jitter, up to JOBS_MAX_BACKOFF_MS) */
	JOBS_BACKOFF_MS: number;
	JOBS_MAX_BACKOFF_MS: number;
	/** timeout of one attempt of a job that names none */
	JOBS_TIMEOUT_MS: number;
	/** BullMQ: a worker silent this long has died; its job runs again elsewhere (also the stalled check's period) */
	JOBS_LOCK_MS: number;
	/** how often a node reports its workers (GET /api/jobs/workers) */
	JOBS_HEARTBEAT_MS: number;
	/** completed and cancelled job records are kept this long (seconds) */
	JOBS_RETENTION_S: number;
	/** dead letters are kept this long unless replayed or discarded (seconds) */
	JOBS_DEAD_RETENTION_S: number;
	/** how often a scheduler node looks for due times */
	SCHEDULER_TICK_MS: number;
	/** a due time older than this when it is seen was missed (downtime): the schedule's misfire policy applies */
	SCHEDULER_MISFIRE_GRACE_MS: number;
	/** firings kept in a schedule's history */
	SCHEDULER_HISTORY_MAX: number;
	/** raw analytics events older than this are removed (the hour and day buckets stay) */
	ANALYTICS_RAW_RETENTION_DAYS: number;
	/** report CSV files are kept this long (seconds) */
	ANALYTICS_REPORT_RETENTION_S: number;
	/** Meta's Graph API with its version, no trailing slash (tests point it at a fake) */
	GRAPH_API_URL: string;
	/** one Graph API request: connection and answer (ms) */
	GRAPH_TIMEOUT_MS: number;
	/** attempts per Graph call; 5xx and Meta's rate-limit codes (4, 17, 32, 613) are retried with backoff */
	GRAPH_MAX_ATTEMPTS: number;
	/** first backoff between Graph attempts (doubles per attempt) */
	GRAPH_RETRY_DELAY_MS: number;
	/** consecutive failed Graph calls that open its circuit breaker */
	GRAPH_BREAKER_THRESHOLD: number;
	/** how long the open Graph breaker fails fast before one trial call (ms) */
	GRAPH_BREAKER_COOLDOWN_MS: number;
	/** how long a send whose answer was lost waits for Meta's echo before it is sent again (ms) */
	GRAPH_SEND_CONFIRM_MS: number;
	/** how long a fetched customer profile is cached (seconds) */
	GRAPH_PROFILE_CACHE_TTL_S: number;
	/** AES-256-GCM key for Meta app secrets and access tokens at rest (base64 of 32 bytes; secret: never logged). Unset: a dev key in DATA_DIR/keys (not in production) */
	MESSAGING_SECRET_KEY?: string;
	/** an OpenAI-compatible API (…/v1) for challenges and task understanding; unset: the offline generator only */
	LLM_BASE_URL?: string;
	LLM_MODEL: string;
	/** secret: never logged; sent as a Bearer token */
	LLM_API_KEY?: string;
	/** one chat-completions request, connection to answer (ms) */
	LLM_TIMEOUT_MS: number;
	/** retries of a failed request (backoff doubling from 200 ms), before the offline answer is used */
	LLM_RETRIES: number;
	/** consecutive failed requests that open the LLM breaker */
	LLM_BREAKER_THRESHOLD: number;
	/** how long the open breaker answers offline at once before one trial request (ms) */
	LLM_BREAKER_COOLDOWN_MS: number;
	/** the provider a payment uses when it names none; sandbox is the offline default */
	PAYMENTS_PROVIDER: "sandbox" | "stripe" | "paypal";
	/** signs sandbox webhooks (a test value by default: the sandbox moves no real money) */
	SANDBOX_WEBHOOK_SECRET: string;
	STRIPE_API_URL: string;
	/** secret: never logged. Set: the Stripe adapter is available */
	STRIPE_SECRET_KEY?: string;
	/** secret: the endpoint's whsec_… signing secret */
	STRIPE_WEBHOOK_SECRET?: string;
	PAYPAL_API_URL: string;
	/** set both: the PayPal adapter is available (OAuth2 client credentials) */
	PAYPAL_CLIENT_ID?: string;
	/** secret: never logged */
	PAYPAL_CLIENT_SECRET?: string;
	/** the id PayPal gave the webhook endpoint (its verify-webhook-signature API needs it) */
	PAYPAL_WEBHOOK_ID?: string;
	/** a signed webhook older (or newer) than this is refused (seconds) */
	WEBHOOK_TOLERANCE_S: number;
	/** one call to a payment provider, connection to answer (ms) */
	PROVIDER_TIMEOUT_MS: number;
	/** extra attempts of a provider call that is idempotent (provider idempotency key sent) */
	PROVIDER_RETRIES: number;
	/** consecutive failures that open a provider's circuit breaker */
	PROVIDER_BREAKER_THRESHOLD: number;
	PROVIDER_BREAKER_COOLDOWN_MS: number;
	/** how long an Idempotency-Key and its stored answer are kept (seconds) */
	IDEMPOTENCY_TTL_S: number;
	/** JSON object of sign-in providers by name (OAuthProviderConfig); unset: none */
	OAUTH_PROVIDERS?: string;
	/** timeout of one call to a provider (discovery, token, userinfo, JWKS), ms */
	OAUTH_TIMEOUT_MS: number;
	OAUTH_ENDPOINT_RATE_MAX: number;
	OAUTH_ENDPOINT_RATE_WINDOW_S: number;
	INTEGRATION_WEBHOOK_RATE_MAX: number;
	INTEGRATION_WEBHOOK_RATE_WINDOW_S: number;
	/** AES-256-GCM key for secrets at rest (32 bytes, base64url); unset: a dev key in DATA_DIR/keys (not in production) */
	SECRETS_KEY?: string;
	/** JSON object of third-party OAuth 2 providers users may connect (IntegrationProviderConfig) by name; unset: none */
	INTEGRATION_PROVIDERS?: string;
}

export class ConfigError extends Error {
	override name = "ConfigError";
}

const check = v.compile(configSchema);

/** Parse and validate an environment; throws ConfigError naming the first bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
	// Empty strings mean "unset", as in most .env tooling.
	const input: Record<string, unknown> = {};
	for (const key of Object.keys(configSchema)) {
		if (key.startsWith("$$")) continue;
		const value = env[key];
		if (value !== undefined && value !== "") input[key] = value.trim();
	}
	const result = check(input);
	if (result !== true) {
		const [first] = result as { field: string; message: string; actual?: unknown }[];
		const message = first.message.replace(new RegExp(`^The '${first.field}' field `), "");
		throw new ConfigError(`${first.field}: ${message} (got '${String(first.actual ?? input[first.field])}')`);
	}
	// fastest-validator checked and converted `input` in place; its typings cannot say it is now a Config
	const config = input as unknown as Config;
	if (config.DB_DRIVER === "mongo" && !config.MONGO_URI) throw new ConfigError("DB_DRIVER: 'mongo' needs MONGO_URI to be set");
	if (config.MEDIA_STORAGE === "s3" && !config.S3_BUCKET) throw new ConfigError("S3_BUCKET: MEDIA_STORAGE 's3' needs S3_BUCKET to be set");
	if (!!config.S3_ACCESS_KEY_ID !== !!config.S3_SECRET_ACCESS_KEY)
		throw new ConfigError("S3_ACCESS_KEY_ID: set both S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or neither");
	if ((config.PASSWORD_SCRYPT_N & (config.PASSWORD_SCRYPT_N - 1)) !== 0)
		throw new ConfigError(`PASSWORD_SCRYPT_N: must be a power of two (got '${config.PASSWORD_SCRYPT_N}')`);
	if (config.DEV_LOG_RESET_LINKS && config.NODE_ENV === "production")
		throw new ConfigError("DEV_LOG_RESET_LINKS: writes password-reset tokens to the log; not allowed with NODE_ENV=production");
	if (!!config.VAPID_PUBLIC_KEY !== !!config.VAPID_PRIVATE_KEY)
		throw new ConfigError("VAPID_PUBLIC_KEY: set both VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY, or neither");
	if (config.PUSH_ALLOW_HTTP && config.NODE_ENV === "production")
		throw new ConfigError("PUSH_ALLOW_HTTP: plain-http push endpoints are for local development; not allowed with NODE_ENV=production");
	if (config.CACHER?.startsWith("redis") && !config.REDIS_URL) config.REDIS_URL = config.CACHER;
	return config;
}

/** Comma-separated list helper for CORS_ORIGINS, TRUSTED_PROXIES and SERVICES. */
export function splitList(value: string): string[] {
	return value
		.split(",")
		.map(s => s.trim())
		.filter(Boolean);
}

/** The database driver actually used: explicit, else Mongo when configured, memory in tests, else NeDB files. */
export function dbDriver(config: Config): "nedb" | "memory" | "mongo" {
	if (config.DB_DRIVER) return config.DB_DRIVER;
	if (config.MONGO_URI) return "mongo";
	return config.NODE_ENV === "test" ? "memory" : "nedb";
}

/** The address people use to reach the app, without a trailing slash (links in notifications). */
export function appUrl(cfg: Config): string {
	return withoutTrailingSlashes(cfg.APP_URL ?? `http://localhost:${cfg.PORT || 3000}`);
}

export function dataPath(config: Config, ...parts: string[]): string {
	return path.resolve(config.DATA_DIR, ...parts);
}

let cached: Config | undefined;
/** The process-wide configuration (validated on first use). */
export function config(): Config {
	return (cached ??= loadConfig());
}
/** Tests use this to apply a changed environment. */
export function resetConfig(): void {
	cached = undefined;
}

/**
 * A provider to sign in with (OAUTH_PROVIDERS is a JSON object of these by name): `oidc` is found by
 * discovery at `issuer`; `oauth2` (GitHub-style, no OpenID Connect) names its endpoints. Provider URLs
 * are https, or http on a loopback address (local development, tests).
 */
export interface OAuthProviderConfig {
	kind: "oidc" | "oauth2";
	issuer?: string;
	authorizationEndpoint?: string;
	tokenEndpoint?: string;
	/** oauth2: the signed-in user's profile (`id`, `email`, `name`/`login`) */
	userinfoEndpoint?: string;
	/** oauth2 (GitHub): the user's addresses with their `verified` flag */
	emailsEndpoint?: string;
	clientId: string;
	clientSecret?: string;
	/** space-separated; default "openid email profile" (oidc), "read:user user:email" (oauth2) */
	scopes?: string;
}

const PROVIDER_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const PROVIDER_URL_FIELDS = ["issuer", "authorizationEndpoint", "tokenEndpoint", "userinfoEndpoint", "emailsEndpoint"] as const;

/** https, or http to a loopback host. */
export function isProviderUrl(value: unknown): boolean {
	if (typeof value !== "string") return false;
	try {
		const u = new URL(value);
		return u.protocol === "https:" || (u.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(u.hostname));
	} catch {
		return false;
	}
}

function providerProblem(name: string, p: Record<string, unknown>): string | null {
	if (!PROVIDER_NAME.test(name)) return `provider name '${name}' must be lowercase letters, digits and dashes`;
	if (p?.kind !== "oidc" && p?.kind !== "oauth2") return `provider '${name}': kind must be 'oidc' or 'oauth2'`;
	if (typeof p.clientId !== "string" || !p.clientId) return `provider '${name}': clientId is required`;
	if (p.clientSecret !== undefined && typeof p.clientSecret !== "string") return `provider '${name}': clientSecret must be a string`;
	if (p.scopes !== undefined && typeof p.scopes !== "string") return `provider '${name}': scopes must be a space-separated string`;
	const needed = p.kind === "oidc" ? ["issuer"] : ["authorizationEndpoint", "tokenEndpoint", "userinfoEndpoint"];
	for (const f of needed) if (p[f] === undefined) return `provider '${name}': ${f} is required`;
	for (const f of PROVIDER_URL_FIELDS)
		if (p[f] !== undefined && !isProviderUrl(p[f])) return `provider '${name}': ${f} must be an https URL (http only on loopback)`;
	return null;
}

function checkProviders(value: string | undefined, errors: { type: string; actual: unknown; expected?: string }[]): string | undefined {
	if (value === undefined) return value;
	let parsed: unknown;
	try {
		parsed = JSON.parse(value);
	} catch {
		errors.push({ type: "oauthProviders", actual: "(not shown: it may hold secrets)", expected: "must be a JSON object of providers by name" });
		return value;
	}
	if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
		errors.push({ type: "oauthProviders", actual: "(not shown: it may hold secrets)", expected: "must be a JSON object of providers by name" });
		return value;
	}
	for (const [name, p] of Object.entries(parsed)) {
		const problem = providerProblem(name, p as Record<string, unknown>);
		if (problem) {
			errors.push({ type: "oauthProviders", actual: "(not shown: it may hold secrets)", expected: problem });
			break;
		}
	}
	return value;
}

/** The sign-in providers configured in OAUTH_PROVIDERS (already validated at start), by name. */
export function oauthProviders(cfg: Config): Record<string, OAuthProviderConfig> {
	return cfg.OAUTH_PROVIDERS ? (JSON.parse(cfg.OAUTH_PROVIDERS) as Record<string, OAuthProviderConfig>) : {};
}

/** A third-party service users connect (INTEGRATION_PROVIDERS is a JSON object of these by name): GitHub, Notion, any OAuth 2 provider. */
export interface IntegrationProviderConfig {
	authorizationEndpoint: string;
	tokenEndpoint: string;
	/** RFC 7009; disconnecting revokes there when set */
	revocationEndpoint?: string;
	clientId: string;
	clientSecret?: string;
	/** space-separated */
	scopes?: string;
	/** inbound webhooks: the HMAC-SHA256 secret set at the provider; unset: webhooks of this provider are refused */
	webhookSecret?: string;
	/** header of the signature `sha256=<hex>` (default GitHub's x-hub-signature-256; the generic scheme: x-signature-256) */
	signatureHeader?: string;
	/** header naming the delivery, for deduplication (default x-github-delivery; generic: x-delivery-id) */
	deliveryHeader?: string;
	/** header naming the event (default x-github-event; generic: x-event) */
	eventHeader?: string;
	/** GitHub-style REST API (e.g. https://api.github.com): where the assigned-issues sync reads `GET /issues`; unset: no sync.
	 *  With `notion`: Notion's API (https://api.notion.com), where the database is queried. */
	apiBaseUrl?: string;
	/** a Notion provider: the rows of this database become tasks (which properties are the title, body and status) */
	notion?: NotionMapping;
	/** how the client authenticates at the token endpoint (default client_secret_post; with `notion`, client_secret_basic as Notion requires) */
	tokenAuth?: "client_secret_post" | "client_secret_basic";
}

/** How a Notion database's rows map to tasks. */
export interface NotionMapping {
	databaseId: string;
	/** the title property (default "Name") */
	titleProperty?: string;
	/** a rich-text property for the task's description (default: none) */
	bodyProperty?: string;
	/** a status or select property (default "Status"); a row whose value is one of `doneValues` is a done task */
	statusProperty?: string;
	/** default ["Done"] */
	doneValues?: string[];
}

function checkIntegrations(value: string | undefined, errors: { type: string; actual: unknown; expected?: string }[]): string | undefined {
	if (value === undefined) return value;
	const refuse = (expected: string) => errors.push({ type: "integrationProviders", actual: "(not shown: it may hold secrets)", expected });
	let parsed: unknown;
	try {
		parsed = JSON.parse(value);
	} catch {
		refuse("must be a JSON object of providers by name");
		return value;
	}
	if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
		refuse("must be a JSON object of providers by name");
		return value;
	}
	for (const [name, raw] of Object.entries(parsed)) {
		const p = (raw ?? {}) as Record<string, unknown>;
		if (!PROVIDER_NAME.test(name)) return (refuse(`provider name '${name}' must be lowercase letters, digits and dashes`), value);
		if (typeof p.clientId !== "string" || !p.clientId) return (refuse(`provider '${name}': clientId is required`), value);
		for (const f of ["authorizationEndpoint", "tokenEndpoint"])
			if (!isProviderUrl(p[f])) return (refuse(`provider '${name}': ${f} must be an https URL (http only on loopback)`), value);
		for (const f of ["revocationEndpoint", "apiBaseUrl"])
			if (p[f] !== undefined && !isProviderUrl(p[f])) return (refuse(`provider '${name}': ${f} must be an https URL`), value);
		if (p.tokenAuth !== undefined && p.tokenAuth !== "client_secret_post" && p.tokenAuth !== "client_secret_basic")
			return (refuse(`provider '${name}': tokenAuth must be client_secret_post or client_secret_basic`), value);
		if (p.notion !== undefined) {
			const n = p.notion as Record<string, unknown> | null;
			if (!n || typeof n.databaseId !== "string" || !/^[0-9a-f-]{32,36}$/i.test(n.databaseId))
				return (refuse(`provider '${name}': notion.databaseId must be a Notion database id`), value);
			if (!p.apiBaseUrl) return (refuse(`provider '${name}': a notion provider needs apiBaseUrl (https://api.notion.com)`), value);
			for (const f of ["titleProperty", "bodyProperty", "statusProperty"])
				if (n[f] !== undefined && (typeof n[f] !== "string" || !n[f] || (n[f] as string).length > 100))
					return (refuse(`provider '${name}': notion.${f} must be a property name`), value);
			if (n.doneValues !== undefined && !(Array.isArray(n.doneValues) && n.doneValues.every(v => typeof v === "string" && v.length <= 100)))
				return (refuse(`provider '${name}': notion.doneValues must be a list of option names`), value);
		}
	}
	return value;
}

/** The connectable providers configured in INTEGRATION_PROVIDERS (validated at start), by name. */
export function integrationProviders(cfg: Config): Record<string, IntegrationProviderConfig> {
	return cfg.INTEGRATION_PROVIDERS ? (JSON.parse(cfg.INTEGRATION_PROVIDERS) as Record<string, IntegrationProviderConfig>) : {};
}
