/**
 * Refuses to start an action or event whose `params` accept a string without a `max` (nested object
 * props, array items and multi rules included): the validator checks `max` before any pattern, so a
 * bound on every string is what keeps one request from holding the process (README: Security).
 */
import type { Middleware } from "moleculer";
import { unboundedStrings } from "../lib/validation";

export class UnboundedParamError extends Error {}

function check(kind: "action" | "event", name: string, params: unknown) {
	if (!params || typeof params !== "object") return;
	const missing = unboundedStrings(params as Record<string, unknown>);
	if (missing.length)
		throw new UnboundedParamError(
			`${kind} '${name}': every string param needs a 'max' (checked before any pattern); missing on ${missing.join(", ")}`,
		);
}

export const ParamsMiddleware: Middleware = {
	name: "Params",
	localAction(handler, action) {
		// Moleculer's own internal services ($node) are not ours to change.
		if (!action.service?.name?.startsWith("$")) check("action", String(action.name), action.params);
		return handler;
	},
	localEvent(handler, event) {
		if (!event.service?.name?.startsWith("$")) check("event", String(event.name), (event as { params?: unknown }).params);
		return handler;
	},
};
