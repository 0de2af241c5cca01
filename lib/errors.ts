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

/** 409, retryable: a compare-and-set lost to concurrent changes too many times (the same request may succeed again). */
export class ConcurrentChangeError extends Errors.MoleculerRetryableError {
	constructor(message = "Too many concurrent changes; try again.") {
		super(message, 409, "CONFLICT");
		this.name = "ConcurrentChangeError";
	}
}

/** 413: an uploaded file past its size limit (the upload is cut off while it streams in). */
export class FileTooLargeError extends Errors.MoleculerClientError {
	constructor(maxBytes: number) {
		super(`The file is larger than ${maxBytes} bytes.`, 413, "PAYLOAD_TOO_LARGE");
		this.name = "FileTooLargeError";
	}
}

/** 415: an uploaded file whose content is not one of the accepted types (decided by its bytes, never its name). */
export class UnsupportedMediaTypeError extends Errors.MoleculerClientError {
	constructor(detail = "Only jpeg, png, webp, gif images and mp4, webm videos are accepted.") {
		super(detail, 415, "UNSUPPORTED_MEDIA_TYPE");
		this.name = "UnsupportedMediaTypeError";
	}
}

/** 422: an upload without a file (no multipart body, or an empty file). */
export class FileRequiredError extends Errors.MoleculerClientError {
	constructor(message: string) {
		super(message, 422, "FILE_REQUIRED");
		this.name = "FileRequiredError";
	}
}

/** 400: the client's multipart upload ended before the file was complete. */
export class MalformedMultipartError extends Errors.MoleculerClientError {
	constructor() {
		super("The upload ended before the file was complete.", 400, "MALFORMED_MULTIPART");
		this.name = "MalformedMultipartError";
	}
}

/** 409: media already attached to another post. */
export class MediaInUseError extends ConflictError {
	constructor(mediaId?: string) {
		super("This media is attached to another post.", "MEDIA_IN_USE", mediaId === undefined ? undefined : { mediaId });
		this.name = "MediaInUseError";
	}
}

/**
 * 503: the media store (S3) failed or was too slow. Named like moleculer-web's ServiceUnavailableError,
 * so the gateway answers the same problem (SERVICE_UNAVAILABLE) for it.
 */
export class MediaStorageUnavailableError extends Errors.MoleculerError {
	constructor() {
		super("Service unavailable", 503, "STORAGE_UNAVAILABLE");
		this.name = "ServiceUnavailableError";
	}
}

/** A data query a service built that the store may not run (an operator it does not share, a string `$regex`): 400. */
export class InvalidQueryError extends Errors.MoleculerClientError {
	constructor(detail: string) {
		super(`The query is not allowed: ${detail}.`, 400, "INVALID_QUERY");
		this.name = "InvalidQueryError";
	}
}

/**
 * The password-hashing queue is full (services/identity/passwords.ts). Moleculer's QueueIsFullError
 * is what the gateway already answers as 503 OVERLOADED (lib/problem.ts), with Retry-After.
 */
export class OverloadedError extends Errors.QueueIsFullError {
	constructor() {
		super({ action: "password hashing", nodeID: "local" });
		this.name = "QueueIsFullError";
	}
}

/** 401: the email or password is not correct (an unknown email answers the same: nothing to probe). */
export class InvalidCredentialsError extends UnauthorizedError {
	constructor() {
		super("The email or password is not correct.", "INVALID_CREDENTIALS");
		this.name = "InvalidCredentialsError";
	}
}

/** 429: too many failed password checks of one account from one address; `retryAfterSec` becomes Retry-After. */
export class TooManyAttemptsError extends Errors.MoleculerClientError {
	constructor(retryAfterSec: number) {
		super("Too many failed attempts from this address. Try again later.", 429, "TOO_MANY_ATTEMPTS", { retryAfterSec });
		this.name = "TooManyAttemptsError";
	}
}

