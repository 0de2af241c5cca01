import { assertAccess, authModeOf, hasRole, rateLimitKeys } from "../../lib/access";
import { isIdempotent } from "../../middlewares/conventions.middleware";

const user = (roles: string[]) => ({ id: "u1", tenantId: "t1", roles });

describe("access rules", () => {
	it("ranks roles owner > admin > member", () => {
		expect(hasRole(["owner"], ["admin"])).toBe(true);
		expect(hasRole(["admin"], ["admin"])).toBe(true);
		expect(hasRole(["member"], ["admin"])).toBe(false);
		expect(hasRole([], ["member"])).toBe(false);
		expect(hasRole(["member"], [])).toBe(true);
	});

	it("requires authentication for published actions unless they say otherwise", () => {
		expect(authModeOf({})).toBe("required");
		expect(authModeOf({ visibility: "public" })).toBe("public");
		expect(authModeOf({ auth: "optional" })).toBe("optional");
	});

	it("throws 401 without a user and 403 without the role", () => {
		expect(() => assertAccess({}, null)).toThrow(expect.objectContaining({ code: 401, type: "UNAUTHORIZED" }));
		expect(() => assertAccess({ roles: ["admin"] }, user(["member"]))).toThrow(expect.objectContaining({ code: 403, type: "FORBIDDEN" }));
		expect(() => assertAccess({ auth: "public" }, null)).not.toThrow();
		expect(() => assertAccess({ roles: ["admin"] }, user(["owner"]))).not.toThrow();
	});
});

describe("what a rate limit counts", () => {
	const alice = user(["member"]);
	const rule = { max: 5, windowSec: 60 };

	it("counts by client address unless the action says otherwise, token or not", () => {
		expect(rateLimitKeys({ name: "auth.login", auth: "public", rateLimit: rule }, alice, "203.0.113.1")).toEqual({ bucket: "auth.login", keys: ["ip:203.0.113.1"] });
		expect(rateLimitKeys({ name: "auth.login", auth: "public", rateLimit: rule }, null, "203.0.113.1").keys).toEqual(["ip:203.0.113.1"]);
	});

	it("shares a named bucket", () => {
		expect(rateLimitKeys({ name: "auth.session", auth: "public", rateLimit: { ...rule, bucket: "auth.login" } }, null, "::1").bucket).toBe("auth.login");
	});

	it("'ip+account' counts the address and the signed-in account", () => {
		const action = { name: "auth.changePassword", rateLimit: { ...rule, by: "ip+account" as const } };
		expect(rateLimitKeys(action, alice, "::1").keys).toEqual(["ip:::1", "u:u1"]);
		expect(rateLimitKeys(action, null, "::1").keys).toEqual(["ip:::1"]);
	});

	it("'user' counts the user only where sign-in is required; elsewhere the address", () => {
		expect(rateLimitKeys({ name: "media.upload", auth: "required", rateLimit: { ...rule, by: "user" } }, alice, "::1").keys).toEqual(["u:u1"]);
		expect(rateLimitKeys({ name: "x.open", auth: "optional", rateLimit: { ...rule, by: "user" } }, alice, "::1").keys).toEqual(["ip:::1"]);
	});
});

describe("which actions retry", () => {
	it("follows HTTP semantics unless the action says", () => {
		expect(isIdempotent({ rest: "GET /:id" })).toBe(true);
		expect(isIdempotent({ rest: "PUT /:id" })).toBe(true);
		expect(isIdempotent({ rest: "POST /" })).toBe(false);
		expect(isIdempotent({ rest: "PATCH /:id" })).toBe(false);
		expect(isIdempotent({})).toBe(false);
		expect(isIdempotent({ rest: "POST /", idempotent: true })).toBe(true);
		expect(isIdempotent({ rest: "GET /", idempotent: false })).toBe(false);
	});
});
