/**
 * Enforces each action's `auth` and `roles` on the node that runs it, so a call that did not come
 * through the gateway (another service, the REPL, a channel handler) is held to the same rule.
 * Registered outside the Cacher middleware: a cached answer is never served to a caller who may not see it.
 * The rule is turned into a check once, when the action is registered (lib/access.ts `accessCheck`);
 * an action anybody may call (public or optional, no roles) is not wrapped at all.
 */
import type { Context, Middleware } from "moleculer";
import { accessCheck, type AuthUser } from "../lib/access";

export const AccessMiddleware: Middleware = {
	name: "Access",
	localAction(handler, action) {
		// Moleculer's own internal services ($node) are for operators on the cluster, never published.
		if (action.service?.name?.startsWith("$")) return handler;
		const check = accessCheck(action);
		if (!check) return handler;
		return (ctx: Context<unknown, { user?: AuthUser | null }>) => {
			try {
				check(ctx.meta.user);
			} catch (err) {
				// Callers get a rejected promise, as from any other failing action, never a synchronous throw.
				return Promise.reject(err);
			}
			return (handler as (c: Context) => Promise<unknown>)(ctx);
		};
	},
};