/** 409: registering an email that has an account already. */
export class EmailTakenError extends ConflictError {
	constructor() {
		super("An account with this email already exists.", "EMAIL_TAKEN", { field: "email" });
		this.name = "EmailTakenError";
	}
}

/** 403: a password change whose current password is wrong. */
export class InvalidCurrentPasswordError extends ForbiddenError {
	constructor() {
		super("The current password is not correct.", "INVALID_CURRENT_PASSWORD");
		this.name = "InvalidCurrentPasswordError";
	}
}

/** 400: a password-reset token that is unknown, spent or expired. */
export class InvalidResetTokenError extends Errors.MoleculerClientError {
	constructor() {
		super("The reset link is not valid or has expired.", 400, "INVALID_RESET_TOKEN");
		this.name = "InvalidResetTokenError";
	}
}

/** 401: a refresh token that is unknown or expired, or whose session ended (the message says which). */
export class InvalidRefreshTokenError extends UnauthorizedError {
	constructor(message = "The refresh token is not valid.") {
		super(message, "INVALID_REFRESH_TOKEN");
		this.name = "InvalidRefreshTokenError";
	}
}

/** 401: a refresh token presented again after it was spent: it was copied, so its whole session was revoked. */
export class RefreshTokenReusedError extends UnauthorizedError {
	constructor() {
		super("This refresh token was already used; the session has been revoked.", "REFRESH_TOKEN_REUSED");
		this.name = "RefreshTokenReusedError";
	}
}

/**
 * 422: a new password that breaks the rules, one entry per rule. A ValidationError (its name too), like
 * the params validator's, so its problem reads the same.
 */
export class PasswordRulesError extends Errors.ValidationError {
	constructor(errors: { field: string; message: string }[]) {
		super("The password does not meet the rules.", "VALIDATION_ERROR", errors);
	}
}

/** 400: following yourself. */
export class CannotFollowSelfError extends Errors.MoleculerClientError {
	constructor() {
		super("You cannot follow yourself.", 400, "CANNOT_FOLLOW_SELF");
		this.name = "CannotFollowSelfError";
	}
}

/** 409: following others before your own profile exists. */
export class ProfileRequiredError extends ConflictError {
	constructor() {
		super("Create your profile before following others.", "PROFILE_REQUIRED");
		this.name = "ProfileRequiredError";
	}
}

/** A channel message that lacks what its consumer needs (400): retrying cannot help, it is dead-lettered. */
export class MalformedMessageError extends Errors.MoleculerError {
	constructor(message: string, data?: unknown) {
		super(message, 400, "MALFORMED_MESSAGE", data);
		this.name = "MalformedMessageError";
	}
}

/** 409: a tenant slug someone else's tenant has. */
export class SlugTakenError extends ConflictError {
	constructor() {
		super("This slug is already taken.", "SLUG_TAKEN", { field: "slug" });
		this.name = "SlugTakenError";
	}
}

/** 409: adding (or accepting an invitation of) someone who is a member of the tenant already. */
export class AlreadyMemberError extends ConflictError {
	constructor(message = "This user is already a member.") {
		super(message, "ALREADY_MEMBER");
		this.name = "AlreadyMemberError";
	}
}

/** 409: removing or demoting a tenant's last owner. */
export class LastOwnerError extends ConflictError {
	constructor() {
		super("An organisation needs at least one owner.", "LAST_OWNER");
		this.name = "LastOwnerError";
	}
}

/** 404: no account has this email address (internal member adds by email). */
export class UserNotFoundError extends Errors.MoleculerClientError {
	constructor() {
		super("No user has this email address.", 404, "USER_NOT_FOUND");
		this.name = "UserNotFoundError";
	}
}

