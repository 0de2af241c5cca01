/**
 * Binds a sign-in or connect flow to the browser that started it (README, "Signing in with a provider, API
 * clients and integrations"): the start sets an HttpOnly, SameSite=Lax cookie with a random nonce, the flow
 * keeps only its hash, and the callback goes on only when the browser sends the same nonce back. A sign-in
 * or connect link someone else started (login CSRF, a session swap) is refused in your browser, which never
 * got their cookie. The cookie's Path keeps each flow's cookie to its own callback: sign-in's
 * /api/auth/oauth, integrations' /api/integrations.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { appUrl, type Config } from "../../../lib/config";
import type { Meta } from "../../../lib/context";
import { OAuthBrowserMismatchError } from "../../../lib/errors";
import { sha256 } from "../sessions";
import { FLOW_TTL_MS } from "./flow-state";

/** The one cookie the gateway hands to actions (services/gateway/api.service.ts FORWARDED_COOKIES). */
export const FLOW_COOKIE = "valence_oauth_flow";
/** Where the sign-in flow's cookie is sent (its start and callback); integrations pass their own. */
export const SIGN_IN_COOKIE_PATH = "/api/auth/oauth";

function cookie(cfg: Config, value: string, maxAgeS: number, path: string): string {
	// Secure outside local development: a browser keeps no Secure cookie from a plain-http origin.
	const secure = cfg.NODE_ENV === "production" || appUrl(cfg).startsWith("https:");
	return `${FLOW_COOKIE}=${value}; Path=${path}; Max-Age=${maxAgeS}; HttpOnly; SameSite=Lax${secure ? "; Secure" : ""}`;
}

/** Sets the flow cookie on this answer; returns the hash the flow row keeps. */
export function bindToBrowser(meta: Meta, cfg: Config, path = SIGN_IN_COOKIE_PATH): string {
	const nonce = randomBytes(32).toString("base64url");
	meta.$responseHeaders = { ...meta.$responseHeaders, "Set-Cookie": cookie(cfg, nonce, Math.floor(FLOW_TTL_MS / 1000), path) };
	return sha256(nonce);
}

/** The flow cookie's value in a Cookie header, or null. */
export function flowCookieOf(header: string | undefined): string | null {
	for (const part of header?.split(";") ?? []) {
		const eq = part.indexOf("=");
		if (eq > 0 && part.slice(0, eq).trim() === FLOW_COOKIE) return part.slice(eq + 1).trim() || null;
	}
	return null;
}

/** 400 unless this request carries the cookie of the flow whose hash is `expectedHash`; the cookie is cleared either way. */
export function requireSameBrowser(meta: Meta, cfg: Config, expectedHash: string, path = SIGN_IN_COOKIE_PATH): void {
	meta.$responseHeaders = { ...meta.$responseHeaders, "Set-Cookie": cookie(cfg, "", 0, path) };
	const nonce = flowCookieOf(meta.headers?.cookie);
	const given = Buffer.from(nonce ? sha256(nonce) : "");
	const expected = Buffer.from(expectedHash);
	if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new OAuthBrowserMismatchError();
}
