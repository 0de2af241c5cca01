/**
 * The API gateway (moleculer-web): routes built from each action's `rest`, JWT authentication
 * without a call per request, access rules and rate limits checked before the call, problem+json
 * errors, request ids, security headers, health, metrics, OpenAPI docs and the dashboard.
 */
import { randomUUID, timingSafeEqual } from "node:crypto";
import http from "node:http";
import path from "node:path";
import type { CallingOptions, Context } from "moleculer";
import ApiGateway from "moleculer-web";
import proxyAddr from "proxy-addr";
import serveStatic from "serve-static";
import { AliasIndex } from "../../lib/alias-index";
import { batchedResponse } from "../../lib/batched-writes";
import { compressingResponse, type CompressionOptions, type Encoding } from "../../lib/compression";
import { fixedHeaders, headerBlockResponse, KnownHeader, setKnownHeader } from "../../lib/fixed-headers";
import { accessCheckOf, rateLimitKeys, UnauthorizedError, type AuthUser, type RateLimitRule } from "../../lib/access";
import { bodyParsers, routedAction } from "../../lib/body";
import { config, splitList } from "../../lib/config";
import { ServiceStartingError } from "../../lib/errors";
import { TokenVerifier } from "../../lib/jwt";
import { answerJson } from "../../lib/memory-cacher";
import { publicDir, webDir } from "../../lib/paths";
import { problem, toProblem, type Problem } from "../../lib/problem";
import { RateLimiter, type RateDecision } from "../../lib/rate-limit";
import type { ServiceSchema } from "../../lib/schema";
import { securityHeaders, withSecurityHeaders } from "../../lib/security-headers";
import { codebaseServiceNames } from "../catalog";
import { forwardedHeaders } from "./forwarded-headers";
import { appEntryPaths, oauthCallbackPage } from "./web-app";
import { HTTP_PROBLEMS, OperatorConsoleMixin, operatorRoute, registerHttpMetrics } from "./operator-console";
import { OperatorEndpointsMixin } from "./operator-endpoints";
import { RevocationMixin } from "./revocations";
import { pathOf, requestOf, type GatewayMethods, type GatewaySettings, type GatewayVars, type Req, type Res } from "./types";

const cfg = config();
const compression: CompressionOptions | null =
	cfg.COMPRESSION === "off" ? null : { encodings: splitList(cfg.COMPRESSION) as Encoding[], minBytes: cfg.COMPRESSION_MIN_BYTES };
const REQUEST_ID = /^[\w.:-]{1,128}$/;
// the headers every API answer carries, set without Node checking their names again (lib/fixed-headers.ts)
const X_REQUEST_ID = new KnownHeader("X-Request-ID");
const RATE_LIMIT_LIMIT = new KnownHeader("RateLimit-Limit");
const RATE_LIMIT_REMAINING = new KnownHeader("RateLimit-Remaining");
const RATE_LIMIT_RESET = new KnownHeader("RateLimit-Reset");
const RATE_LIMIT_POLICY = new KnownHeader("RateLimit-Policy");
const isLoopback = (() => {
	const trust = proxyAddr.compile("loopback");
	return (addr: string) => trust(addr, 0);
})();
const safeEqual = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

const defaultRule: RateLimitRule = { max: cfg.RATE_LIMIT_MAX, windowSec: cfg.RATE_LIMIT_WINDOW_S };
/** The access log line is at info level: below it, no request pays for a listener whose line nobody writes. */
const accessLog = ["info", "debug", "trace"].includes(cfg.LOG_LEVEL);
const corsOrigins = splitList(cfg.CORS_ORIGINS);
const swaggerDir = path.dirname(require.resolve("swagger-ui-dist/package.json"));
const docsDir = path.join(publicDir, "docs");

