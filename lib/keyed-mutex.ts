/**
 * Serialises work per key inside this process (one tenant's member changes, one rule's counters).
 * Not a cluster lock: work that must be serialised across nodes takes a store condition
 * (compare-and-set, a unique index) or a Redis lock instead.
 */
export class KeyedMutex {
	private readonly tails = new Map<string, Promise<unknown>>();

	async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
		const previous = this.tails.get(key) ?? Promise.resolve();
		const next = previous.then(fn, fn);
		const tail = next.catch(() => undefined);
		this.tails.set(key, tail);
		try {
			return await next;
		} finally {
			if (this.tails.get(key) === tail) this.tails.delete(key);
		}
	}
}
