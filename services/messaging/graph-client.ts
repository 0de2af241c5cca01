/**
 * The one way to Meta's Graph API (README, "Messaging domain" → "Graph API"). Base URL (with the API
 * version) from GRAPH_API_URL; each request has GRAPH_TIMEOUT_MS; 5xx answers, network errors, timeouts
 * and Meta's rate-limit error codes are retried up to GRAPH_MAX_ATTEMPTS with a doubling backoff; a
 * request that is not safe to repeat (a send: Meta's Send API takes no idempotency key) is retried only
 * when Meta cannot have taken it (an error answer, a refused connection), and a lost answer surfaces as
 * SendOutcomeUnknownError instead of a second send; a consecutive-failure circuit breaker (the social domain's, services/social/circuit-breaker.ts) fails
 * fast while Graph is down. Failures surface as ProviderUnavailableError (try later: channels retry) or
 * ProviderRejectedError (Meta refused for good: a bad token, a recipient outside the window …).
 */
import type { Config } from "../../lib/config";
import { ProviderRejectedError, ProviderUnavailableError, SendOutcomeUnknownError } from "../../lib/errors";
import { CircuitBreaker, CircuitOpenError } from "../social/circuit-breaker";
import { withoutTrailingSlashes } from "../../lib/text";

/** Meta's throttling codes: app (4), user (17), page (32), API-call-specific (613), WhatsApp (80007, 130429). */
export const RATE_LIMIT_CODES = new Set([4, 17, 32, 613, 80007, 130429]);

export interface GraphErrorBody {
	message?: string;
	type?: string;
	code?: number;
	error_subcode?: number;
	fbtrace_id?: string;
}

/** One failed Graph request, before retries decide. */
class GraphAttemptError extends Error {
	constructor(
		message: string,
		readonly retryable: boolean,
		readonly meta: GraphErrorBody | null = null,
		/** the request may have reached Meta and been acted on (no answer came back) */
		readonly unanswered = false,
	) {
		super(message);
	}
}

export interface GraphRequest {
	method: "GET" | "POST";
	/** below the base URL: `/<page id>/messages`, `/<psid>` */
	path: string;
	accessToken: string;
	query?: Record<string, string>;
	body?: unknown;
	/** false for a request Meta may act on twice (a send): an attempt without an answer is not repeated */
	repeatable?: boolean;
}

export class GraphClient {
	private readonly breaker: CircuitBreaker;

	constructor(
		private readonly cfg: Pick<
			Config,
			| "GRAPH_API_URL"
			| "GRAPH_TIMEOUT_MS"
			| "GRAPH_MAX_ATTEMPTS"
			| "GRAPH_RETRY_DELAY_MS"
			| "GRAPH_BREAKER_THRESHOLD"
			| "GRAPH_BREAKER_COOLDOWN_MS"
		>,
		onStateChange?: (state: string) => void,
	) {
		this.breaker = new CircuitBreaker({
			name: "Meta Graph API",
			threshold: cfg.GRAPH_BREAKER_THRESHOLD,
			cooldownMs: cfg.GRAPH_BREAKER_COOLDOWN_MS,
			// Meta answering "no" means Meta is up.
			isFailure: err => !(err instanceof ProviderRejectedError),
			onStateChange,
		});
	}

	get breakerState(): string {
		return this.breaker.state;
	}

	async request<T>(req: GraphRequest): Promise<T> {
		try {
			return await this.breaker.run(() => this.withRetries<T>(req));
		} catch (err) {
			if (err instanceof CircuitOpenError) throw new ProviderUnavailableError("Meta Graph API", err.message);
			throw err;
		}
	}

	private async withRetries<T>(req: GraphRequest): Promise<T> {
		let last: GraphAttemptError | undefined;
		for (let attempt = 1; attempt <= this.cfg.GRAPH_MAX_ATTEMPTS; attempt++) {
			if (attempt > 1) await new Promise(r => setTimeout(r, this.cfg.GRAPH_RETRY_DELAY_MS * 2 ** (attempt - 2)));
			try {
				return await this.once<T>(req);
			} catch (err) {
				if (!(err instanceof GraphAttemptError)) throw err;
				if (!err.retryable) throw new ProviderRejectedError("Meta Graph API", err.message);
				if (err.unanswered && req.repeatable === false) throw new SendOutcomeUnknownError("Meta Graph API", err.message);
				last = err;
			}
		}
		throw new ProviderUnavailableError("Meta Graph API", last?.message ?? "no answer");
	}

	private async once<T>(req: GraphRequest): Promise<T> {
		const url = new URL(withoutTrailingSlashes(this.cfg.GRAPH_API_URL) + req.path);
		for (const [k, v] of Object.entries(req.query ?? {})) url.searchParams.set(k, v);
		let res: Response;
		try {
			res = await fetch(url, {
				method: req.method,
				// The token goes in the header, never the URL: URLs end up in logs.
				headers: { authorization: `Bearer ${req.accessToken}`, ...(req.body !== undefined && { "content-type": "application/json" }) },
				body: req.body === undefined ? undefined : JSON.stringify(req.body),
				signal: AbortSignal.timeout(this.cfg.GRAPH_TIMEOUT_MS),
			});
		} catch (err) {
			const e = err as Error & { cause?: { code?: string } };
			// A refused connection never reached Meta; anything else may have.
			const neverSent = e.cause?.code === "ECONNREFUSED";
			const message = e.name === "TimeoutError" ? `no answer within ${this.cfg.GRAPH_TIMEOUT_MS} ms` : `request failed: ${e.message}`;
			throw new GraphAttemptError(message, true, null, !neverSent);
		}
		let text: string;
		try {
			text = await res.text();
		} catch (err) {
			throw new GraphAttemptError(`the answer broke off: ${(err as Error).message}`, true, null, res.ok);
		}
		let body: { error?: GraphErrorBody } | null = null;
		try {
			body = text ? JSON.parse(text) : null;
		} catch {
			/* not JSON: judged by status alone */
		}
		if (res.ok && !body?.error) return body as T;
		const meta = body?.error ?? null;
		const code = typeof meta?.code === "number" ? meta.code : null;
		const retryable = res.status >= 500 || res.status === 429 || (code !== null && RATE_LIMIT_CODES.has(code));
		throw new GraphAttemptError(
			`HTTP ${res.status}${code !== null ? ` code ${code}` : ""}: ${(meta?.message ?? text).slice(0, 300)}`,
			retryable,
			meta,
		);
	}
}
