/**
 * Who may call an action. One rule set, used by the gateway (to answer early) and by the
 * service-side middleware (so that calls between services are checked too).
 */

export type AuthMode = "required" | "optional" | "public";
export type Role = "owner" | "admin" | "member";
/**
 * What an action's limit counts (README, "Identity: authentication and tenants" → "Rate limits of sensitive actions"):
 * - `"ip"` (the default): the client address, whatever token the request carries, so a Bearer header
 *   can never move a caller to a fresh bucket;
 * - `"ip+account"`: the address, and besides the signed-in account (each with its own count of `max`),
 *   so neither many accounts from one address nor one account from many addresses gets around it;
 * - `"user"`: the signed-in user only, for quotas of actions that require sign-in (uploads). On an action
 *   anyone may call it counts as `"ip"`.
 */
export type RateLimitBy = "ip" | "ip+account" | "user";

export interface RateLimitRule {
	/** requests allowed per window */
	max: number;
	/** window length in seconds */
	windowSec: number;
	by?: RateLimitBy;
	/**
	 * Counters shared by every action that names the same bucket: one operation under several routes
	 * (login and its alias) is one budget. Default: the action's own name. Actions sharing a bucket must
	 * declare the same `max` and `windowSec`.
	 */
	bucket?: string;
}

/** The small identity carried in ctx.meta.user: never a profile blob. */
export interface AuthUser {
	id: string;
	tenantId: string | null;
	roles: string[];
	/** the session (refresh-token family) that issued the access token, when it says so */
	sessionId?: string;
	/** set only for an API client's token (README, "API clients"): the scopes it was granted; `id` is the client id */
	scopes?: string[];
}

/**
 * Every scope an API client may be granted, with what it allows (README, "API clients" → the scopes
 * table, checked against this list and the actions' `scopes` by test/unit/api-scopes.test.ts).
 * An action may declare only scopes listed here; client registration refuses any other (422).
 */
export const API_SCOPES: Readonly<Record<string, string>> = {
	"leads:read": "read CRM leads and their activities",
	"leads:write": "create and update CRM leads, add activities",
	"tasks:read": "read engagement tasks",
	"tasks:write": "create and update engagement tasks",
	"invoices:read": "read commerce invoices and their PDFs",
	"analytics:write": "ingest analytics events",
};

const RANK: Record<string, number> = { member: 1, admin: 2, owner: 3 };

/** True when one of the user's roles ranks at least as high as one of the required roles. */
export function hasRole(userRoles: readonly string[], required: readonly string[]): boolean {
	if (required.length === 0) return true;
	const best = Math.max(0, ...userRoles.map(r => RANK[r] ?? 0));
	return required.some(r => best >= (RANK[r] ?? Number.POSITIVE_INFINITY));
}

export interface AccessRule {
	auth?: AuthMode;
	roles?: string[];
	/** what an API client's token needs (any one listed is enough); an action without reaches no client */
	scopes?: string[];
	visibility?: string;
}

/** Published actions are authenticated unless they say otherwise; internal ones trust the caller. */
export function authModeOf(action: AccessRule): AuthMode {
	if (action.auth) return action.auth;
	return action.visibility == null || action.visibility === "published" ? "required" : "public";
}

import { ForbiddenError, UnauthorizedError } from "./errors";

/** @deprecated import from lib/errors */
export { ForbiddenError, UnauthorizedError };

/** Throws 401/403 when the user may not call the action. */
export function assertAccess(action: AccessRule, user: AuthUser | null | undefined): void {
	const published = action.visibility == null || action.visibility === "published";
	if (published && user?.scopes) {
		if (!action.scopes?.some(s => user.scopes!.includes(s)))
			throw new ForbiddenError("This API client's token has no scope for this action.", "INSUFFICIENT_SCOPE");
		return;
	}
	const mode = authModeOf(action);
	if (mode === "public" || mode === "optional") {
		if (!action.roles?.length) return;
	}
	if (!user) throw new UnauthorizedError();
	if (action.roles?.length && !hasRole(user.roles ?? [], action.roles)) throw new ForbiddenError();
}

export type AccessCheck = (user: AuthUser | null | undefined) => void;

/**
 * `assertAccess` for one action, decided once (README, "The gateway" → "What moved, and why it is as
 * safe"): `null` when it lets everybody through (public or optional, no roles), else a check that
 * throws the same 401/403 `assertAccess` throws for the same user. The rule is read when the check is
 * made: an action whose `auth` or `roles` change is a new action (a new registration) with a new check.
 */
export function accessCheck(action: AccessRule): AccessCheck | null {
	const userCheck = userAccessCheck(action);
	// Internal actions trust their caller: a scoped action may call them on a client's behalf.
	if (action.visibility != null && action.visibility !== "published") return userCheck;
	// An API client's token is held to the action's `scopes` instead of `auth`/`roles`; none declared: 403.
	const scopes = action.scopes?.length ? [...action.scopes] : [];
	return user => {
		if (user?.scopes) {
			if (!scopes.some(s => user.scopes!.includes(s)))
				throw new ForbiddenError("This API client's token has no scope for this action.", "INSUFFICIENT_SCOPE");
			return;
		}
		userCheck?.(user);
	};
}

/** The rule for a user's token (`auth` and `roles`): `null` when it lets everybody through. */
function userAccessCheck(action: AccessRule): AccessCheck | null {
	const mode = authModeOf(action);
	const roles = action.roles?.length ? [...action.roles] : null;
	if (!roles) {
		if (mode !== "required") return null;
		return user => {
			if (!user) throw new UnauthorizedError();
		};
	}
	// hasRole: the user's best rank reaches the rank of at least one required role, i.e. the lowest of them
	const needed = Math.min(...roles.map(r => RANK[r] ?? Number.POSITIVE_INFINITY));
	return user => {
		if (!user) throw new UnauthorizedError();
		let best = 0;
		for (const r of user.roles ?? []) best = Math.max(best, RANK[r] ?? 0);
		if (best < needed) throw new ForbiddenError();
	};
}

const checks = new WeakMap<object, AccessCheck | null>();
/** `accessCheck(action)`, made once per action object (the gateway's endpoints, the middleware's definitions). */
export function accessCheckOf(action: AccessRule): AccessCheck | null {
	let check = checks.get(action);
	if (check === undefined) checks.set(action, (check = accessCheck(action)));
	return check;
}

/** Which counters one call of a rate-limited action consumes: the bucket and one key per counted subject. */
export function rateLimitKeys(
	action: AccessRule & { name: string; rateLimit: RateLimitRule },
	user: AuthUser | null | undefined,
	clientAddress: string,
): { bucket: string; keys: string[] } {
	const rule = action.rateLimit;
	const bucket = rule.bucket ?? action.name;
	const ip = `ip:${clientAddress}`;
	switch (rule.by ?? "ip") {
		case "user":
			return { bucket, keys: [authModeOf(action) === "required" && user ? `u:${user.id}` : ip] };
		case "ip+account":
			return { bucket, keys: user ? [ip, `u:${user.id}`] : [ip] };
		default:
			return { bucket, keys: [ip] };
	}
}
