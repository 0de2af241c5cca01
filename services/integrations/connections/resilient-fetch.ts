/**
 * Outbound calls to a connected provider: a timeout per attempt, retries on a network error, 5xx or 429
 * (waiting what Retry-After says, else a doubling backoff; a longer Retry-After than `maxDelayMs` is not
 * waited for), and a circuit breaker per provider (services/social/circuit-breaker.ts) so a provider that
 * is down fails fast instead of holding every caller for its timeouts. Given to oauth4webapi as its fetch.
 */
import { CircuitBreaker } from "../../social/circuit-breaker";

export interface ResilienceOptions {
	name: string;
	timeoutMs: number;
	attempts?: number;
	baseDelayMs?: number;
	maxDelayMs?: number;
	breakerThreshold?: number;
	breakerCooldownMs?: number;
}

/** A provider's answer that counts as its failure (the breaker counts it; the caller sees an error). */
export class ProviderUnavailableError extends Error {
	constructor(
		readonly provider: string,
		readonly status: number | null,
	) {
		super(`${provider} ${status ? `answered ${status}` : "did not answer"}`);
		this.name = "ProviderUnavailableError";
	}
}

/** Retry-After in ms (delta seconds or an HTTP date), or null. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
	if (!header) return null;
	if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
	const at = Date.parse(header);
	return Number.isNaN(at) ? null : Math.max(0, at - now);
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export function resilientFetch(opts: ResilienceOptions): (url: string, init?: RequestInit) => Promise<Response> {
	const attempts = opts.attempts ?? 3;
	const base = opts.baseDelayMs ?? 200;
	const maxDelay = opts.maxDelayMs ?? 10_000;
	const breaker = new CircuitBreaker({ name: opts.name, threshold: opts.breakerThreshold ?? 5, cooldownMs: opts.breakerCooldownMs ?? 30_000 });
	return (url, init) =>
		breaker.run(async () => {
			for (let attempt = 1; ; attempt++) {
				let res: Response | null = null;
				try {
					res = await fetch(url, { ...init, signal: AbortSignal.timeout(opts.timeoutMs) });
				} catch {
					if (attempt >= attempts) throw new ProviderUnavailableError(opts.name, null);
				}
				if (res) {
					if (res.status < 500 && res.status !== 429) return res;
					if (attempt >= attempts) throw new ProviderUnavailableError(opts.name, res.status);
				}
				const wait = retryAfterMs(res?.headers.get("retry-after") ?? null) ?? base * 2 ** (attempt - 1);
				if (wait > maxDelay) throw new ProviderUnavailableError(opts.name, res?.status ?? null);
				await res?.body?.cancel().catch(() => undefined);
				await sleep(wait);
			}
		});
}
