/** The gateway's types: moleculer-web's request and response as the gateway extends them, its vars and methods. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Server as NetServer } from "node:net";
import type { Context, Service, ServiceSettingSchema } from "moleculer";
import type proxyAddr from "proxy-addr";
import type { AuthMode, AuthUser, RateLimitRule } from "../../lib/access";
import type { AliasIndex, AliasLike } from "../../lib/alias-index";
import type { TokenVerifier } from "../../lib/jwt";
import type { Problem } from "../../lib/problem";
import type { RateDecision, RateLimiter } from "../../lib/rate-limit";
import type { withSecurityHeaders } from "../../lib/security-headers";
import type { RevocationMethods, RevocationVars } from "./revocations";

export type Req = IncomingMessage & {
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
export type Res = ServerResponse & { $rate?: RateDecision };
/** the path of a request, without its query string */
export const pathOf = (req: Req) => (req.originalUrl ?? req.url ?? "").split("?")[0];
/** the HTTP request moleculer-web hands its `rest` action */
export const requestOf = (ctx: Context) => (ctx.params as { req: Req }).req;

export type Alias = AliasLike & { method: string; fullPath: string; action?: string; type?: string };

export interface GatewayVars extends RevocationVars {
	/** an HTTP server (its response class depends on COMPRESSION) */
	server: NetServer;
	aliases: Alias[];
	aliasIndex: AliasIndex<Alias>;
	verifier: TokenVerifier;
	limiter: RateLimiter;
	trust: ReturnType<typeof proxyAddr.compile>;
	openApiCache?: unknown;
	/** metrics on: problem answers are counted (./operator-console.ts) */
	countProblems: boolean;
	/** moleculer-web's own, debounced (flush: at once) */
	regenerateAllAutoAliases: (() => void) & { flush(): void };
	/** moleculer-web's dashboard file server (`assets`) */
	serve?: Parameters<typeof withSecurityHeaders>[0];
}

export interface GatewayMethods extends RevocationMethods {
	clientKey(req: Req): string;
	sendProblem(req: Req, res: Res, p: Problem): void;
	applyRateLimit(req: Req, res: Res, name: string, rule: RateLimitRule, key: string): Promise<void> | void;
	rateDecided(res: Res, rule: RateLimitRule, decision: RateDecision): void;
	serviceIsDown(pathname: string): boolean;
	/** moleculer-web's */
	sendError(req: Req, res: Res, err: Error): void;
	errorHandler(req: Req, res: Res, err: Error): void;
	/** moleculer-web's: the JSON of an answer */
	encodeResponse(req: Req, res: Res, data: unknown): string;
	authenticate(ctx: Context, route: unknown, req: Req, res: Res): Promise<AuthUser | null>;
	authorize(ctx: Context, route: unknown, req: Req, res: Res): Promise<void>;
	optimizeAliasesOrder(): void;
	resolveAlias(url: string, method?: string): unknown;
	send404(req: Req, res: Res): void;
	createServer(): void;
	/** moleculer-web's request handler */
	httpHandler(req: IncomingMessage, res: ServerResponse): void;
}

export type GatewayThis = Service<GatewaySettings> & GatewayVars & GatewayMethods;

/**
 * moleculer-web's settings as this gateway writes them: its hooks (rootCallOptions, onError, a route's
 * onBeforeCall) run with the service as `this`, which ThisType gives them (moleculer-web's own types
 * leave `this` untyped). Everything else is passed to moleculer-web as is.
 */
export type Route = Record<string, unknown> & { onBeforeCall?(ctx: Context, route: unknown, req: Req): void } & ThisType<GatewayThis>;
export type GatewaySettings = ServiceSettingSchema & {
	[setting: string]: unknown;
	routes: Route[];
	rootCallOptions(options: { requestID?: string }, req: Req, res: Res): void;
	onError(req: Req, res: Res, err: Error): void;
} & ThisType<GatewayThis>;
