/**
 * The API gateway (moleculer-web): routes built from each action's `rest`, JWT authentication
 * without a call per request, access rules and rate limits checked before the call, problem+json
 * errors, request ids, security headers, health, metrics, OpenAPI docs and the dashboard.
 */
import { randomUUID, timingSafeEqual } from "node:crypto";
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { Server as NetServer } from "node:net";
import path from "node:path";
import type { Context, Service, ServiceSettingSchema } from "moleculer";
import ApiGateway from "moleculer-web";
import proxyAddr from "proxy-addr";
import serveStatic from "serve-static";
import { AliasIndex, type AliasLike } from "../../lib/alias-index";
import { compressingResponse, compressResponses, type CompressionOptions, type Encoding } from "../../lib/compression";
import { fixedHeaders } from "../../lib/fixed-headers";
import { accessCheckOf, rateLimitKeys, UnauthorizedError, type AuthMode, type AuthUser, type RateLimitRule } from "../../lib/access";
import { bodyParsers, routedAction } from "../../lib/body";
import { config, splitList } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import { ServiceStartingError } from "../../lib/errors";
import { runReadinessProbes, withDeadline } from "../../lib/health";
import { nodeState } from "../../lib/lifecycle";
import { TokenVerifier } from "../../lib/jwt";
import { prometheusReporter } from "../../lib/metrics";
import { buildOpenApi, type RouteInfo } from "../../lib/openapi";
import { publicDir } from "../../lib/paths";
import { problem, toProblem, type Problem } from "../../lib/problem";
import { RateLimiter, type RateDecision } from "../../lib/rate-limit";
import type { ServiceSchema } from "../../lib/schema";
import { securityHeaders, withSecurityHeaders } from "../../lib/security-headers";
import { codebaseServiceNames, knownServiceNames } from "../catalog";
import { RevocationMixin, type RevocationMethods, type RevocationVars } from "./revocations";

const cfg = config();
const compression: CompressionOptions | null =
	cfg.COMPRESSION === "off" ? null : { encodings: splitList(cfg.COMPRESSION) as Encoding[], minBytes: cfg.COMPRESSION_MIN_BYTES };
const REQUEST_ID = /^[\w.:-]{1,128}$/;
const isLoopback = (() => {
	const trust = proxyAddr.compile("loopback");
	return (addr: string) => trust(addr, 0);
})();
const safeEqual = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

type Req = IncomingMessage & {
	$action?: { name: string; auth?: AuthMode; roles?: string[]; visibility?: string; rateLimit?: RateLimitRule };
	$ctx?: Context;
	$endpoint?: { id: string | null; local: boolean };
	$requestID?: string;
	$user?: AuthUser | null;
	$authError?: Error;
	/** the client's address, worked out once per request (clientKey) */
	$clientKey?: string;
	parsedUrl?: string;
	originalUrl?: string;
};
type Res = ServerResponse & { $rate?: RateDecision };
/** the path of a request, without its query string */
const pathOf = (req: Req) => (req.originalUrl ?? req.url ?? "").split("?")[0];
/** the HTTP request moleculer-web hands its `rest` action */
const requestOf = (ctx: Context) => (ctx.params as { req: Req }).req;

type Alias = AliasLike & { method: string; fullPath: string; action?: string; type?: string };

interface GatewayVars extends RevocationVars {
	/** an HTTP server (its response class depends on COMPRESSION) */
	server: NetServer;
	aliases: Alias[];
	aliasIndex: AliasIndex<Alias>;
	verifier: TokenVerifier;
	limiter: RateLimiter;
	trust: ReturnType<typeof proxyAddr.compile>;
	openApiCache?: unknown;
	/** moleculer-web's own, debounced (flush: at once) */
	regenerateAllAutoAliases: (() => void) & { flush(): void };
	/** moleculer-web's dashboard file server (`assets`) */
	serve?: Parameters<typeof withSecurityHeaders>[0];
}

