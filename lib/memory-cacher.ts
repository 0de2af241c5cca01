/**
 * Moleculer's memory cacher with a cheaper hit. Moleculer's `get` looks a key up twice, builds two debug
 * lines whether or not debug is on, and updates its three metrics by name (a registry look-up, two label
 * hashes and a timer closure each). Here: one look-up, and the same three metrics (`moleculer.cacher.get.total`,
 * `.found.total`, `.get.time`) updated through the pre-hashed path of middlewares/metrics.middleware.ts.
 * Keys, TTL, expiry and the copy handed to every caller are Moleculer's (test/unit/memory-cacher.test.ts).
 *
 * One caller is handed no copy: a call made with the `answerOnlySerialized` option (the gateway's routed
 * calls, whose answer moleculer-web only turns into JSON) gets the cached answer itself. The copy exists so
 * that a caller changing its answer cannot change the cache; that caller changes nothing, and the stored
 * answer is frozen besides (a write to it throws, it does not change the cache). Only plain JSON data is
 * frozen and shared; an answer holding a Buffer, a Date or a class instance is copied for every caller.
 * The option is the call's own: calls made while handling it do not inherit it (Moleculer passes `meta` on
 * to them, not the options).
 *
 * Such a shared answer cannot change, so neither can its JSON: `answerJson` (the gateway's serializer)
 * writes it once, when first asked, and keeps it as long as the cache keeps the answer.
 */
import { Cachers, METRIC, type Context } from "moleculer";
import { addTo, metricNamed, observe, type Metric } from "../middlewares/metrics.middleware";

interface Entry {
	data: unknown;
	expire: number | null;
}

/** the cacher's metrics have no labels: one label set, hashed "" */
const NO_LABELS = {};

/**
 * The stored answers that are frozen JSON data, which a serializing caller may be handed as they are, and
 * their JSON once `answerJson` was asked for it (null until then). Weak: an answer the cache dropped goes.
 */
const shared = new WeakMap<object, string | null>();

/** `JSON.stringify(data)`; for a shared cached answer, the same string computed once. */
export function answerJson(data: unknown): string {
	if (typeof data === "object" && data !== null) {
		const json = shared.get(data);
		if (json) return json;
		if (json === null) {
			const written = JSON.stringify(data);
			shared.set(data, written);
			return written;
		}
	}
	return JSON.stringify(data);
}

/** Freezes `value` if it is plain JSON data (objects, arrays, primitives; not deeper than 64) and says whether it was. */
function freezeJson(value: unknown, depth = 0): boolean {
	// a function (a `toJSON` among them) could make the JSON differ from one serialization to the next
	if (typeof value === "function") return false;
	if (value === null || typeof value !== "object") return true;
	if (depth > 64) return false; // also where a circular answer (copied by cloneDeep) ends
	if (Array.isArray(value)) {
		for (const v of value) if (!freezeJson(v, depth + 1)) return false;
	} else {
		if (Object.getPrototypeOf(value) !== Object.prototype) return false;
		for (const v of Object.values(value)) if (!freezeJson(v, depth + 1)) return false;
	}
	Object.freeze(value);
	return true;
}

export class LeanMemoryCacher extends Cachers.Memory {
	private gets: { total: Metric; found: Metric; time: Metric } | null | undefined;

	// Moleculer's MemoryCacher keeps its Map untyped
	private get entries(): Map<string, Entry> {
		return (this as unknown as { cache: Map<string, Entry> }).cache;
	}

	/** Moleculer types `clone` as always set; it is undefined for a cacher made with `clone: false` */
	private get copier(): ((data: unknown) => unknown) | undefined {
		return this.clone as ((data: unknown) => unknown) | undefined;
	}

	override set(key: string, data: unknown, ttl?: number): Promise<void> {
		const stored = super.set(key, data, ttl);
		// without a copy on every hit (clone: false), callers share the stored answer: freezing it would break them
		const item = this.copier ? this.entries.get(key) : undefined;
		if (item && item.data !== null && typeof item.data === "object" && freezeJson(item.data)) shared.set(item.data, null);
		return stored;
	}

	override get(key: string): Promise<Record<string, unknown> | null> {
		return this.read(key, true);
	}

	/** Moleculer's hit-or-call step; a caller that only serializes the answer reads it without a copy */
	override middlewareWithoutLock(ctx: Context, cacheKey: string, handler: (ctx: Context) => Promise<unknown>, opts: { ttl?: number }) {
		if (ctx.options?.answerOnlySerialized !== true) return super.middlewareWithoutLock(ctx, cacheKey, handler, opts);
		return this.read(cacheKey, false).then(content => {
			if (content !== this.opts.missingResponse) {
				ctx.cachedResult = true;
				return content;
			}
			return handler(ctx).then(result => {
				this.set(cacheKey, result, opts.ttl);
				return result;
			});
		});
	}

	private read(key: string, copy: boolean): Promise<Record<string, unknown> | null> {
		// found when first needed: the metrics middleware re-registers the time histogram after the cacher starts
		const m = this.gets === undefined ? (this.gets = this.getMetrics()) : this.gets;
		const started = m ? performance.now() : 0;
		const cache = this.entries;
		const item = cache.get(key);
		let data: unknown = this.opts.missingResponse;
		if (item !== undefined) {
			if (item.expire && item.expire < Date.now()) {
				// Moleculer's expired path: counted, removed, missing (rare: the TTL timer removes most)
				this.metrics.increment(METRIC.MOLECULER_CACHER_EXPIRED_TOTAL);
				cache.delete(key);
			} else {
				const share = !copy && typeof item.data === "object" && item.data !== null && shared.has(item.data);
				const copier = this.copier;
				data = copier && !share ? copier(item.data) : item.data;
			}
		}
		if (m) {
			const now = Date.now();
			addTo(m.total, "", NO_LABELS, 1, now);
			if (item !== undefined) addTo(m.found, "", NO_LABELS, 1, now);
			observe(m.time, "", NO_LABELS, performance.now() - started, now);
		}
		return Promise.resolve(data as Record<string, unknown> | null);
	}

	private getMetrics() {
		if (!this.broker.isMetricsEnabled()) return null;
		const metric = (name: string) => metricNamed(this.broker, name);
		return {
			total: metric(METRIC.MOLECULER_CACHER_GET_TOTAL),
			found: metric(METRIC.MOLECULER_CACHER_FOUND_TOTAL),
			time: metric(METRIC.MOLECULER_CACHER_GET_TIME),
		};
	}
}
