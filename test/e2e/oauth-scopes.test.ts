/**
 * Scopes on the product's own actions (README, "API clients" → "Scopes"): a client token with
 * `leads:read` lists and reads the tenant's leads, is refused a lead write (`leads:write`) and any action
 * that declares no scope; registration refuses scopes nobody declares (422 naming them).
 */
import { startPlatform, type Platform } from "../helpers/platform";

describe("oauth: client scopes on product actions", () => {
	let p: Platform;
	let admin: string;
	let member: string;

	const clientToken = async (scopes: string[]) => {
		const reg = await p.http("POST", "/api/oauth/clients", { token: admin, body: { name: "CRM export", scopes } });
		expect(reg.status).toBe(201);
		const res = await p.http("POST", "/oauth/token", {
			body: new URLSearchParams({
				grant_type: "client_credentials",
				client_id: reg.body.clientId,
				client_secret: reg.body.clientSecret,
			}).toString(),
			headers: { "content-type": "application/x-www-form-urlencoded" },
		});
		expect(res.status).toBe(200);
		return res.body.access_token as string;
	};

	beforeAll(async () => {
		p = await startPlatform({ services: ["auth", "users", "tenants", "oauth", "leads", "activities"], env: { PASSWORD_SCRYPT_N: "1024" } });
		admin = p.token({ sub: "scopes-admin", tid: "scopes-t1", roles: ["admin"] });
		member = p.token({ sub: "scopes-member", tid: "scopes-t1", roles: ["member"] });
	});
	afterAll(() => p.stop());

	it("refuses to register a client with scopes no action declares, naming them", async () => {
		const res = await p.http("POST", "/api/oauth/clients", {
			token: admin,
			body: { name: "x", scopes: ["leads:read", "leads:destroy", "things:read"] },
		});
		expect(res.status).toBe(422);
		expect(res.body.code).toBe("VALIDATION_ERROR");
		expect(res.body.detail ?? res.body.title).toMatch(/leads:destroy, things:read/);
		expect((await p.http("GET", "/api/oauth/clients", { token: admin })).body.rows).toEqual([]);
	});

	it("leads:read lists and reads the tenant's leads; a write and an unscoped action are 403 INSUFFICIENT_SCOPE", async () => {
		const made = await p.http("POST", "/api/leads", { token: member, body: { name: "Ada Lovelace", email: "ada@example.com" } });
		expect(made.status).toBe(201);
		const other = p.token({ sub: "scopes-other", tid: "scopes-t2", roles: ["member"] });
		expect((await p.http("POST", "/api/leads", { token: other, body: { name: "Not yours" } })).status).toBe(201);

		const token = await clientToken(["leads:read"]);
		const list = await p.http("GET", "/api/leads", { token });
		expect(list.status).toBe(200);
		expect(list.body.rows.map((r: { name: string }) => r.name)).toEqual(["Ada Lovelace"]);
		expect((await p.http("GET", `/api/leads/${made.body.id}`, { token })).body.name).toBe("Ada Lovelace");

		const write = await p.http("PATCH", `/api/leads/${made.body.id}`, { token, body: { name: "Changed" } });
		expect(write.status).toBe(403);
		expect(write.body.code).toBe("INSUFFICIENT_SCOPE");
		expect((await p.http("POST", "/api/leads", { token, body: { name: "By a bot" } })).body.code).toBe("INSUFFICIENT_SCOPE");
		// deleteLead declares no scope: never reachable by a client token
		const del = await p.http("DELETE", `/api/leads/${made.body.id}`, { token });
		expect(del.status).toBe(403);
		expect(del.body.code).toBe("INSUFFICIENT_SCOPE");
		expect((await p.http("GET", `/api/leads/${made.body.id}`, { token: member })).body.name).toBe("Ada Lovelace");

		const writer = await clientToken(["leads:write"]);
		const byBot = await p.http("POST", "/api/leads", { token: writer, body: { name: "By a bot" } });
		expect(byBot.status).toBe(201);
		expect((await p.http("GET", "/api/leads", { token: writer })).status).toBe(403);
	});
});