interface GatewayMethods extends RevocationMethods {
	clientKey(req: Req): string;
	sendProblem(req: Req, res: Res, p: Problem): void;
	applyRateLimit(req: Req, res: Res, name: string, rule: RateLimitRule, key: string): Promise<void> | void;
	rateDecided(res: Res, rule: RateLimitRule, decision: RateDecision): void;
	serviceIsDown(pathname: string): boolean;
	/** moleculer-web's */
	sendError(req: Req, res: Res, err: Error): void;
	errorHandler(req: Req, res: Res, err: Error): void;
	authenticate(ctx: Context, route: unknown, req: Req, res: Res): Promise<AuthUser | null>;
	authorize(ctx: Context, route: unknown, req: Req, res: Res): Promise<void>;
	optimizeAliasesOrder(): void;
	resolveAlias(url: string, method?: string): unknown;
	send404(req: Req, res: Res): void;
	createServer(): void;
	/** moleculer-web's request handler */
	httpHandler(req: IncomingMessage, res: ServerResponse): void;
}

type GatewayThis = Service<GatewaySettings> & GatewayVars & GatewayMethods;

/**
 * moleculer-web's settings as this gateway writes them: its hooks (rootCallOptions, onError, a route's
 * onBeforeCall) run with the service as `this`, which ThisType gives them (moleculer-web's own types
 * leave `this` untyped). Everything else is passed to moleculer-web as is.
 */
type Route = Record<string, unknown> & { onBeforeCall?(ctx: Context, route: unknown, req: Req): void } & ThisType<GatewayThis>;
type GatewaySettings = ServiceSettingSchema & {
	[setting: string]: unknown;
	routes: Route[];
	rootCallOptions(options: { requestID?: string }, req: Req, res: Res): void;
	onError(req: Req, res: Res, err: Error): void;
} & ThisType<GatewayThis>;

const defaultRule: RateLimitRule = { max: cfg.RATE_LIMIT_MAX, windowSec: cfg.RATE_LIMIT_WINDOW_S };
/** The access log line is at info level: below it, no request pays for a listener whose line nobody writes. */
const accessLog = ["info", "debug", "trace"].includes(cfg.LOG_LEVEL);
/** Request headers handed to actions as `ctx.meta.headers` (lowercase names; nothing else crosses). */
/**
 * Request headers handed to actions in `meta.headers` (a short whitelist, always set, so never client-made):
 * intake keys, Idempotency-Key, If-Match, and the signature headers of webhooks whose actions take
 * the raw body (`rawBody: true`: Meta, GitHub-style integrations, payment providers).
 */
const FORWARDED_HEADERS = [
	"x-ingest-key",
	"idempotency-key",
	"if-match",
	"x-hub-signature-256",
	"x-signature-256",
	"x-github-delivery",
	"x-github-event",
	"x-delivery-id",
	"x-event",
	"stripe-signature",
	"sandbox-signature",
	"paypal-transmission-id",
	"paypal-transmission-time",
	"paypal-transmission-sig",
	"paypal-cert-url",
	"paypal-auth-algo",
] as const;
const MAX_FORWARDED_HEADER_LENGTH = 1024;
/**
 * Cookies handed to actions as `meta.headers.cookie` (only these, never the rest of the Cookie header):
 * the provider sign-in's flow binding (services/identity/oauth/browser-binding.ts).
 */
const FORWARDED_COOKIES = new Set(["valence_oauth_flow"]);

/** Only the whitelisted cookies of a Cookie header, as `name=value; …`, or null. */
function forwardedCookies(header: string | undefined): string | null {
	const kept = (header ?? "")
		.split(";")
		.map(part => part.trim())
		.filter(part => FORWARDED_COOKIES.has(part.slice(0, part.indexOf("="))) && part.length <= MAX_FORWARDED_HEADER_LENGTH);
	return kept.length ? kept.join("; ") : null;
}
const corsOrigins = splitList(cfg.CORS_ORIGINS);
const swaggerDir = path.dirname(require.resolve("swagger-ui-dist/package.json"));
const docsDir = path.join(publicDir, "docs");

