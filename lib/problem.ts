/**
 * Every HTTP error as RFC 9457 problem details with a stable `code`. Only what the caller may see
 * leaves: no stack, node ID or action name. Errors raised for the caller's fault keep their message;
 * anything else becomes a generic 500 (logged in full on the server).
 */
import { STATUS_CODES } from "node:http";
import { NotFoundError } from "./errors";

export interface Problem {
	type: string;
	title: string;
	status: number;
	detail: string;
	code: string;
	instance?: string;
	requestId?: string;
	errors?: { field: string; message: string }[];
	/**
	 * Seconds the client should wait (from an error's `data.retryAfterSec`): the gateway sends it as the
	 * `Retry-After` header, not in the body. Every 429 gets one (README, "The gateway").
	 */
	retryAfterSec?: number;
}

interface AnyError {
	name?: string;
	message?: string;
	code?: unknown;
	type?: unknown;
	status?: unknown;
	data?: unknown;
}

/** Errors whose status or text we replace, because Moleculer's would mislead or leak internals. */
const SYSTEM: Record<string, { status: number; code: string; detail: string }> = {
	ServiceNotFoundError: { status: 503, code: "SERVICE_UNAVAILABLE", detail: "The service is not available right now. Try again shortly." },
	ServiceNotAvailableError: { status: 503, code: "SERVICE_UNAVAILABLE", detail: "The service is not available right now. Try again shortly." },
	ServiceUnavailableError: { status: 503, code: "SERVICE_UNAVAILABLE", detail: "The service is not available right now. Try again shortly." },
	RequestRejectedError: { status: 503, code: "SERVICE_UNAVAILABLE", detail: "The service is not available right now. Try again shortly." },
	BrokerDisconnectedError: { status: 503, code: "SERVICE_UNAVAILABLE", detail: "The service is not available right now. Try again shortly." },
	ServiceStartingError: { status: 503, code: "SERVICE_STARTING", detail: "This node is still starting. Try again in a moment." },
	QueueIsFullError: { status: 503, code: "OVERLOADED", detail: "The service is overloaded. Try again shortly." },
	RequestTimeoutError: { status: 504, code: "TIMEOUT", detail: "The service did not answer in time." },
	RateLimitExceeded: { status: 429, code: "RATE_LIMITED", detail: "Too many requests. Try again later." },
	PayloadTooLarge: { status: 413, code: "PAYLOAD_TOO_LARGE", detail: "The request body is too large." },
	NotFoundError: { status: 404, code: "NOT_FOUND", detail: "There is nothing at this address." },
	MaxCallLevelError: { status: 500, code: "INTERNAL_ERROR", detail: "An unexpected error occurred." },
};

