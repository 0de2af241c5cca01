/**
 * Where a notification's `link` leads. Links are made with the platform's `APP_URL`
 * (`{{ app.url }}/users/<id>`, `/leads/<id>`, `/invitations/<id>/accept`, or an app route `/#/…`): one of
 * this app's addresses opens its screen in the app (no reload, still signed in); another site's page opens as
 * an ordinary outside link.
 */
export interface AppTarget {
	path: string;
	query?: Record<string, string>;
}

const PATHS: [RegExp, (m: RegExpExecArray) => AppTarget][] = [
	[/^\/users\/([\w-]+)\/?$/, m => ({ path: "/social/people", query: { id: m[1] } })],
	[/^\/leads\/([\w-]+)\/?$/, m => ({ path: "/crm/lead", query: { id: m[1] } })],
	[/^\/invitations\/([\w-]+)\/accept\/?$/, m => ({ path: "/account/tenants", query: { invitation: m[1] } })],
];

/** The in-app route of a link, or null when it is not an address of this app. */
export function appTarget(link: string, origin = window.location.origin): AppTarget | null {
	let url: URL;
	try {
		url = new URL(link, origin);
	} catch {
		return null;
	}
	if (url.origin !== origin) return null;
	if (url.hash.startsWith("#/")) {
		const raw = url.hash.slice(1);
		const i = raw.indexOf("?");
		return { path: i < 0 ? raw : raw.slice(0, i), query: i < 0 ? undefined : Object.fromEntries(new URLSearchParams(raw.slice(i + 1))) };
	}
	for (const [re, to] of PATHS) {
		const m = re.exec(url.pathname);
		if (m) return to(m);
	}
	return null;
}

/**
 * Another site's page, followed as an outside link: http(s) only (the API guarantees it; the app checks
 * anyway), and not this app's own origin (an address of the app with no screen, `/posts/<id>` today, would
 * only answer a 404: no link is offered).
 */
export function isOutsideLink(link: string, origin = window.location.origin): boolean {
	if (!/^https?:\/\//i.test(link)) return false;
	try {
		return new URL(link).origin !== origin;
	} catch {
		return false;
	}
}
