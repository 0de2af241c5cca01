/**
 * The platform's failures, one class per failure (like Moleculer's own `src/errors.js`), so callers
 * check them with `instanceof` and every service raises the same one the same way. The gateway turns
 * each into problem details with its stable `code` (`lib/problem.ts`).
 */
import { Errors } from "moleculer";

/** 401: no valid credentials (or a revoked session). */
export class UnauthorizedError extends Errors.MoleculerClientError {
	constructor(message = "Authentication is required.", code = "UNAUTHORIZED") {
		super(message, 401, code);
		this.name = "UnauthorizedError";
	}
}

/** 403: the caller is known but may not do this (a role too low, someone else's row). */
export class ForbiddenError extends Errors.MoleculerClientError {
	constructor(message = "You are not allowed to do this.", code = "FORBIDDEN") {
		super(message, 403, code);
		this.name = "ForbiddenError";
	}
}

/** 409: the request clashes with the current state (a duplicate, a stale version, a refused transition). */
export class ConflictError extends Errors.MoleculerClientError {
	constructor(message = "A record with the same unique value already exists.", code = "CONFLICT", data?: unknown) {
		super(message, 409, code, data);
		this.name = "ConflictError";
	}
}

/** 403: the action needs a tenant and the caller's token is not scoped to one. */
export class TenantRequiredError extends Errors.MoleculerClientError {
	constructor() {
		super("This action needs a tenant: switch to one of your organisations first.", 403, "TENANT_REQUIRED");
		this.name = "TenantRequiredError";
	}
}

/** The node's services are still starting: nothing is routed yet (503 with Retry-After). */
export class ServiceStartingError extends Errors.MoleculerRetryableError {
	constructor() {
		super("This node is still starting.", 503, "SERVICE_STARTING");
		this.name = "ServiceStartingError";
	}
}

/** A row that does not exist, or that the caller may not see (the same answer for both: ids cannot be probed). */
export class NotFoundError extends Errors.MoleculerClientError {
	constructor(what = "Not found.", id?: string) {
		super(what, 404, "NOT_FOUND", id === undefined ? undefined : { id });
		this.name = "NotFoundError";
	}
}

/** Input that is well-formed but not acceptable, with one entry per field (422 with `errors[]`). */
export class InvalidInputError extends Errors.MoleculerClientError {
	constructor(message: string, errors: { field: string; message: string }[]) {
		super(message, 422, "VALIDATION_ERROR", errors);
		this.name = "InvalidInputError";
	}
}

/** A notification template that does not compile or uses a variable it may not (422, each error names its line). */
export class InvalidTemplateError extends InvalidInputError {
	constructor(errors: { field: string; message: string }[]) {
		super("The template is not valid.", errors);
		this.name = "InvalidTemplateError";
	}
}

/**
 * A feature switched off by configuration (Web Push without VAPID keys in production, e-mail without
 * SMTP_URL in production). The gateway answers 503 SERVICE_UNAVAILABLE (lib/problem.ts knows the name).
 */
export class FeatureDisabledError extends Errors.MoleculerError {
	constructor(message: string, code: string) {
		super(message, 503, code);
		this.name = "ServiceUnavailableError";
	}
}

/** A third party (SMTP server, push service) failed or is too slow: try again later (channels retry with backoff). */
export class ProviderUnavailableError extends Errors.MoleculerRetryableError {
	constructor(provider: string, reason: string) {
		super(`${provider} is not available: ${reason}`, 503, "PROVIDER_UNAVAILABLE", { provider });
		this.name = "ProviderUnavailableError";
	}
}

/** A third party refused the message for good (a rejected recipient, a malformed push): retrying cannot help. */
export class ProviderRejectedError extends Errors.MoleculerError {
	constructor(provider: string, reason: string) {
		super(`${provider} refused the message: ${reason}`, 502, "PROVIDER_REJECTED", { provider });
		this.name = "ProviderRejectedError";
	}
}

/** A list cursor that this server did not make (or that was altered): 400. */
export class InvalidCursorError extends Errors.MoleculerClientError {
	constructor() {
		super("The cursor is not valid.", 400, "INVALID_CURSOR");
		this.name = "InvalidCursorError";
	}
}

