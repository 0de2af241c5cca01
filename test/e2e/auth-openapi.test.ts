/** The identity routes appear in the gateway's OpenAPI document, with their bodies. */
import { startPlatform, type Platform } from "../helpers/platform";

describe("auth and tenants in /openapi.json", () => {
	let p: Platform;
	beforeAll(async () => {
		p = await startPlatform({ services: ["auth", "tenants", "users"], env: { PASSWORD_SCRYPT_N: "1024" } });
	});
	afterAll(() => p.stop());

	it("documents every auth and tenants route", async () => {
		const res = await p.http("GET", "/openapi.json");
		expect(res.status).toBe(200);
		const paths = Object.keys(res.body.paths);
		for (const path of [
			"/api/auth/register",
			"/api/auth/login",
			"/api/auth/session",
			"/api/auth/refresh",
			"/api/auth/logout",
			"/api/auth/me",
			"/api/auth/sessions",
			"/api/auth/password",
			"/api/auth/password/forgot",
			"/api/auth/password/reset",
			"/api/auth/switch-tenant",
			"/api/tenants",
		])
			expect(paths).toContain(path);
		expect(paths.some(p => p.startsWith("/api/tenants/{id}/members"))).toBe(true);
		expect(paths).toEqual(
			expect.arrayContaining(["/api/tenants/invitations", "/api/tenants/{id}/invitations", "/api/tenants/invitations/{invitationId}/accept"]),
		);
		// internal actions are not published, and no route adds a member without an invitation
		expect(paths.some(p => /jwks|userIdByEmail|membership|passwordResetLink|emailOf|addMember/i.test(p))).toBe(false);
		expect(res.body.paths["/api/tenants/{id}/members"]?.post).toBeUndefined();
		expect(JSON.stringify(res.body.paths["/api/auth/register"])).toContain("password");
	});
});
