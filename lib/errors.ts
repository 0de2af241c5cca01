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

/** 401: a webhook whose signature is missing or does not match its raw body; nothing of it is stored. */
export class WebhookSignatureError extends Errors.MoleculerClientError {
	constructor() {
		super("The webhook signature is missing or wrong.", 401, "WEBHOOK_SIGNATURE_INVALID");
		this.name = "WebhookSignatureError";
	}
}
