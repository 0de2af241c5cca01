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

/** 422: an edge (task dependency, skill prerequisite) that would close a cycle; the detail and `errors[]` name its path. */
export class DependencyCycleError extends Errors.MoleculerClientError {
	constructor(
		readonly cycle: string[],
		field = "taskId",
	) {
		super(`This dependency would close a cycle: ${cycle.join(" -> ")}.`, 422, "DEPENDENCY_CYCLE", [{ field, message: `closes the cycle ${cycle.join(" -> ")}` }]);
		this.name = "DependencyCycleError";
	}
}

/** 409: a task cannot be done while tasks that block it are open; `data.blockers` names them. */
export class OpenBlockersError extends Errors.MoleculerClientError {
	constructor(blockers: string[]) {
		super(`Open tasks block this one: ${blockers.join(", ")}.`, 409, "OPEN_BLOCKERS", { blockers });
		this.name = "OpenBlockersError";
	}
}

/** 409: a write based on a version that is no longer the current one; `data.currentVersion` says which is. */
export class StaleVersionError extends Errors.MoleculerClientError {
	constructor(currentVersion: number) {
		super(`The record changed meanwhile: its current version is ${currentVersion}. Read it again and retry.`, 409, "STALE_VERSION", { currentVersion });
		this.name = "StaleVersionError";
	}
}

/** 422: user ids that are not members of the caller's tenant (an assignee, a transfer's recipient). */
export class NotAMemberError extends Errors.MoleculerClientError {
	constructor(field: string, userIds: string[]) {
		super(`Not a member of this tenant: ${userIds.join(", ")}.`, 422, "NOT_A_MEMBER", [
			{ field, message: `must be members of this tenant (not members: ${userIds.join(", ")})` },
		]);
		this.name = "NotAMemberError";
	}
}

/** 409: a spend or transfer larger than the wallet's balance; nothing was written. */
export class InsufficientFundsError extends Errors.MoleculerClientError {
	constructor(currency: string, balance: number, amount: number) {
		super(`Not enough ${currency}: the balance is ${balance}, ${amount} are needed.`, 409, "INSUFFICIENT_FUNDS", { currency, balance, amount });
		this.name = "InsufficientFundsError";
	}
}

/** 422: a currency the tenant does not have. */
export class UnknownCurrencyError extends Errors.MoleculerClientError {
	constructor(currency: string) {
		super(`Unknown currency: ${currency}.`, 422, "UNKNOWN_CURRENCY", [{ field: "currency", message: `is not a currency of this tenant (${currency})` }]);
		this.name = "UnknownCurrencyError";
	}
}

/** 409: a skill whose prerequisites the caller has not unlocked yet; `data.missing` names them. */
export class SkillLockedError extends Errors.MoleculerClientError {
	constructor(missing: string[]) {
		super(`Unlock these skills first: ${missing.join(", ")}.`, 409, "SKILL_LOCKED", { missing });
		this.name = "SkillLockedError";
	}
}

/** 409: a challenge asked to do what its state does not allow (accept twice, complete an expired one). */
export class ChallengeStateError extends Errors.MoleculerClientError {
	constructor(status: string, wanted: string) {
		super(`The challenge is ${status}: it cannot be ${wanted}.`, 409, "CHALLENGE_STATE", { status });
		this.name = "ChallengeStateError";
	}
}

/** 409: a challenge completed before its goal is met; the detail says how far the caller is. */
export class ChallengeGoalNotMetError extends Errors.MoleculerClientError {
	constructor(done: number, target: number) {
		super(`The goal is not met yet: ${done} of ${target} tasks done.`, 409, "CHALLENGE_GOAL_NOT_MET", { done, target });
		this.name = "ChallengeGoalNotMetError";
	}
}