/** body-parser's own errors (raised before any action runs). */
const BODY: Record<string, { status: number; code: string; detail: string }> = {
	"entity.parse.failed": { status: 400, code: "MALFORMED_JSON", detail: "The request body is not valid JSON." },
	"entity.too.large": { status: 413, code: "PAYLOAD_TOO_LARGE", detail: "The request body is too large." },
	"encoding.unsupported": { status: 415, code: "UNSUPPORTED_ENCODING", detail: "The request body encoding is not supported." },
	"charset.unsupported": { status: 415, code: "UNSUPPORTED_ENCODING", detail: "The request body charset is not supported." },
	"request.aborted": { status: 400, code: "REQUEST_ABORTED", detail: "The request was aborted." },
	"request.size.invalid": { status: 400, code: "MALFORMED_BODY", detail: "The request body does not match its Content-Length." },
	"parameters.too.many": { status: 413, code: "PAYLOAD_TOO_LARGE", detail: "The request body has too many parameters." },
	// lib/body.ts
	"entity.decode.failed": { status: 400, code: "MALFORMED_BODY", detail: "The request body could not be decoded as its Content-Encoding says." },
	"entity.too.deep": { status: 400, code: "BODY_TOO_DEEP", detail: "The request body nests too deeply." },
	"multipart.expected": { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", detail: "Send the file as multipart/form-data." },
	"querystring.parse.rangeError": { status: 400, code: "BODY_TOO_DEEP", detail: "The request body nests too deeply." },
};

const NOT_MULTIPART = { status: 415, code: "UNSUPPORTED_MEDIA_TYPE", detail: "Send the file as multipart/form-data." };
const BROKEN_MULTIPART = { status: 400, code: "MALFORMED_MULTIPART", detail: "The multipart body is malformed or ends early." };
/** The multipart parser's (@fastify/busboy) errors, which carry nothing but their message. */
const MULTIPART: Record<string, { status: number; code: string; detail: string }> = {
	"Unsupported Content-Type.": NOT_MULTIPART,
	"Missing Content-Type-header.": NOT_MULTIPART,
	"Multipart: Boundary not found": BROKEN_MULTIPART,
	"Boundary required": BROKEN_MULTIPART,
	"The needle cannot have a length bigger than 256.": BROKEN_MULTIPART,
	"Unexpected end of multipart data": BROKEN_MULTIPART,
	"Part terminated early due to unexpected end of multipart data": BROKEN_MULTIPART,
	"Preamble terminated early due to unexpected end of multipart data": BROKEN_MULTIPART,
};

const problemType = (code: string) => `urn:problem:valence:${code.toLowerCase().replace(/_/g, "-")}`;

export function problem(status: number, code: string, detail: string, extra: Partial<Problem> = {}): Problem {
	return { type: problemType(code), title: STATUS_CODES[status] ?? "Error", status, detail, code, ...extra };
}

/** Turns any thrown value into the problem the client sees. */
export function toProblem(err: unknown): Problem {
	const e = (err ?? {}) as AnyError;
	const body = typeof e.type === "string" ? BODY[e.type] : undefined;
	if (body) return problem(body.status, body.code, body.detail);

	// lib/errors.ts's NotFoundError shares its name with moleculer-web's (an unknown route): it keeps its own detail.
	const system = e.name && !(err instanceof NotFoundError) ? SYSTEM[e.name] : undefined;
	if (system) return problem(system.status, system.code, system.detail);

	// Plain errors of the body decoders: zlib's (code Z_…) and the multipart parser's.
	if (typeof e.code === "string" && e.code.startsWith("Z_")) return problem(400, "MALFORMED_BODY", BODY["entity.decode.failed"].detail);
	const multipart =
		typeof e.code !== "number" && typeof e.message === "string" && Object.hasOwn(MULTIPART, e.message) ? MULTIPART[e.message] : undefined;
	if (multipart) return problem(multipart.status, multipart.code, multipart.detail);

	const status = typeof e.code === "number" ? e.code : typeof e.status === "number" ? e.status : 500;
	if (status === 422 || e.name === "ValidationError") {
		const items = Array.isArray(e.data) ? (e.data as { field?: string; message?: string }[]) : [];
		return problem(422, "VALIDATION_ERROR", e.message && e.name !== "ValidationError" ? e.message : "The request is not valid.", {
			errors: items.map(i => ({ field: String(i.field ?? ""), message: String(i.message ?? "is not valid") })),
		});
	}
	if (status >= 400 && status < 500) {
		const code =
			typeof e.type === "string" && /^[A-Z][A-Z0-9_]*$/.test(e.type)
				? e.type
				: (STATUS_CODES[status] ?? "ERROR").toUpperCase().replace(/\W+/g, "_");
		const retryAfter = (e.data as { retryAfterSec?: unknown } | undefined)?.retryAfterSec;
		return problem(status, code, e.message || STATUS_CODES[status] || "Error", {
			...(typeof retryAfter === "number" && retryAfter > 0 && { retryAfterSec: Math.ceil(retryAfter) }),
		});
	}
	return problem(500, "INTERNAL_ERROR", "An unexpected error occurred.");
}