/** 400: a POST that moves money came without an `Idempotency-Key` header (or with a malformed one). */
export class IdempotencyKeyRequiredError extends Errors.MoleculerClientError {
	constructor(message = "This request needs an Idempotency-Key header (1–255 visible characters).") {
		super(message, 400, "IDEMPOTENCY_KEY_REQUIRED");
		this.name = "IdempotencyKeyRequiredError";
	}
}

/** 422: an `Idempotency-Key` already used for a different request (another body or route). */
export class IdempotencyKeyReusedError extends InvalidInputError {
	constructor() {
		super("This Idempotency-Key was already used for a different request.", [{ field: "Idempotency-Key", message: "was already used for a different request" }]);
		this.name = "IdempotencyKeyReusedError";
	}
}

/** 409: the first request with this `Idempotency-Key` is still running; retry once it has answered. */
export class IdempotencyKeyInProgressError extends Errors.MoleculerClientError {
	constructor() {
		super("A request with this Idempotency-Key is still being processed.", 409, "IDEMPOTENCY_KEY_IN_PROGRESS");
		this.name = "IdempotencyKeyInProgressError";
	}
}

/** The stored client error of a first request, answered again to a retry with the same Idempotency-Key. */
export class ReplayedClientError extends Errors.MoleculerClientError {
	constructor(message: string, status: number, code: string, data?: unknown) {
		super(message, status, code, data);
		this.name = "ReplayedClientError";
	}
}

/** 409: a state change off the allowed edges (capturing a failed payment, paying a draft invoice…). */
export class InvalidTransitionError extends Errors.MoleculerClientError {
	constructor(what: string, from: string, to: string) {
		super(`The ${what} is ${from}: it cannot become ${to}.`, 409, "INVALID_TRANSITION", { from, to });
		this.name = "InvalidTransitionError";
	}
}

/** 402: the payment provider declined the payment (the payment is stored as `failed`, with the reason). */
export class PaymentDeclinedError extends Errors.MoleculerClientError {
	constructor(declineCode: string, paymentId: string) {
		super(`The payment was declined (${declineCode}).`, 402, "PAYMENT_DECLINED", { declineCode, paymentId });
		this.name = "PaymentDeclinedError";
	}
}

/** 409: a refund larger than what is captured and not yet refunded. */
export class RefundExceedsCapturedError extends Errors.MoleculerClientError {
	constructor(refundable: number) {
		super(`At most ${refundable} (minor units) can still be refunded.`, 409, "REFUND_EXCEEDS_CAPTURED", { refundable });
		this.name = "RefundExceedsCapturedError";
	}
}

/** 400: a provider webhook whose signature (or timestamp) does not verify: nothing is changed. */
export class WebhookSignatureError extends Errors.MoleculerClientError {
	constructor(reason: string) {
		super(`The webhook signature is not valid: ${reason}.`, 400, "INVALID_SIGNATURE");
		this.name = "WebhookSignatureError";
	}
}

/** 409: a payout (or another debit) larger than the available balance. */
export class InsufficientBalanceError extends Errors.MoleculerClientError {
	constructor(available: number, currency: string) {
		super(`The available balance is ${available} (minor units of ${currency}).`, 409, "INSUFFICIENT_BALANCE", { available, currency });
		this.name = "InsufficientBalanceError";
	}
}

/**
 * 503: a payment provider timed out, answered 5xx/429 through every retry, or its circuit is open.
 * Named like FeatureDisabledError so the gateway answers 503 SERVICE_UNAVAILABLE (lib/problem.ts knows the name);
 * the payment stays pending and the client's retry with the same Idempotency-Key resumes it.
 */
export class PaymentProviderUnavailableError extends Errors.MoleculerRetryableError {
	constructor(provider: string, reason: string) {
		super(`${provider} is not available: ${reason}`, 503, "PROVIDER_UNAVAILABLE", { provider });
		this.name = "ServiceUnavailableError";
	}
}
