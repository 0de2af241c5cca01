/**
 * One HTTP client for the provider adapters: a timeout per attempt, retries (with backoff, honouring
 * Retry-After up to 2 s) ONLY for calls that carry the provider's idempotency key or only read, and a
 * consecutive-failure circuit breaker. Timeouts, network errors, 5xx and 429 count as failures and
 * end as 503 PROVIDER_UNAVAILABLE; any other answer (a 402 decline, a 400) is the adapter's to read.
 */
import { PaymentProviderUnavailableError } from "../../../lib/errors";
import { CircuitBreaker, CircuitOpenError } from "../../social/circuit-breaker";
import { withoutTrailingSlashes } from "../../../lib/text";

export interface HttpOptions {
	name: string;
	baseUrl: string;
	timeoutMs: number;
	retries: number;
	breakerThreshold: number;
	breakerCooldownMs: number;
}

export interface HttpAnswer<T = any> {
	status: number;
	body: T;
}

class RetryableAnswer extends Error {
	constructor(
		readonly status: number,
		readonly retryAfterMs: number,
	) {
		super(`HTTP ${status}`);
	}
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export class ProviderHttp {
	private readonly breaker: CircuitBreaker;
	constructor(private readonly opts: HttpOptions) {
		this.breaker = new CircuitBreaker({ name: opts.name, threshold: opts.breakerThreshold, cooldownMs: opts.breakerCooldownMs });
	}

	/** `retryable`: the call is a read or carries the provider's idempotency key (a repeat cannot pay twice). */
	async request<T = any>(
		method: string,
		path: string,
		init: { headers?: Record<string, string>; body?: string; retryable: boolean },
	): Promise<HttpAnswer<T>> {
		const attempts = init.retryable ? this.opts.retries + 1 : 1;
		let last: unknown;
		for (let attempt = 0; attempt < attempts; attempt++) {
			try {
				return await this.breaker.run(() => this.once<T>(method, path, init));
			} catch (err) {
				last = err;
				if (err instanceof CircuitOpenError) break;
				if (attempt + 1 < attempts)
					await sleep(err instanceof RetryableAnswer && err.retryAfterMs ? Math.min(err.retryAfterMs, 2000) : 100 * 2 ** attempt);
			}
		}
		const reason =
			last instanceof CircuitOpenError
				? "circuit open"
				: last instanceof RetryableAnswer
					? `HTTP ${last.status}`
					: last instanceof Error && last.name === "TimeoutError"
						? "timed out"
						: "unreachable";
		throw new PaymentProviderUnavailableError(this.opts.name, reason);
	}

	private async once<T>(method: string, path: string, init: { headers?: Record<string, string>; body?: string }): Promise<HttpAnswer<T>> {
		const res = await fetch(withoutTrailingSlashes(this.opts.baseUrl) + path, {
			method,
			headers: init.headers,
			body: init.body,
			signal: AbortSignal.timeout(this.opts.timeoutMs),
		});
		const text = await res.text();
		if (res.status >= 500 || res.status === 429) {
			const retryAfter = Number(res.headers.get("retry-after"));
			throw new RetryableAnswer(res.status, Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter * 1000 : 0);
		}
		let body: unknown = text;
		try {
			body = text ? JSON.parse(text) : null;
		} catch {
			/* not JSON: the adapter sees the text */
		}
		return { status: res.status, body: body as T };
	}
}