const ApiService: ServiceSchema<GatewaySettings, GatewayMethods, GatewayVars> = {
	name: "api",
	// moleculer-web's typings describe a class; at run time it is a service mixin
	mixins: [ApiGateway as Partial<ServiceSchema>, RevocationMixin as Partial<ServiceSchema>],

	settings: {
		port: cfg.PORT,
		ip: cfg.HOST,
		// Our own access log (with request id, status and duration) replaces moleculer-web's lines.
		log4XXResponses: false,
		logRequest: null,
		logResponse: null,
		logRouteRegistration: "debug",
		optimizeOrder: true,
		// helmet's headers are the same on every answer: recorded once and replayed (lib/fixed-headers.ts);
		// JSON answers compressed when the client accepts it (lib/compression.ts)
		use: [fixedHeaders(securityHeaders), ...(compression ? [compressResponses(compression)] : [])],
		cors: corsOrigins.length
			? {
					origin: corsOrigins.includes("*") ? "*" : corsOrigins,
					methods: ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
					allowedHeaders: ["Authorization", "Content-Type", "X-Request-ID", "Idempotency-Key", "X-Ingest-Key"],
					exposedHeaders: [
						"X-Request-ID",
						"Idempotent-Replayed",
						"RateLimit-Limit",
						"RateLimit-Remaining",
						"RateLimit-Reset",
						"Retry-After",
						"WWW-Authenticate",
					],
					credentials: !corsOrigins.includes("*"),
					maxAge: 600,
				}
			: undefined,

		rootCallOptions(options: { requestID?: string }, req: Req, res: Res) {
			const given = req.headers["x-request-id"];
			const requestID = typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
			options.requestID = requestID;
			req.$requestID = requestID;
			res.setHeader("X-Request-ID", requestID);
			if (!accessLog) return;
			const started = process.hrtime.bigint();
			res.once("finish", () => {
				this.logger.info("http", {
					requestID,
					method: req.method,
					path: (req.originalUrl ?? req.url ?? "").split("?")[0],
					status: res.statusCode,
					ms: Number((process.hrtime.bigint() - started) / 100000n) / 10,
				});
			});
		},

		routes: [
			{
				name: "health",
				path: "/health",
				authentication: false,
				authorization: false,
				mappingPolicy: "restrict",
				aliases: { "GET /": "api.health", "GET /ready": "api.ready", "GET /services": "api.services" },
				bodyParsers: false,
			},
			{
				name: "openapi",
				path: "/openapi.json",
				authentication: false,
				authorization: false,
				mappingPolicy: "restrict",
				aliases: { "GET /": "api.openapi" },
				bodyParsers: false,
			},
			{
				name: "jwks",
				path: "/.well-known/jwks.json",
				authentication: false,
				authorization: false,
				mappingPolicy: "restrict",
				aliases: { "GET /": "auth.jwks" },
				bodyParsers: false,
			},
			{
				name: "metrics",
				path: "/metrics",
				authentication: false,
				authorization: false,
				mappingPolicy: "restrict",
				aliases: { "GET /": "api.metrics" },
				bodyParsers: false,
				onBeforeCall(_ctx: Context, _route: unknown, req: Req) {
					// Metrics name every node and action: loopback callers or the scrape token only.
					if (req.$action?.name !== "api.metrics") return;
					const token = cfg.METRICS_TOKEN;
					const allowed = token ? safeEqual(req.headers.authorization ?? "", `Bearer ${token}`) : isLoopback(this.clientKey(req));
					if (!allowed) throw new UnauthorizedError("Metrics need the scrape token.");
				},
			},
			{
				name: "docs",
				path: "/docs",
				authentication: false,
				authorization: false,
				mappingPolicy: "restrict",
				use: [serveStatic(docsDir, { index: ["index.html"] }), serveStatic(swaggerDir, { index: false })],
				aliases: {},
				bodyParsers: false,
			},
			{
				// Uploaded media, public by unguessable immutable id (README, "Media"); media.serve answers 304 itself.
				name: "media",
				path: "/media",
				authentication: false,
				authorization: false,
				mappingPolicy: "restrict",
				aliases: { "GET /:id": "media.serve", "GET /:id/:variant": "media.serve" },
				bodyParsers: false,
				onBeforeCall(ctx: Context, _route: unknown, req: Req) {
					Object.assign(ctx.meta as object, { user: null, ifNoneMatch: req.headers["if-none-match"] ?? null });
				},
			},
			{
				// OAuth 2.0 endpoints for API clients (README, "API clients"): RFC paths and form bodies; the actions
				// authenticate the client themselves and answer RFC JSON, so only the Authorization header crosses.
				name: "oauth",
				path: "/oauth",
				authentication: false,
				authorization: false,
				mappingPolicy: "restrict",
				aliases: { "POST /token": "oauth.token", "POST /revoke": "oauth.revoke", "POST /introspect": "oauth.introspect" },
				bodyParsers: { json: false, urlencoded: { extended: false, limit: "8kb" } },
				onBeforeCall(ctx: Context, _route: unknown, req: Req) {
					const authorization = req.headers.authorization;
					const headers = typeof authorization === "string" && authorization.length <= 2048 ? { authorization } : {};
					Object.assign(ctx.meta as object, { user: null, headers });
				},
			},
			{
				name: "api",
				path: "/api",
				autoAliases: true,
				// moleculer-web's own request/response lines are off (logRequest/logResponse above): skip their work too
				logging: false,
				mappingPolicy: "restrict",
				authentication: true,
				authorization: true,
				// Per-action body limits, a depth limit and decoder errors as 400s (README: Security).
				bodyParsers: false,
				use: [bodyParsers({ limit: cfg.BODY_LIMIT, publicLimit: cfg.PUBLIC_BODY_LIMIT, actionOf: routedAction })],
				callOptions: {},
				onBeforeCall(ctx: Context, _route: unknown, req: Req) {
					// With NATS queue groups balancing (a cluster), the call must not name a node: moleculer-web picks an
					// endpoint to read the action's rules and would send the request to that node, even one that died a
					// moment ago. Without a node id, NATS hands the request to a live subscriber (README, "Failover").
					if (this.broker.options.disableBalancer && req.$endpoint && !req.$endpoint.local)
						req.$endpoint = Object.create(req.$endpoint, { id: { value: null } });
					// Never trust a user object sent by the client: only what authentication set.
					(ctx.meta as { user?: AuthUser | null }).user = req.$user ?? null;
					// Where the call comes from (session lists, audit); never used for access decisions.
					const userAgent = req.headers["user-agent"];
					(ctx.meta as { client?: { ip: string; userAgent: string | null } }).client = {
						ip: this.clientKey(req),
						userAgent: typeof userAgent === "string" ? userAgent.slice(0, 256) : null,
					};
					// A short whitelist of request headers for actions that need one (always set, so never client-made).
					const headers: Record<string, string> = {};
					for (const name of FORWARDED_HEADERS) {
						const value = req.headers[name];
						if (typeof value === "string" && value.length <= MAX_FORWARDED_HEADER_LENGTH) headers[name] = value;
					}
					const cookies = forwardedCookies(req.headers.cookie);
					if (cookies) headers.cookie = cookies;
					(ctx.meta as { headers?: Record<string, string> }).headers = headers;
				},
			},
		],

		assets: { folder: publicDir, options: { index: ["index.html"] } },

		onError(req: Req, res: Res, err: Error) {
			const p = toProblem(err);
			// A 503 is expected while a node starts or a service has no node: one line, not a stack.
			if (p.status === 503) this.logger.warn("request refused", { requestID: req.$requestID, code: p.code, error: err?.name });
			else if (p.status >= 500)
				this.logger.error("request failed", { requestID: req.$requestID, error: err?.name, message: err?.message, stack: err?.stack });
			this.sendProblem(req, res, p);
		},
	},

	actions: {
		// moleculer-web's request action: its span (the root of a request's trace, README "Tracing") is named
		// by method and path, without the query string (which may carry a secret) and without params
		rest: {
			tracing: {
				spanName: (ctx: Context) => `${requestOf(ctx).method} ${pathOf(requestOf(ctx))}`,
				tags: (ctx: Context) => ({ http: { method: requestOf(ctx).method, path: pathOf(requestOf(ctx)) } }),
			},
		},
		// moleculer-web publishes its alias list; ours is /openapi.json. Routes are ours, not other nodes' to change.
		listAliases: false,
		addRoute: false,
		removeRoute: false,
		health: {
			auth: "public",
			visibility: "published",
			summary: "Liveness: the gateway process answers.",
			handler() {
				return { status: "ok" };
			},
		},
		ready: {
			auth: "public",
			visibility: "published",
			summary: "Readiness: transporter, cache and databases of this node answer.",
			async handler(ctx: Ctx) {
				// Not ready while local services are still starting, nor once a SIGTERM asked the node to leave.
				const state = nodeState(this.broker);
				if (state !== "ready") {
					Object.assign(ctx.meta, { $statusCode: 503, $responseHeaders: { "Retry-After": "1" } });
					return { status: state, checks: [] };
				}
				const checks = [];
				const transit = this.broker.transit;
				if (transit) checks.push({ name: "transporter", ok: !!transit.connected, ...(transit.connected ? {} : { error: "not connected" }) });
				checks.push(...(await runReadinessProbes(1000)));
				// Redis is reported but does not make the node unready: the cache and the rate limiter
				// keep working without it, and pulling every gateway out of service would be worse.
				// Moleculer's Cacher typings do not declare the Redis cacher's client
				const cacher = this.broker.cacher as unknown as { client?: { ping(): Promise<unknown> } } | null;
				const optional = cacher?.client ? [{ ...(await withDeadline("cacher", () => cacher.client!.ping(), 500)), optional: true }] : [];
				const ok = checks.every(c => c.ok);
				if (!ok) ctx.meta.$statusCode = 503;
				const degraded = optional.some(c => !c.ok);
				return { status: ok ? (degraded ? "degraded" : "ready") : "unavailable", checks: [...checks, ...optional] };
			},
		},
		services: {
			auth: "public",
			visibility: "published",
			summary: "Every service with its node count and availability.",
			handler() {
				const list = this.broker.registry.getServiceList({ skipInternal: true, withActions: false }) as {
					name: string;
					nodeID: string;
					available: boolean;
				}[];
				const byName = new Map<string, { name: string; nodes: number; available: boolean }>();
				for (const name of knownServiceNames()) byName.set(name, { name, nodes: 0, available: false });
				for (const s of list) {
					const item = byName.get(s.name) ?? { name: s.name, nodes: 0, available: false };
					item.nodes += 1;
					item.available ||= s.available !== false;
					byName.set(s.name, item);
				}
				return { services: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)) };
			},
		},
		metrics: {
			auth: "public",
			visibility: "published",
			summary: "Prometheus metrics of this node (loopback or METRICS_TOKEN only).",
			handler(ctx: Ctx) {
				ctx.meta.$responseType = "text/plain; version=0.0.4; charset=utf-8";
				return prometheusReporter().render();
			},
		},
		openapi: {
			auth: "public",
			visibility: "published",
			summary: "This API's OpenAPI 3.1 document.",
			handler() {
				if (!this.openApiCache) {
					const defs = new Map(
						(this.broker.registry.getActionList({} as never) as { name: string; action?: RouteInfo["action"] }[]).map(a => [
							a.name,
							a.action,
						]),
					);
					const routes: RouteInfo[] = this.aliases
						.filter(a => a.action && a.fullPath.startsWith("/api"))
						.map(a => ({
							method: a.method,
							path: a.fullPath,
							action: defs.get(a.action!) ?? { name: a.action! },
							multipart: a.type === "multipart",
						}));
					this.openApiCache = buildOpenApi(routes, { title: "Valence API", version: "0.1.0" });
				}
				return this.openApiCache;
			},
		},
	},

	methods: {
		/**
		 * moleculer-web's HTTP server (this gateway uses neither its HTTPS nor its HTTP/2 settings), with the
		 * response class that compresses (lib/compression.ts) when compression is on.
		 */
		createServer() {
			if (this.server) return;
			const server = compression
				? http.createServer({ ServerResponse: compressingResponse(compression) }, this.httpHandler)
				: http.createServer(this.httpHandler);
			server.requestTimeout = Number(this.settings.requestTimeout ?? 300_000);
			this.server = server;
		},

		/** moleculer-web logs every 5xx itself before `onError`; `onError` logs them once, with the request id. */
		errorHandler(req: Req, res: Res, err: Error) {
			this.sendError(req, res, err);
		},

		/** moleculer-web hook: who is calling. Invalid tokens fail here; a missing one is anonymous. */
		async authenticate(_ctx: Context, _route: unknown, req: Req, res: Res) {
			// The HTTP server listens before the other local services have started: route nothing until they have.
			if (!this.broker.started) {
				res.setHeader("Retry-After", "1");
				throw new ServiceStartingError();
			}
			const header = req.headers.authorization;
			let user: AuthUser | null = null;
			let error: Error | undefined;
			if (header) {
				const [scheme, token] = header.split(" ");
				if (scheme?.toLowerCase() !== "bearer" || !token)
					error = new UnauthorizedError("Use 'Authorization: Bearer <token>'.", "INVALID_TOKEN");
				else user = await this.verifier.verify(token).catch(e => ((error = e), null));
				// Ended sessions and deleted users: an in-memory check, no call (./revocations.ts).
				if (user && this.tokenRevoked(user)) {
					user = null;
					error = new UnauthorizedError("The session of this access token has ended. Sign in again.", "TOKEN_REVOKED");
				}
			}
			req.$user = user;
			// Count the request before rejecting a bad token, so token guessing is limited too.
			const limited = this.applyRateLimit(req, res, "default", defaultRule, user ? `u:${user.id}` : `ip:${this.clientKey(req)}`);
			if (limited) await limited;
			if (error) throw error;
			return user;
		},

		/** moleculer-web hook: may this caller call this action, and within which limits. */
		async authorize(_ctx: Context, _route: unknown, req: Req, res: Res) {
			const action = req.$action;
			if (!action) return;
			accessCheckOf(action)?.(req.$user);
			// What is counted is the action's declaration (lib/access.ts): by address unless it says otherwise.
			if (action.rateLimit) {
				const { bucket, keys } = rateLimitKeys({ ...action, rateLimit: action.rateLimit }, req.$user, this.clientKey(req));
				for (const key of keys) {
					const limited = this.applyRateLimit(req, res, bucket, action.rateLimit, key);
					if (limited) await limited;
				}
			}
		},

		/** Counts the request; throws (or rejects) when it is over the limit. Synchronous with the memory store. */
		applyRateLimit(_req: Req, res: Res, name: string, rule: RateLimitRule, key: string): Promise<void> | void {
			const now = this.limiter.consumeNow(name, rule, key);
			if (now) return this.rateDecided(res, rule, now);
			return this.limiter.consume(name, rule, key).then(decision => this.rateDecided(res, rule, decision));
		},

		rateDecided(res: Res, rule: RateLimitRule, decision: RateDecision) {
			// Headers describe the tightest limit seen for this request.
			if (!res.$rate || decision.remaining <= res.$rate.remaining) {
				res.$rate = decision;
				res.setHeader("RateLimit-Limit", String(decision.limit));
				res.setHeader("RateLimit-Remaining", String(Math.max(0, decision.remaining)));
				res.setHeader("RateLimit-Reset", String(decision.resetSec));
				res.setHeader("RateLimit-Policy", `${rule.max};w=${rule.windowSec}`);
			}
			if (!decision.allowed) {
				res.setHeader("Retry-After", String(decision.resetSec));
				const e = new Error("Too many requests.") as Error & { name: string };
				e.name = "RateLimitExceeded";
				throw e;
			}
		},

		/** The client's address; X-Forwarded-For is believed only from TRUSTED_PROXIES. */
		clientKey(req: Req): string {
			return (req.$clientKey ??= proxyAddr(req, this.trust));
		},

		sendProblem(req: Req, res: Res, p: Problem) {
			if (res.headersSent) {
				res.end();
				return;
			}
			const { retryAfterSec, ...rest } = p;
			const body: Problem = { ...rest, instance: (req.originalUrl ?? req.url ?? "").split("?")[0], requestId: req.$requestID };
			if (p.status === 401)
				res.setHeader(
					"WWW-Authenticate",
					`Bearer realm="valence", error="invalid_token", error_description="${p.detail.replace(/"/g, "'")}"`,
				);
			// Every 429 and 503 says when to come back: the rate limiter sets its own, errors may carry one.
			if ((p.status === 429 || p.status === 503) && !res.getHeader("Retry-After"))
				res.setHeader("Retry-After", String(retryAfterSec ?? (p.status === 429 ? 60 : 5)));
			res.setHeader("Content-Type", "application/problem+json; charset=utf-8");
			res.setHeader("Cache-Control", "no-store");
			// the status without writeHead: the headers stay open until `end` (compression may still add its own)
			res.statusCode = p.status;
			res.end(JSON.stringify(body));
		},

		/**
		 * moleculer-web drops a service's aliases when its last node leaves, so its routes would answer
		 * 404. A path under a service the platform has, but no node runs right now, is a 503.
		 */
		serviceIsDown(pathname: string): boolean {
			const m = /^\/api\/([^/?]+)/.exec(pathname);
			if (!m) return false;
			const name = m[1];
			// hasService's typings require a node id; without one Moleculer checks every node.
			return codebaseServiceNames().includes(name) && !this.broker.registry.hasService(name, undefined as unknown as string);
		},

		/**
		 * moleculer-web orders aliases by segment count, then by how many params, then alphabetically, so
		 * `GET /:id/stats` (":" sorts before letters) would capture `/search/stats` meant for
		 * `GET /search/:query`. Here, at the first segment where two paths differ in kind, the literal wins.
		 */
		optimizeAliasesOrder() {
			const segments = (p: string) => p.split("/").filter(Boolean);
			const isParam = (seg: string) => seg.startsWith(":") || seg.startsWith("{") || seg.startsWith("*");
			this.aliases.sort((a, b) => {
				const sa = segments(a.fullPath);
				const sb = segments(b.fullPath);
				if (sa.length !== sb.length) return sb.length - sa.length;
				for (let i = 0; i < sa.length; i++) {
					const pa = isParam(sa[i]);
					if (pa !== isParam(sb[i])) return pa ? 1 : -1;
				}
				return a.fullPath.localeCompare(b.fullPath);
			});
		},

		/** moleculer-web's alias lookup, through an index instead of every alias in turn (lib/alias-index.ts). */
		resolveAlias(url: string, method = "GET") {
			return (this.aliasIndex ??= new AliasIndex()).resolve(this.aliases, url, method);
		},

		send404(req: Req, res: Res) {
			const pathname = (req.originalUrl ?? req.url ?? "").split("?")[0];
			if (this.serviceIsDown(pathname))
				this.sendProblem(req, res, problem(503, "SERVICE_UNAVAILABLE", "The service is not available right now. Try again shortly."));
			else this.sendProblem(req, res, problem(404, "NOT_FOUND", "There is nothing at this address."));
		},
	},

	events: {
		// Routes follow the registry at once, instead of after moleculer-web's 500 ms debounce: during that
		// window a request to a service that /health/services already lists would get 404.
		"$services.changed"() {
			this.openApiCache = undefined;
			this.regenerateAllAutoAliases();
			this.regenerateAllAutoAliases.flush();
		},
		"$broker.started"() {
			this.regenerateAllAutoAliases();
			this.regenerateAllAutoAliases.flush();
		},
	},

	created() {
		// The dashboard (`assets`) is served outside every route: give its answers the headers too.
		if (this.serve) this.serve = withSecurityHeaders(this.serve);
		this.aliasIndex = new AliasIndex();
		this.trust = proxyAddr.compile(splitList(cfg.TRUSTED_PROXIES));
		this.limiter = new RateLimiter({ redisUrl: cfg.REDIS_URL, prefix: `${cfg.NAMESPACE}:rl`, timeoutMs: cfg.CACHE_TIMEOUT_MS });
		this.verifier = new TokenVerifier({
			fetchJwks: () => this.broker.call("auth.jwks", {}, { meta: {} }) as Promise<{ keys: [] }>,
			issuer: cfg.JWT_ISSUER,
			audience: cfg.JWT_AUDIENCE,
		});
	},

	async stopped() {
		await this.limiter.close();
	},
};

export default ApiService;
