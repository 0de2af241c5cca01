/**
 * A hash router (`/#/console/jobs?tab=dead`): the gateway serves one index.html and never has to know the
 * app's routes, so every unknown path stays a problem+json 404 and no server fallback is needed. Three real
 * paths lead into the app from outside (README, "Web app"): the password-reset e-mail's link
 * (`/reset-password?token=…`), the invitation e-mail's (`/invitations/<id>/accept`) and a provider's redirect
 * back (`/api/auth/oauth/<name>/callback?code&state`); `currentRoute()` maps them to `#/reset`,
 * `#/account/tenants?invitation=<id>` and `#/oauth/callback`.
 */
import { useEffect, useState } from "preact/hooks";

export interface Route {
	/** the path after `#`, without the query: `/console/jobs` */
	path: string;
	query: URLSearchParams;
}

const OAUTH_CALLBACK = /^\/api\/auth\/oauth\/([^/]+)\/callback$/;
const INVITATION = /^\/invitations\/([\w-]+)\/accept$/;

export function currentRoute(): Route {
	const { pathname, search, hash } = window.location;
	if (pathname === "/reset-password") return { path: "/reset", query: new URLSearchParams(search) };
	const invitation = INVITATION.exec(pathname);
	if (invitation) return { path: "/account/tenants", query: new URLSearchParams({ invitation: invitation[1] }) };
	const oauth = OAUTH_CALLBACK.exec(pathname);
	if (oauth) {
		const query = new URLSearchParams(search);
		query.set("provider", decodeURIComponent(oauth[1]));
		return { path: "/oauth/callback", query };
	}
	const raw = hash.replace(/^#/, "") || "/";
	const i = raw.indexOf("?");
	return { path: i < 0 ? raw : raw.slice(0, i), query: new URLSearchParams(i < 0 ? "" : raw.slice(i + 1)) };
}

/** The href of an app route: `href("/console", { tab: "jobs" })` → `#/console?tab=jobs`. */
export function href(path: string, query?: Record<string, string>): string {
	const qs = query ? new URLSearchParams(query).toString() : "";
	return `#${path}${qs ? `?${qs}` : ""}`;
}

/** Go to an app route; `replace` leaves no history entry (redirects). Leaves an outside entry path for `/`. */
export function navigate(path: string, opts: { replace?: boolean; query?: Record<string, string> } = {}): void {
	const target = `/${href(path, opts.query)}`;
	if (window.location.pathname !== "/" || opts.replace) {
		window.history.replaceState(null, "", target);
		window.dispatchEvent(new HashChangeEvent("hashchange"));
	} else window.location.hash = href(path, opts.query).slice(1);
}

/** The current route, re-rendering on navigation. */
export function useRoute(): Route {
	const [route, setRoute] = useState(currentRoute);
	useEffect(() => {
		const on = () => setRoute(currentRoute());
		window.addEventListener("hashchange", on);
		window.addEventListener("popstate", on);
		// a child's effect may have navigated before this listener existed (effects run children first)
		on();
		return () => {
			window.removeEventListener("hashchange", on);
			window.removeEventListener("popstate", on);
		};
	}, []);
	return route;
}
