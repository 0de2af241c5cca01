/**
 * The call context every handler is typed with: `Ctx<Params, Locals>`. Meta is what the gateway and
 * the broker put into every call; `currentUser` and `currentTenantUser` are the one way a handler asks
 * who is calling (README: "Conventions every service follows").
 */
import type { Context } from "moleculer";
import type { AuthUser } from "./access";
import { TenantRequiredError, UnauthorizedError } from "./errors";

export interface Meta {
	/** the caller, set by the gateway from a verified token (null: anonymous on an optional route) */
	user?: AuthUser | null;
	/** the HTTP status the gateway answers with (201, 202, 204 …) */
	$statusCode?: number;
	/** the Location header of a 201 */
	$location?: string;
	$responseType?: string;
	$responseHeaders?: Record<string, string>;
	/** request headers the gateway hands through for an action that declares it needs them */
	headers?: Record<string, string>;
	ifNoneMatch?: string;
	client?: { ip?: string; userAgent?: string };
}

/** An action's context, typed by its validated params (what `entity:` loaded: `entityOf(ctx)`). */
export type Ctx<TParams = Record<string, never>> = Context<TParams, Meta>;

export type TenantUser = AuthUser & { tenantId: string };

/** Anything that carries the caller: an action context, a channel's context, `asSystem()`'s call options. */
export interface CallerScope {
	meta: object;
}

/** The signed-in caller, or 401. */
export function currentUser(ctx: CallerScope): AuthUser {
	const user = (ctx.meta as Meta).user;
	if (!user) throw new UnauthorizedError();
	return user;
}

/** The signed-in caller acting inside a tenant, or 401 / 403 TENANT_REQUIRED. */
export function currentTenantUser(ctx: CallerScope): TenantUser {
	const user = currentUser(ctx);
	if (!user.tenantId) throw new TenantRequiredError();
	return user as TenantUser;
}

/** The identity a channel handler or a scheduled job acts with inside one tenant (they run without a user). */
export function systemUser(tenantId: string): TenantUser {
	return { id: "system", tenantId, roles: ["owner"] };
}

/** Call options that run a call as the system identity of a tenant. */
export function asSystem(tenantId: string): { meta: Meta } {
	return { meta: { user: systemUser(tenantId) } };
}
