/**
 * Retry-safe writes. When a node dies after doing a write but before answering, the caller's Retry
 * middleware sends the same call again from a copy of the same context: a new context id, but the
 * same parent (on the gateway, the context of the one HTTP request). That parent id, generated on our
 * side and never chosen by a client, names "this attempt", so a retried action can recognise the work
 * its lost first attempt already did.
 */
import { createHash, randomUUID } from "node:crypto";
import type { Context } from "moleculer";

export function attemptKey(ctx: Pick<Context, "parentID">): string | null {
	return ctx.parentID ?? null;
}

/** An event id that is the same for every attempt of one call (so consumers record it once), else random. */
export function attemptEventId(ctx: Pick<Context, "parentID">, eventName: string): string {
	const key = attemptKey(ctx);
	if (!key) return randomUUID();
	const h = createHash("sha256").update(`${key}\u0000${eventName}`).digest("hex");
	return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
