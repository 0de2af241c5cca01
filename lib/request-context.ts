/**
 * The request id of the action being handled, available to every log line without passing it around.
 * Moleculer has no async context of its own, so a middleware runs each local action inside this store.
 */
import { AsyncLocalStorage } from "node:async_hooks";

export const requestContext = new AsyncLocalStorage<{ requestID?: string | null }>();

export function currentRequestID(): string | undefined {
	return requestContext.getStore()?.requestID ?? undefined;
}
