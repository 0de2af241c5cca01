/** Retry delays of jobs: exponential with jitter, the same rule for both engines. */
import type { Backoff } from "./types";

/** Delay before the retry that follows `attemptsMade` failed attempts (1 → the first retry). */
export function retryDelayMs(backoff: Backoff, attemptsMade: number, random = Math.random): number {
	const full = Math.min(backoff.delayMs * 2 ** Math.max(0, attemptsMade - 1), backoff.maxDelayMs);
	return Math.round(full * (1 - backoff.jitter * random()));
}
