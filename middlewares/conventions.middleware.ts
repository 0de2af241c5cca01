/**
 * Project conventions applied to every action:
 * - Retries only for idempotent actions. An action says `idempotent: true|false`; otherwise its HTTP
 *   method decides (GET/HEAD/PUT/DELETE retry, POST/PATCH and actions without `rest` do not). A retried
 *   non-idempotent write could be applied twice, so it must opt in knowingly.
 * - Each local action runs inside the request context, so log lines carry the request id. A call made
 *   while handling the same request (the gateway's `api.rest` calling the routed action, one action
 *   calling another on this node) is already inside it and is not wrapped again.
 */
import type { ActionSchema, Context, Middleware } from "moleculer";
import { requestContext } from "../lib/request-context";

const IDEMPOTENT_METHODS = new Set(["GET", "HEAD", "PUT", "DELETE", "OPTIONS"]);

function restMethods(rest: unknown): string[] {
	const list = Array.isArray(rest) ? rest : rest == null ? [] : [rest];
	return list.map(r =>
		typeof r === "string"
			? (r.includes(" ") ? r.split(/\s+/)[0] : "*").toUpperCase()
			: String((r as { method?: string }).method ?? "*").toUpperCase(),
	);
}

export function isIdempotent(action: Pick<ActionSchema, "idempotent" | "rest">): boolean {
	if (typeof action.idempotent === "boolean") return action.idempotent;
	const methods = restMethods(action.rest);
	return methods.length > 0 && methods.every(m => IDEMPOTENT_METHODS.has(m));
}

function applyRetryPolicy(action: ActionSchema) {
	// Runs before the Retry middleware reads the policy (middleware hooks run in registration order).
	if (action.retryPolicy?.enabled === undefined) action.retryPolicy = { ...action.retryPolicy, enabled: isIdempotent(action) };
}

export const ConventionsMiddleware: Middleware = {
	name: "Conventions",
	localAction(handler, action) {
		applyRetryPolicy(action);
		const next = handler as (c: Context) => Promise<unknown>;
		return (ctx: Context) => {
			const current = requestContext.getStore();
			if (current && current.requestID === ctx.requestID) return next(ctx);
			return requestContext.run({ requestID: ctx.requestID }, () => next(ctx));
		};
	},
	remoteAction(handler, action) {
		applyRetryPolicy(action);
		return handler;
	},
};