const ApiService: ServiceSchema<GatewaySettings, GatewayMethods, GatewayVars> = {
	name: "api",
	// moleculer-web's typings describe a class; at run time it is a service mixin
	mixins: [ApiGateway as Partial<ServiceSchema>, RevocationMixin as Partial<ServiceSchema>, OperatorEndpointsMixin, OperatorConsoleMixin],

	settings: {
		port: cfg.PORT,
		ip: cfg.HOST,
		// Our own access log (with request id, status and duration) replaces moleculer-web's lines.
		log4XXResponses: false,
		logRequest: null,
		logResponse: null,
		logRouteRegistration: "debug",
		optimizeOrder: true,
		// helmet's headers are the same on every answer: recorded once, written as one block (lib/fixed-headers.ts);
		// JSON answers are compressed by the response class (createServer below) when the client accepts it
		use: [fixedHeaders(securityHeaders)],
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
			setKnownHeader(res, X_REQUEST_ID, requestID);
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
				// only for the actions' per-address rate limits (authorize below): the actions are public
				authorization: true,
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
				// the operators' views (./operator-console.ts), before `/api` so that its prefix is matched first
				...operatorRoute,
				// bodies are read and checked as on `/api` (none is needed: a malformed one is still a 400)
				use: [bodyParsers({ limit: cfg.BODY_LIMIT, publicLimit: cfg.PUBLIC_BODY_LIMIT, actionOf: routedAction })],
				onBeforeCall(ctx: Context, _route: unknown, req: Req) {
					(ctx.meta as { user?: AuthUser | null }).user = req.$user ?? null;
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
				use: [oauthCallbackPage(webDir), bodyParsers({ limit: cfg.BODY_LIMIT, publicLimit: cfg.PUBLIC_BODY_LIMIT, actionOf: routedAction })],
				// moleculer-web only serializes the routed action's answer (no route here has onAfterCall): a cache
				// hit may hand over the cached, frozen answer without a copy (lib/memory-cacher.ts)
				callOptions: { answerOnlySerialized: true } satisfies CallingOptions,
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
					(ctx.meta as { headers?: Record<string, string> }).headers = forwardedHeaders(req);
				},
			},
		],

		// the web app (build/web, README "Web app"); the API docs stay in public/docs (the `docs` route)
		assets: { folder: webDir, options: { index: ["index.html"] } },

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
			// The request's own action only hands over to the routed action, which has the timeout, bulkhead and
			// breaker. Here they would only cost time per request: a timer for a timeout the inner call already
			// enforces, a breaker over the gateway's own local action (nothing routes around it), and a second
			// queue in front of the routed action's bulkhead (README, "What moved, and why it is as safe").
			timeout: 0,
			bulkhead: { enabled: false },
			circuitBreaker: { enabled: false },
			tracing: {
				spanName: (ctx: Context) => `${requestOf(ctx).method} ${pathOf(requestOf(ctx))}`,
				tags: (ctx: Context) => ({ http: { method: requestOf(ctx).method, path: pathOf(requestOf(ctx)) } }),
			},
		},
		// moleculer-web publishes its alias list; ours is /openapi.json. Routes are ours, not other nodes' to change.
		listAliases: false,
		addRoute: false,
		removeRoute: false,
	},

	methods: {
		/**
		 * moleculer-web's HTTP server (this gateway uses neither its HTTPS nor its HTTP/2 settings), with a
		 * response class that writes helmet's headers as one block (lib/fixed-headers.ts), writes answers
		 * in bursts (lib/batched-writes.ts) and compresses them (lib/compression.ts), the last two when on.
		 */
		createServer() {
			if (this.server) return;
			const headed = headerBlockResponse(http.ServerResponse);
			const base = cfg.BATCH_RESPONSE_WRITES ? batchedResponse(headed) : headed;
			const server = http.createServer({ ServerResponse: compression ? compressingResponse(compression, base) : base }, this.httpHandler);
			server.requestTimeout = Number(this.settings.requestTimeout ?? 300_000);
			this.server = server;
		},

		/** moleculer-web's JSON of an answer; a cache hit's frozen answer is written once (lib/memory-cacher.ts) */
		encodeResponse(_req: Req, _res: Res, data: unknown): string {
			return answerJson(data);
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
				setKnownHeader(res, RATE_LIMIT_LIMIT, decision.limit);
				setKnownHeader(res, RATE_LIMIT_REMAINING, Math.max(0, decision.remaining));
				setKnownHeader(res, RATE_LIMIT_RESET, decision.resetSec);
				setKnownHeader(res, RATE_LIMIT_POLICY, `${rule.max};w=${rule.windowSec}`);
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
			// without X-Forwarded-For, proxy-addr answers the socket's address: skip parsing for it
			return (req.$clientKey ??=
				req.headers["x-forwarded-for"] === undefined && req.socket.remoteAddress ? req.socket.remoteAddress : proxyAddr(req, this.trust));
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
			// the operator console's HTTP error rate (errors only: a success pays nothing for it)
			if (this.countProblems) this.broker.metrics.increment(HTTP_PROBLEMS, { status: p.status, code: p.code });
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
		if (this.serve) this.serve = withSecurityHeaders(appEntryPaths(this.serve));
		this.aliasIndex = new AliasIndex();
		registerHttpMetrics(this.broker);
		this.countProblems = this.broker.isMetricsEnabled();
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
