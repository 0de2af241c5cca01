import { Errors } from "moleculer";
import { toProblem } from "../../lib/problem";

describe("problem details", () => {
	it("keeps a client error's status, code and message", () => {
		const p = toProblem(new Errors.MoleculerClientError("Email taken.", 409, "EMAIL_TAKEN"));
		expect(p).toMatchObject({ status: 409, code: "EMAIL_TAKEN", detail: "Email taken.", title: "Conflict" });
		expect(p.type).toBe("urn:problem:valence:email-taken");
	});

	it("carries a client error's retryAfterSec for the Retry-After header", () => {
		const p = toProblem(new Errors.MoleculerClientError("Slow down.", 429, "TOO_MANY_ATTEMPTS", { retryAfterSec: 2.2 }));
		expect(p).toMatchObject({ status: 429, code: "TOO_MANY_ATTEMPTS", retryAfterSec: 3 });
		expect(toProblem(new Errors.MoleculerClientError("No.", 409, "CONFLICT")).retryAfterSec).toBeUndefined();
	});

	it("lists validation errors by field", () => {
		const err = new Errors.ValidationError("Parameters validation error!", "VALIDATION_ERROR", [
			{ type: "required", field: "email", message: "The 'email' field is required.", actual: undefined },
		] as never);
		const p = toProblem(err);
		expect(p.status).toBe(422);
		expect(p.errors).toEqual([{ field: "email", message: "The 'email' field is required." }]);
	});

	it("hides internals of unavailable services and timeouts", () => {
		const notFound = toProblem(new Errors.ServiceNotFoundError({ action: "posts.secret", nodeID: "node-7" }));
		expect(notFound).toMatchObject({ status: 503, code: "SERVICE_UNAVAILABLE" });
		expect(JSON.stringify(notFound)).not.toMatch(/posts\.secret|node-7/);
		const timeout = toProblem(new Errors.RequestTimeoutError({ action: "posts.feed", nodeID: "node-7" }));
		expect(timeout).toMatchObject({ status: 504, code: "TIMEOUT" });
		expect(JSON.stringify(timeout)).not.toMatch(/posts\.feed|node-7/);
	});

	it("turns unexpected errors into a generic 500", () => {
		const p = toProblem(new TypeError("Cannot read properties of undefined (reading 'x') at /srv/app.js:1"));
		expect(p).toMatchObject({ status: 500, code: "INTERNAL_ERROR", detail: "An unexpected error occurred." });
	});

	it("maps body parser failures", () => {
		expect(toProblem(Object.assign(new Error("x"), { type: "entity.parse.failed", status: 400 })).code).toBe("MALFORMED_JSON");
		expect(toProblem(Object.assign(new Error("x"), { type: "entity.too.large", status: 413 })).status).toBe(413);
	});

	it("maps decoder errors and the depth limit to 400s", () => {
		expect(toProblem(Object.assign(new Error("incorrect header check"), { code: "Z_DATA_ERROR", errno: -3 }))).toMatchObject({
			status: 400,
			code: "MALFORMED_BODY",
		});
		expect(toProblem(Object.assign(new Error("x"), { type: "entity.decode.failed", status: 400 }))).toMatchObject({
			status: 400,
			code: "MALFORMED_BODY",
		});
		expect(toProblem(Object.assign(new Error("x"), { type: "entity.too.deep", status: 400 }))).toMatchObject({
			status: 400,
			code: "BODY_TOO_DEEP",
		});
		expect(toProblem(Object.assign(new Error("x"), { type: "querystring.parse.rangeError", status: 400 }))).toMatchObject({
			status: 400,
			code: "BODY_TOO_DEEP",
		});
	});

	it("maps the multipart parser's errors: not multipart 415, broken multipart 400", () => {
		expect(toProblem(new Error("Unsupported Content-Type."))).toMatchObject({ status: 415, code: "UNSUPPORTED_MEDIA_TYPE" });
		expect(toProblem(new Error("Unexpected end of multipart data"))).toMatchObject({ status: 400, code: "MALFORMED_MULTIPART" });
		expect(toProblem(new Error("Part terminated early due to unexpected end of multipart data"))).toMatchObject({
			status: 400,
			code: "MALFORMED_MULTIPART",
		});
		// Other plain errors stay 500.
		expect(toProblem(new Error("Unexpected end of something else")).status).toBe(500);
	});
});
