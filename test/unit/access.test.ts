import { accessCheck, accessCheckOf, assertAccess, authModeOf, hasRole, rateLimitKeys, type AccessRule, type AuthUser } from "../../lib/access";
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

describe("access checks decided once per action", () => {
	const outcome = (f: () => void) => {
		try {
			f();
			return "allowed";
		} catch (e) {
			return `${(e as { code: number }).code} ${(e as { type: string }).type}`;
		}
	};
	const rules: AccessRule[] = [];
	for (const auth of [undefined, "required", "optional", "public"] as const)
		for (const visibility of [undefined, "published", "public", "protected"])
			for (const roles of [
				undefined,
				[],
				["member"],
				["admin"],
				["owner"],
				["admin", "owner"],
				["member", "owner"],
				["superuser"],
				["superuser", "admin"],
			])
				for (const scopes of [undefined, ["notes:read"], ["notes:write"]])
					rules.push({ ...(auth && { auth }), ...(visibility && { visibility }), ...(roles && { roles }), ...(scopes && { scopes }) });
	const users: (AuthUser | null | undefined)[] = [
		null,
		undefined,
		user([]),
		user(["member"]),
		user(["admin"]),
		user(["owner"]),
		user(["member", "admin"]),
		user(["superuser"]),
		user(["owner", "superuser"]),
		{ id: "u2", tenantId: null, roles: undefined as unknown as string[] },
		// an API client's token: its scopes decide on published actions
		{ id: "c1", tenantId: "t1", roles: [], scopes: ["notes:read"] },
		{ id: "c2", tenantId: "t1", roles: ["owner"], scopes: ["leads:read"] },
	];

	it("decides exactly what assertAccess decides, for every rule and every user", () => {
		let compared = 0;
		for (const rule of rules)
			for (const u of users) {
				const check = accessCheck(rule);
				expect({ rule, u, decided: outcome(() => check?.(u)) }).toEqual({ rule, u, decided: outcome(() => assertAccess(rule, u)) });
				compared++;
			}
		expect(compared).toBe(rules.length * users.length);
	});

	it("needs no check at all only where assertAccess lets everybody through", () => {
		for (const rule of rules) {
			const everybody = users.every(u => outcome(() => assertAccess(rule, u)) === "allowed");
			expect({ rule, skipped: accessCheck(rule) === null }).toEqual({ rule, skipped: everybody });
		}
	});

	it("is made once per action object", () => {
		const rule = { roles: ["admin"] };
		expect(accessCheckOf(rule)).toBe(accessCheckOf(rule));
		expect(accessCheckOf({ auth: "public", visibility: "public" })).toBeNull();
	});
});

describe("what a rate limit counts", () => {
	const alice = user(["member"]);
	const rule = { max: 5, windowSec: 60 };

	it("counts by client address unless the action says otherwise, token or not", () => {
		expect(rateLimitKeys({ name: "auth.login", auth: "public", rateLimit: rule }, alice, "203.0.113.1")).toEqual({
			bucket: "auth.login",
			keys: ["ip:203.0.113.1"],
		});
		expect(rateLimitKeys({ name: "auth.login", auth: "public", rateLimit: rule }, null, "203.0.113.1").keys).toEqual(["ip:203.0.113.1"]);
	});

	it("shares a named bucket", () => {
		expect(rateLimitKeys({ name: "auth.session", auth: "public", rateLimit: { ...rule, bucket: "auth.login" } }, null, "::1").bucket).toBe(
			"auth.login",
		);
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