/** 422: a member add that names both, or neither, of `email` and `userId`. A ValidationError, like the params validator's. */
export class MemberTargetError extends Errors.ValidationError {
	constructor() {
		super("Give either 'email' or 'userId'.", "VALIDATION_ERROR", [{ field: "email", message: "give either email or userId" }]);
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

/** 409: a tenant's public web-form capture slug that another tenant holds. */
export class CaptureSlugTakenError extends ConflictError {
	constructor() {
		super("This slug is taken.", "SLUG_TAKEN");
		this.name = "CaptureSlugTakenError";
	}
}

/** 422 naming `type`: a job of a type no service registered a handler for. */
export class UnknownJobTypeError extends InvalidInputError {
	constructor(type: string) {
		super(`No service handles jobs of type '${type}'.`, [{ field: "type", message: `no service handles jobs of type '${type}'` }]);
		this.name = "UnknownJobTypeError";
	}
}

/** 409: the job is not in a state this operation applies to (cancel a finished job, replay a live one). */
export class JobStateError extends ConflictError {
	constructor(operation: string, status: string) {
		super(`A ${status} job cannot be ${operation}.`, "JOB_STATE", { status });
		this.name = "JobStateError";
	}
}

/** One attempt of a job ran longer than its timeout (the attempt fails; a retry follows if any is left). */
export class JobTimeoutError extends Errors.MoleculerError {
	constructor(timeoutMs: number) {
		super(`The job ran longer than its timeout of ${timeoutMs} ms.`, 504, "JOB_TIMEOUT", { timeoutMs });
		this.name = "JobTimeoutError";
	}
}

/** The job was cancelled while it ran (no retry follows). */
export class JobCancelledError extends Errors.MoleculerError {
	constructor() {
		super("The job was cancelled.", 409, "JOB_CANCELLED");
		this.name = "JobCancelledError";
	}
}

/** Thrown by a job handler for a failure retrying cannot fix: the job goes to the dead letters at once. */
export class PermanentJobError extends Errors.MoleculerError {
	constructor(message: string) {
		super(message, 422, "JOB_PERMANENT_FAILURE");
		this.name = "PermanentJobError";
	}
}

/**
 * 401: a webhook delivery whose signature does not verify (Meta's and integrations' `X-Hub-Signature-256`,
 * the payment providers' `Stripe-Signature`, `Sandbox-Signature`, PayPal's verify API): nothing is stored.
 * `reason` says why (a stale timestamp, no matching signature), without the secret or the expected value.
 */
export class InvalidSignatureError extends Errors.MoleculerClientError {
	constructor(reason?: string) {
		super(reason ? `The request signature is not valid: ${reason}.` : "The request signature is missing or wrong.", 401, "INVALID_SIGNATURE");
		this.name = "InvalidSignatureError";
	}
}

/**
 * 422: a free-form message outside Meta's 24-hour customer-service window (only a template may be sent
 * then). The gateway answers every 422 as VALIDATION_ERROR; the detail and `errors[]` say which rule.
 */
export class OutsideCustomerWindowError extends InvalidInputError {
	constructor(field = "text") {
		super("The customer has not written in the last 24 hours: outside Meta's customer-service window only a template may be sent.", [
			{ field, message: "outside the 24-hour customer-service window: send a template" },
		]);
		this.name = "OutsideCustomerWindowError";
	}
}

/** 422: an edge (task dependency, skill prerequisite) that would close a cycle; the detail and `errors[]` name its path. */
export class DependencyCycleError extends Errors.MoleculerClientError {
	constructor(
		readonly cycle: string[],
		field = "taskId",
	) {
		super(`This dependency would close a cycle: ${cycle.join(" -> ")}.`, 422, "DEPENDENCY_CYCLE", [
			{ field, message: `closes the cycle ${cycle.join(" -> ")}` },
		]);
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
		super(`The record changed meanwhile: its current version is ${currentVersion}. Read it again and retry.`, 409, "STALE_VERSION", {
			currentVersion,
		});
		this.name = "StaleVersionError";
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
		super(`Unknown currency: ${currency}.`, 422, "UNKNOWN_CURRENCY", [
			{ field: "currency", message: `is not a currency of this tenant (${currency})` },
		]);
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
		super("This Idempotency-Key was already used for a different request.", [
			{ field: "Idempotency-Key", message: "was already used for a different request" },
		]);
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

/**
 * An OAuth 2.0 endpoint's refusal (RFC 6749 §5.2, RFC 7009, RFC 7662): `code` is the RFC's `error` value.
 * The endpoints under /oauth answer it as the RFC's JSON `{ error, error_description }`, not problem+json.
 */
export class OAuthProtocolError extends Errors.MoleculerClientError {
	constructor(status: number, code: string, message: string) {
		super(message, status, code);
		this.name = "OAuthProtocolError";
	}
}

/** 400 invalid_request: a parameter missing, repeated or malformed, or two ways of client authentication at once. */
export class OAuthInvalidRequestError extends OAuthProtocolError {
	constructor(message: string) {
		super(400, "invalid_request", message);
	}
}

/** 401 invalid_client: unknown client, wrong secret, revoked client or no client authentication. */
export class OAuthInvalidClientError extends OAuthProtocolError {
	constructor() {
		super(401, "invalid_client", "Client authentication failed.");
	}
}

/** 400 invalid_scope: a requested scope the client was not registered with. */
export class OAuthInvalidScopeError extends OAuthProtocolError {
	constructor(scope: string) {
		super(400, "invalid_scope", `The client may not request the scope '${scope}'.`);
	}
}

/** 400 unsupported_grant_type: only client_credentials is issued at /oauth/token. */
export class OAuthUnsupportedGrantTypeError extends OAuthProtocolError {
	constructor() {
		super(400, "unsupported_grant_type", "Only grant_type=client_credentials is supported.");
	}
}

/** 404: no sign-in provider of this name is configured (OAUTH_PROVIDERS). */
export class UnknownProviderError extends Errors.MoleculerClientError {
	constructor(provider: string) {
		super(`No sign-in provider '${provider}' is configured.`, 404, "UNKNOWN_PROVIDER");
		this.name = "UnknownProviderError";
	}
}

/** 400: a provider callback whose state this server did not issue for this provider, already used, or expired. */
export class OAuthStateError extends Errors.MoleculerClientError {
	constructor() {
		super("This sign-in link is unknown, used or expired. Start again.", 400, "OAUTH_STATE_INVALID");
		this.name = "OAuthStateError";
	}
}

/** 401: the provider refused the code, or its answer (ID token: issuer, audience, expiry, nonce, signature) did not check out. */
export class ProviderSignInFailedError extends Errors.MoleculerClientError {
	constructor() {
		super("Signing in with the provider failed. Start again.", 401, "OAUTH_SIGN_IN_FAILED");
		this.name = "ProviderSignInFailedError";
	}
}

/** 409: the provider does not vouch for an e-mail address, so no account is made or linked by it. */
export class ProviderEmailUnverifiedError extends Errors.MoleculerClientError {
	constructor() {
		super("The provider did not confirm an e-mail address. Sign in another way, then link this provider.", 409, "OAUTH_EMAIL_UNVERIFIED");
		this.name = "ProviderEmailUnverifiedError";
	}
}

/** 409: this provider account is linked to another user already. */
export class ProviderAccountInUseError extends Errors.MoleculerClientError {
	constructor() {
		super("This provider account is linked to another user.", 409, "OAUTH_ACCOUNT_IN_USE");
		this.name = "ProviderAccountInUseError";
	}
}

/** 409: unlinking the last way the user can sign in (no password, no other provider). */
export class LastSignInMethodError extends Errors.MoleculerClientError {
	constructor() {
		super("This is your last way to sign in. Set a password or link another provider first.", 409, "LAST_SIGN_IN_METHOD");
		this.name = "LastSignInMethodError";
	}
}

/** 404: no integration provider of this name is configured (INTEGRATION_PROVIDERS). */
export class UnknownIntegrationError extends Errors.MoleculerClientError {
	constructor(provider: string) {
		super(`No integration '${provider}' is configured.`, 404, "UNKNOWN_INTEGRATION");
		this.name = "UnknownIntegrationError";
	}
}

/** 502: the provider refused the code or the refresh, or did not answer; the connection is not (or no longer) usable. */
export class IntegrationProviderError extends Errors.MoleculerClientError {
	constructor(message = "The provider refused or did not answer. Connect again.") {
		super(message, 502, "INTEGRATION_PROVIDER_FAILED");
		this.name = "IntegrationProviderError";
	}
}

/** 409: the team changed between reading and writing its members (another admin's change): read it again. */
export class TeamChangedError extends Errors.MoleculerClientError {
	constructor() {
		super("The team changed meanwhile. Read it again and retry.", 409, "TEAM_CHANGED");
		this.name = "TeamChangedError";
	}
}

/** 422: a task names a team that is not one of the tenant's. */
export class UnknownTeamError extends Errors.MoleculerClientError {
	constructor(teamId: string) {
		super(`No team '${teamId}' in this tenant.`, 422, "UNKNOWN_TEAM", [{ field: "teamId", message: "must be a team of this tenant" }]);
		this.name = "UnknownTeamError";
	}
}

/** 409: this connection cannot mirror issues as tasks (its provider has no `apiBaseUrl`, or it was connected outside a tenant). */
export class IntegrationSyncUnavailableError extends Errors.MoleculerClientError {
	constructor(reason: string) {
		super(`This connection cannot sync issues: ${reason}.`, 409, "INTEGRATION_SYNC_UNAVAILABLE");
		this.name = "IntegrationSyncUnavailableError";
	}
}

/** 400: an OAuth callback (sign-in or integration connect) arriving in a browser that did not start that flow (its flow cookie missing or another flow's). */
export class OAuthBrowserMismatchError extends Errors.MoleculerClientError {
	constructor() {
		super("This authorization was started in another browser. Start again here.", 400, "OAUTH_BROWSER_MISMATCH");
		this.name = "OAuthBrowserMismatchError";
	}
}

/**
 * A request that Meta may have acted on went unanswered (a send timed out after it went out): sending it
 * again could deliver it twice, so it is not retried here (the outbound channel waits for Meta's echo).
 */
export class SendOutcomeUnknownError extends Errors.MoleculerError {
	constructor(provider: string, reason: string) {
		super(`${provider} may or may not have taken the request: ${reason}`, 503, "SEND_OUTCOME_UNKNOWN", { provider });
		this.name = "SendOutcomeUnknownError";
	}
}

/** Internal (the outbound channel): a send went out without an answer and Meta's echo may still confirm it; the channel tries again later. */
export class SendInProgressError extends Errors.MoleculerRetryableError {
	constructor(messageId: string, waitMs: number) {
		super(
			`Message ${messageId} went out without an answer; waiting up to ${Math.ceil(waitMs / 1000)} s for Meta's echo before sending it again.`,
			409,
			"SEND_IN_PROGRESS",
			{
				messageId,
			},
		);
		this.name = "SendInProgressError";
	}
}

/** 409: an order already has a live payment (pending, requires_action, authorized or captured): it is finished or cancelled first. */
export class OrderPaymentExistsError extends ConflictError {
	constructor(orderId: string, paymentId: string, status: string) {
		super(`Order ${orderId} already has payment ${paymentId} (${status}): complete or cancel it before paying again.`, "ORDER_PAYMENT_EXISTS", {
			orderId,
			paymentId,
			status,
		});
		this.name = "OrderPaymentExistsError";
	}
}

/** 409: a payment provider refused an operation for the state its object is in there (a voided authorisation captured): nothing changed here. */
export class ProviderRefusedError extends ConflictError {
	constructor(provider: string, operation: string, issue: string) {
		super(`${provider} refused the ${operation}: ${issue}.`, "PROVIDER_REFUSED", { provider, operation, issue });
		this.name = "ProviderRefusedError";
	}
}
