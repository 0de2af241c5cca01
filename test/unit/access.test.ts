import { assertAccess, authModeOf, hasRole } from "../../lib/access";
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
