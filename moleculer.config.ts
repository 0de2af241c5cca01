/**
 * Broker options from the environment. With nothing set: one embedded process, memory cacher,
 * no transporter. With TRANSPORTER/CACHER set: a cluster node with the resilience defaults below.
 */
import os from "node:os";
import type { BrokerOptions, Errors } from "moleculer";
import { Middleware as ChannelsMiddleware } from "@moleculer/channels";
import { channelAdapter } from "./lib/channels";
import { config as loadConfig, type Config } from "./lib/config";
import { loggerOptions } from "./lib/logging";
import { prometheusReporter, reporterOptions } from "./lib/metrics";
import { plainClone } from "./lib/plain-clone";
import { StableNatsTransporter } from "./lib/nats-transporter";
import { tracingOptions } from "./lib/tracing";
import { SafeRedisCacher } from "./lib/safe-redis-cacher";
import { LeanMemoryCacher } from "./lib/memory-cacher";
import { BoundedValidator } from "./lib/validation";
import { AccessMiddleware } from "./middlewares/access.middleware";
import { ConventionsMiddleware } from "./middlewares/conventions.middleware";
import { PlatformErrorRegenerator } from "./lib/error-regenerator";
import { CallerCacheMiddleware } from "./middlewares/caller-cache.middleware";
import { EntityMiddleware } from "./middlewares/entity.middleware";
import { IdempotencyMiddleware } from "./middlewares/idempotency.middleware";
import { MetricsMiddleware } from "./middlewares/metrics.middleware";
import { ParamsMiddleware } from "./middlewares/params.middleware";

/**
 * Moleculer's internal middlewares in our order (the first is the innermost). The default order puts
 * Timeout outside CircuitBreaker, so the breaker never sees a timed-out call (moleculer issue #1202):
 * here Timeout is inside it. Access sits outside the Cacher so cached answers are authorised too.
 * Timeout sits inside the Cacher: it bounds the handler, and a cache hit answers without starting a
 * timer (the Redis cacher bounds its own lookups, CACHE_TIMEOUT_MS). The breaker stays outside the
 * Cacher, so hits still count as successes: misses failing behind mostly cached answers do not open it
 * (README, "Where we departed from the original design").
 */
function middlewares(cfg: Config) {
	return [
		ChannelsMiddleware({ adapter: channelAdapter(cfg), context: true } as unknown as Parameters<typeof ChannelsMiddleware>[0]),
		ConventionsMiddleware,
		ParamsMiddleware,
		// after validation and the access check: loads `entity:` into ctx.locals for the handler
		EntityMiddleware,
		IdempotencyMiddleware, // `idempotencyKey:` actions: after validation and access, outside the entity load
		"ActionHook",
		"Validator",
		"Bulkhead",
		"Timeout",
		"Cacher",
		// with a shared cacher, hits of actions on other nodes are read here, after their access rule (the remote side of Access + Cacher)
		CallerCacheMiddleware(cfg.CACHE_CALLER_READS),
		AccessMiddleware,
		"ContextTracker",
		"CircuitBreaker",
		"Retry",
		"Fallback",
		"ErrorHandler",
		"Tracing",
		// Moleculer's metrics, without per-sample quantiles and with label hashes kept per action (README, "Metrics")
		MetricsMiddleware,
		"Debounce",
		"Throttle",
	];
}

function cacher(cfg: Config): BrokerOptions["cacher"] {
	if (cfg.CACHER?.startsWith("redis"))
		return new SafeRedisCacher({
			url: cfg.CACHER,
			prefix: `${cfg.NAMESPACE}:cache:`,
			ttl: cfg.CACHE_TTL_S,
			timeoutMs: cfg.CACHE_TIMEOUT_MS,
		});
	// every hit is a copy (a caller changing its answer cannot change the cache), made cheaply for JSON data;
	// the gateway's routed calls, which only serialize the answer, read the frozen cached answer itself
	return new LeanMemoryCacher({ ttl: cfg.CACHE_TTL_S, clone: plainClone });
}

export function brokerOptions(cfg: Config = loadConfig()): BrokerOptions {
	return {
		namespace: cfg.NAMESPACE,
		nodeID: cfg.NODE_ID ?? `${os.hostname()}-${process.pid}`,
		logger: loggerOptions(cfg.LOG_FORMAT, cfg.LOG_LEVEL),
		transporter: cfg.TRANSPORTER ? (new StableNatsTransporter({ url: cfg.TRANSPORTER }) as unknown as BrokerOptions["transporter"]) : null,
		// NATS queue groups balance requests: a request goes to a live subscriber, not to a node the
		// registry still lists after it died (measured: 0 lost requests vs 1,917 of 5,728 with the balancer).
		disableBalancer: !!cfg.TRANSPORTER,
		serializer: "JSON",
		cacher: cacher(cfg),
		requestTimeout: cfg.REQUEST_TIMEOUT_MS,
		retryPolicy: {
			enabled: true, // per action: see ConventionsMiddleware (only idempotent actions retry)
			retries: cfg.RETRIES,
			delay: 50,
			maxDelay: 500,
			factor: 2,
			check: (err: Error) => !!(err as Errors.MoleculerRetryableError).retryable,
		},
		circuitBreaker: {
			enabled: true,
			threshold: 0.5,
			minRequestCount: 20,
			windowTime: 60,
			halfOpenTime: 10_000,
			check: (err: Error) => (err as Errors.MoleculerError).code >= 500,
		},
		bulkhead: { enabled: true, concurrency: 50, maxQueueSize: 500 },
		heartbeatInterval: cfg.HEARTBEAT_INTERVAL_S,
		heartbeatTimeout: cfg.HEARTBEAT_TIMEOUT_S,
		tracking: { enabled: true, shutdownTimeout: cfg.SHUTDOWN_TIMEOUT_MS },
		// bin/valence.ts handles SIGTERM/SIGINT itself: readiness turns 503 before the node stops.
		skipProcessEventRegistration: true,
		registry: { strategy: "RoundRobin", preferLocal: true },
		transit: { disableReconnect: false, maxQueueSize: 50_000 },
		// Length before pattern, a max on every string, null only where nullable (README: Security).
		validator: new BoundedValidator(),
		// errors of lib/errors.ts keep their class across nodes, so `instanceof` works for remote calls too
		errorRegenerator: new PlatformErrorRegenerator(),
		internalMiddlewares: false,
		middlewares: middlewares(cfg) as BrokerOptions["middlewares"],
		metrics: cfg.METRICS
			? {
					enabled: true,
					reporter: [
						prometheusReporter(),
						...(cfg.METRICS_PORT ? [{ type: "Prometheus", options: { ...reporterOptions(), port: cfg.METRICS_PORT } }] : []),
					],
				}
			: false,
		tracing: tracingOptions(cfg),
	} as BrokerOptions;
}

export default brokerOptions;
