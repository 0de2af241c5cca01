/**
 * The platform's failures, one class per failure (like Moleculer's own `src/errors.js`), so callers
 * check them with `instanceof` and every service raises the same one the same way. The gateway turns
 * each into problem details with its stable `code` (`lib/problem.ts`).
 */
import { Errors } from "moleculer";

/** 404: nothing there, or not the caller's (a foreign row answers exactly like a missing one). */
export class NotFoundError extends Errors.MoleculerClientError {
	constructor(id?: unknown, message = "Not found.") {
		super(message, 404, "NOT_FOUND", id === undefined ? undefined : { id });
		this.name = "NotFoundError";
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

/** 422 VALIDATION_ERROR for a rule the params schema cannot express (each field and why, like the validator's). */
export class UnprocessableError extends Errors.MoleculerClientError {
	constructor(message: string, errors: { field: string; message: string }[] = []) {
		super(message, 422, "VALIDATION_ERROR", errors);
		this.name = "UnprocessableError";
	}
}

/** The node's services are still starting: nothing is routed yet (503 with Retry-After). */
export class ServiceStartingError extends Errors.MoleculerRetryableError {
	constructor() {
		super("This node is still starting.", 503, "SERVICE_STARTING");
		this.name = "ServiceStartingError";
	}
}
