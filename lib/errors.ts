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

/** 409: a state change the workflow does not allow from the current state (a lead's status, a payout's). */
export class InvalidTransitionError extends ConflictError {
	constructor(message: string, from: string, to: string) {
		super(message, "INVALID_TRANSITION", { from, to });
		this.name = "InvalidTransitionError";
	}
}

/** 409: a compare-and-set write lost: the row changed between the read and the write. */
export class ConcurrentUpdateError extends ConflictError {
	constructor(message = "It changed meanwhile: read it again and retry.") {
		super(message, "CONCURRENT_UPDATE");
		this.name = "ConcurrentUpdateError";
	}
}

/** 409: a commission payout that is approved or paid can no longer change or be deleted. */
export class PayoutImmutableError extends ConflictError {
	constructor(status: string) {
		super(`The payout is ${status}: it can no longer change.`, "PAYOUT_IMMUTABLE", { status });
		this.name = "PayoutImmutableError";
	}
}

/** 409: a tenant's public slug (web-form capture) that another tenant holds. */
export class SlugTakenError extends ConflictError {
	constructor() {
		super("This slug is taken.", "SLUG_TAKEN");
		this.name = "SlugTakenError";
	}
}

/** 401: a web-form capture with an unknown tenant slug, an unknown key or a revoked one (one answer for all: nothing to probe). */
export class InvalidIngestKeyError extends Errors.MoleculerClientError {
	constructor() {
		super("Unknown tenant or invalid ingest key.", 401, "INVALID_INGEST_KEY");
		this.name = "InvalidIngestKeyError";
	}
}

/** 422: user ids that must belong to the tenant (assignees, plan members) and do not. */
export class NotAMemberError extends Errors.MoleculerClientError {
	constructor(field: string, outsiders: string[]) {
		super(`Not a member of this tenant: ${outsiders.join(", ")}.`, 422, "NOT_A_MEMBER", [
			{ field, message: `must be members of this tenant (not members: ${outsiders.join(", ")})` },
		]);
		this.name = "NotAMemberError";
	}
}

/** 413: a CSV import with more rows than one import may carry. */
export class TooManyImportRowsError extends Errors.MoleculerClientError {
	constructor(maxRows: number) {
		super(`At most ${maxRows} rows per import.`, 413, "TOO_MANY_ROWS");
		this.name = "TooManyImportRowsError";
	}
}

/** 422: CSV text that does not parse (an unclosed quote, a row longer than allowed). */
export class InvalidCsvError extends Errors.MoleculerClientError {
	constructor(reason: string) {
		super(`The CSV could not be parsed: ${reason}`, 422, "INVALID_CSV");
		this.name = "InvalidCsvError";
	}
}
