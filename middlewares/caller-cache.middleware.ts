/**
 * Reads a cached answer of an action that runs on another node at the caller, when every node shares
 * the cache (the Redis cacher): a hit answers without the NATS round trip and without the other node's
 * work (README, "What moved, and why it is as safe" → "Cached reads at the caller"). Misses go to the owning node, which
 * looks again, calls the handler and writes the entry as before; only owning nodes write.
 *
 * - The node that runs the action offers its entries to callers (`callerCache: true` on the action's
 *   definition, which INFO carries) only when its cache options are data a caller can repeat: no
 *   `enabled` or `keygen` function (functions do not travel), no `lock.staleTime` (a stale hit has to
 *   reach the node that refreshes it). The key is the owner's: the same keygen over the same params and
 *   meta, so a caller finds only an entry the owner wrote for the same call.
 * - Before a hit the caller applies the action's access rule, the one the owner applies outside its
 *   Cacher (lib/access.ts `accessCheck`). A caller the rule refuses, `meta.$cache === false` and a
 *   disconnected cacher go to the owner, which answers (or refuses) as always.
 */
import { Cachers, type Context, type Middleware, type ServiceBroker } from "moleculer";
import { accessCheck, type AuthUser } from "../lib/access";

type CacheOptions = { enabled?: unknown; keygen?: unknown; keys?: string[]; ttl?: number; lock?: unknown };
/** What is used of Moleculer's cacher; its declared type has `getCacheKey(action: string, …)`, the code takes the action definition. */
interface SharedCacher {
	connected: boolean | null;
	opts: { missingResponse?: unknown; keygen?: unknown };
	get(key: string): Promise<unknown>;
	getCacheKey(action: unknown, opts: CacheOptions, ctx: Context): string;
}
type Handler = (ctx: Context) => Promise<unknown>;

/** The action's cache options if a caller can compute the owner's key from them, else null. */
function repeatableCacheOptions(cache: unknown): CacheOptions | null {
	if (cache === true) return {};
	if (!cache || typeof cache !== "object") return null;
	const opts = cache as CacheOptions;
	if (opts.enabled === false || typeof opts.enabled === "function" || typeof opts.keygen === "function") return null;
	if (opts.lock && typeof opts.lock === "object" && (opts.lock as { staleTime?: number }).staleTime) return null;
	return opts;
}

export function CallerCacheMiddleware(enabled: boolean): Middleware {
	let cacher: SharedCacher | null = null;
	return {
		name: "CallerCache",
		created(broker: ServiceBroker) {
			// A memory cacher is each node's own: a caller would never find the owner's entries.
			// cast: the declared getCacheKey takes an action name, the implementation (and the Cacher middleware) the definition
			if (enabled && broker.cacher instanceof Cachers.Redis && !broker.cacher.opts.keygen) cacher = broker.cacher as unknown as SharedCacher;
		},
		localAction(handler, action) {
			if (cacher && repeatableCacheOptions(action.cache)) action.callerCache = true;
			return handler;
		},
		remoteAction(handler, action) {
			const opts = repeatableCacheOptions(action.cache);
			if (!cacher || action.callerCache !== true || !opts) return handler;
			const shared = cacher;
			const check = accessCheck(action);
			const remote = handler as Handler;
			return function callerCache(ctx: Context<unknown, { user?: AuthUser | null; $cache?: boolean }>) {
				if (ctx.meta.$cache === false || shared.connected === false) return remote(ctx);
				if (check) {
					try {
						check(ctx.meta.user);
					} catch {
						return remote(ctx);
					}
				}
				return shared.get(shared.getCacheKey(action, opts, ctx)).then((content: unknown) => {
					if (content === shared.opts.missingResponse) return remote(ctx);
					(ctx as { cachedResult?: boolean }).cachedResult = true;
					return content;
				});
			};
		},
	};
}
