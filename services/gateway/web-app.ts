/**
 * The paths outside `/#/…` that lead into the web app (README, "Web app"), all links made elsewhere:
 * - `/reset-password?token=…`, the link of the password-reset e-mail (services/platform/late-variables.ts);
 * - `/invitations/<id>/accept`, the link of the invitation e-mail (README, "Invitations");
 * - `/api/auth/oauth/<name>/callback?code&state`, where a provider sends the browser back. A browser's
 *   navigation there (it asks for `text/html`) gets the app, which then calls the same URL as an API
 *   (`Accept: application/json`) and keeps the token response; API clients get the JSON as before.
 */
import fs from "node:fs";
import path from "node:path";
import type { IncomingMessage, ServerResponse } from "node:http";

type Next = (err?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;

const INVITATION = /^\/invitations\/[\w-]{1,64}\/accept$/;

/** The static server, with `/reset-password` and `/invitations/<id>/accept` answered by the app's index.html. */
export function appEntryPaths(serve: Middleware): Middleware {
	return (req, res, next) => {
		const url = req.url ?? "/";
		const q = url.indexOf("?");
		const pathname = q < 0 ? url : url.slice(0, q);
		if (pathname === "/reset-password" || INVITATION.test(pathname)) req.url = `/index.html${q < 0 ? "" : url.slice(q)}`;
		serve(req, res, next);
	};
}

const CALLBACK = /^\/api\/auth\/oauth\/[^/]{1,100}\/callback$/;

/** `/api` route middleware: a browser navigating to a provider callback gets the app instead of JSON. */
export function oauthCallbackPage(webDir: string): Middleware {
	const index = path.join(webDir, "index.html");
	return (req, res, next) => {
		// every /api request passes here: the cheap tests first, the path only for browser navigations
		if (req.method !== "GET" || !req.headers.accept?.includes("text/html")) return next();
		const url = (req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? "";
		if (!CALLBACK.test(url.split("?")[0])) return next();
		fs.readFile(index, (err, html) => {
			if (err) return next();
			res.statusCode = 200;
			res.setHeader("Content-Type", "text/html; charset=utf-8");
			res.setHeader("Cache-Control", "no-store");
			res.end(html);
		});
	};
}
