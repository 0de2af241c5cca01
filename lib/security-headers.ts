/**
 * Security headers (helmet) for every answer of the gateway: the API, the docs and the dashboard's static
 * files, 404s included (README: Security). moleculer-web serves `assets` outside any route, so route
 * middlewares never see those requests: `withSecurityHeaders` puts helmet in front of the static server.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import helmet from "helmet";

type Next = (err?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

export const securityHeaders: Middleware = helmet({
	contentSecurityPolicy: {
		// No upgrade-insecure-requests: the embedded default serves plain http on localhost.
		directives: {
			defaultSrc: ["'self'"],
			imgSrc: ["'self'", "data:"],
			styleSrc: ["'self'", "'unsafe-inline'"],
			scriptSrc: ["'self'"],
			frameAncestors: ["'self'"],
			upgradeInsecureRequests: null,
		},
	},
	crossOriginEmbedderPolicy: false,
	// helmet's handler is typed for Express requests; moleculer-web's `use` takes plain node ones
}) as unknown as Middleware;

/** The static file server with the security headers set first (on its 404s too). */
export function withSecurityHeaders(serve: Middleware): Middleware {
	return (req, res, next) => securityHeaders(req, res, err => (err ? next(err) : serve(req, res, next)));
}
