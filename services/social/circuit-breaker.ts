/**
 * A tiny consecutive-failure circuit breaker for calls to a third party (README: "Social domain", media
 * storage). Moleculer's own breaker guards actions between our services; this one guards an SDK client
 * inside a service.
 *
 * closed → (threshold consecutive failures) → open: every call fails fast with CircuitOpenError for
 * `cooldownMs` → half-open: one trial call goes through (the others still fail fast); its success closes
 * the breaker, its failure opens it for another cool-down. Errors that `isFailure` rejects (e.g. a
 * "not found" answer: the third party is up) count as successes.
 */
export class CircuitOpenError extends Error {
	override name = "CircuitOpenError";
	readonly code = "ECIRCUITOPEN";
	constructor(what: string, retryInMs: number) {
		super(`${what} is failing: circuit open, calls fail fast for ${Math.max(0, Math.ceil(retryInMs))} ms`);
	}
}

export interface CircuitBreakerOptions {
	/** what is guarded, for messages */
	name: string;
	threshold: number;
	cooldownMs: number;
	isFailure?: (err: unknown) => boolean;
	now?: () => number;
	onStateChange?: (state: CircuitState) => void;
}

export type CircuitState = "closed" | "open" | "half-open";

export class CircuitBreaker {
	private failures = 0;
	private openedAt = 0;
	private _state: CircuitState = "closed";
	private trialInFlight = false;
	private readonly now: () => number;

	constructor(private readonly opts: CircuitBreakerOptions) {
		this.now = opts.now ?? Date.now;
	}

	get state(): CircuitState {
		if (this._state === "open" && this.now() - this.openedAt >= this.opts.cooldownMs) this.setState("half-open");
		return this._state;
	}

	async run<T>(fn: () => Promise<T>): Promise<T> {
		const state = this.state;
		if (state === "open" || (state === "half-open" && this.trialInFlight))
			throw new CircuitOpenError(this.opts.name, this.opts.cooldownMs - (this.now() - this.openedAt));
		const trial = state === "half-open";
		if (trial) this.trialInFlight = true;
		try {
			const result = await fn();
			this.succeeded();
			return result;
		} catch (err) {
			if (this.opts.isFailure && !this.opts.isFailure(err)) this.succeeded();
			else this.failed(trial);
			throw err;
		} finally {
			if (trial) this.trialInFlight = false;
		}
	}

	private succeeded() {
		this.failures = 0;
		if (this._state !== "closed") this.setState("closed");
	}

	private failed(trial: boolean) {
		this.failures++;
		if (trial || this.failures >= this.opts.threshold) {
			this.openedAt = this.now();
			this.setState("open");
		}
	}

	private setState(state: CircuitState) {
		if (this._state === state) return;
		this._state = state;
		this.opts.onStateChange?.(state);
	}
}
