/**
 * What of a request's headers reaches the actions, as `ctx.meta.headers`: a short whitelist (lowercase
 * names), always set by the gateway, so never client-made; nothing else crosses.
 */
import type { IncomingMessage } from "node:http";

/**
 * Request headers handed to actions in `meta.headers` (a short whitelist, always set, so never client-made):
 * intake keys, Idempotency-Key, If-Match, and the signature headers of webhooks whose actions take
 * the raw body (`rawBody: true`: Meta, GitHub-style integrations, payment providers).
 */
export const FORWARDED_HEADERS = [
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
const FORWARDED_COOKIE_NAMES = [...FORWARDED_COOKIES];

/** Only the whitelisted cookies of a Cookie header, as `name=value; …`, or null. */
function forwardedCookies(header: string | undefined): string | null {
	// most requests carry no cookie we keep: no split for them
	if (!header || !FORWARDED_COOKIE_NAMES.some(name => header.includes(name))) return null;
	const kept = header
		.split(";")
		.map(part => part.trim())
		.filter(part => FORWARDED_COOKIES.has(part.slice(0, part.indexOf("="))) && part.length <= MAX_FORWARDED_HEADER_LENGTH);
	return kept.length ? kept.join("; ") : null;
}

/** The whitelisted headers (and cookies) of a request. */
export function forwardedHeaders(req: IncomingMessage): Record<string, string> {
	const headers: Record<string, string> = {};
	// `req.headers` is a getter (Node builds the object on first use): read it once, not once per name
	const given = req.headers;
	for (const name of FORWARDED_HEADERS) {
		const value = given[name];
		if (typeof value === "string" && value.length <= MAX_FORWARDED_HEADER_LENGTH) headers[name] = value;
	}
	const cookies = forwardedCookies(given.cookie);
	if (cookies) headers.cookie = cookies;
	return headers;
}
