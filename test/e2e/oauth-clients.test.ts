/**
 * API clients end to end through the real gateway: a tenant admin registers a client, the client gets a
 * token at POST /oauth/token (client_credentials, form-encoded, Basic or body authentication), the token
 * reaches only actions that declare one of its scopes, and it can be revoked and introspected.
 */
import type { ServiceSchema } from "moleculer";
import { currentTenantUser, type Ctx } from "../../lib/context";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

/** A test-only service: one action per access rule the test needs. */
const Things: ServiceSchema = {
	name: "things",
	actions: {
		list: {
			rest: "GET /",
			roles: ["member"],
			scopes: ["tasks:read"],
			handler: (ctx: Ctx) => ({ tenantId: currentTenantUser(ctx).tenantId, caller: currentTenantUser(ctx).id }),
		},
		create: { rest: "POST /", roles: ["member"], scopes: ["tasks:write"], handler: () => ({ created: true }) },
		unscoped: { rest: "GET /unscoped", roles: ["member"], handler: () => ({ reached: true }) },
		open: { rest: "GET /open", auth: "public", handler: () => ({ reached: true }) },
	},
};

describe("oauth: API clients and client_credentials", () => {
	let p: Platform;
	let admin: string;
	const form = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
		p.http("POST", path, {
			body: new URLSearchParams(fields).toString(),
			headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
		});
	const basic = (id: string, secret: string) => ({
		authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`,
	});
	const register = async (scopes = ["tasks:read"], token = admin) => {
		const res = await p.http("POST", "/api/oauth/clients", { token, body: { name: "Reporting bot", scopes } });
		expect(res.status).toBe(201);
		expect(res.headers.get("location")).toBe("/api/oauth/clients");
		return res.body as { id: string; clientId: string; clientSecret: string };
	};
	const tokenFor = async (c: { clientId: string; clientSecret: string }, fields: Record<string, string> = {}) => {
		const res = await form("/oauth/token", { grant_type: "client_credentials", ...fields }, basic(c.clientId, c.clientSecret));
		expect(res.status).toBe(200);
		return res.body.access_token as string;
	};

	beforeAll(async () => {
		p = await startPlatform({ services: ["auth", "users", "tenants", "oauth"], extra: [Things], env: { PASSWORD_SCRYPT_N: "1024" } });
		admin = p.token({ sub: "admin-1", tid: "t1", roles: ["admin"] });
	});
	afterAll(() => p.stop());

	it("registers a client for a tenant admin only; the secret is shown once and never listed", async () => {
		const member = p.token({ sub: "member-1", tid: "t1", roles: ["member"] });
		expect((await p.http("POST", "/api/oauth/clients", { token: member, body: { name: "x", scopes: ["tasks:read"] } })).status).toBe(403);
		const c = await register();
		expect(c.clientId).toMatch(/^vc_/);
		expect(c.clientSecret).toMatch(/^vcs_[\w-]{43}$/);
		const list = await p.http("GET", "/api/oauth/clients", { token: admin });
		expect(list.status).toBe(200);
		const listed = list.body.rows.find((r: { id: string }) => r.id === c.id);
		expect(listed).toMatchObject({ clientId: c.clientId, name: "Reporting bot", scopes: ["tasks:read"], revokedAt: null });
		expect(JSON.stringify(list.body)).not.toContain(c.clientSecret);
		expect(JSON.stringify(list.body)).not.toMatch(/secretHash/);
		// another tenant's admin does not see it
		const other = await p.http("GET", "/api/oauth/clients", { token: p.token({ sub: "admin-2", tid: "t2", roles: ["admin"] }) });
		expect(other.body.rows.map((r: { id: string }) => r.id)).not.toContain(c.id);
	});

	it("issues a token by Basic or body authentication, and it reaches only actions declaring one of its scopes", async () => {
		const c = await register();
		const res = await form("/oauth/token", { grant_type: "client_credentials" }, basic(c.clientId, c.clientSecret));
		expect(res.status).toBe(200);
		expect(res.headers.get("cache-control")).toBe("no-store");
		expect(res.body).toMatchObject({ token_type: "Bearer", expires_in: 900, scope: "tasks:read" });
		const byBody = await form("/oauth/token", { grant_type: "client_credentials", client_id: c.clientId, client_secret: c.clientSecret });
		expect(byBody.status).toBe(200);

		const token = res.body.access_token;
		const read = await p.http("GET", "/api/things", { token });
		expect(read.status).toBe(200);
		expect(read.body).toEqual({ tenantId: "t1", caller: c.clientId });
		const write = await p.http("POST", "/api/things", { token, body: {} });
		expect(write.status).toBe(403);
		expect(write.body.code).toBe("INSUFFICIENT_SCOPE");
		// no scope declared for clients: never reached, not even a public action
		expect((await p.http("GET", "/api/things/unscoped", { token })).status).toBe(403);
		expect((await p.http("GET", "/api/things/open", { token })).status).toBe(403);
		expect((await p.http("GET", "/api/oauth/clients", { token })).status).toBe(403);
		// a user's token is held to roles as before
		expect((await p.http("POST", "/api/things", { token: p.token({ sub: "u1", tid: "t1", roles: ["member"] }), body: {} })).status).toBe(200);
	});

	it("answers RFC 6749 §5.2 errors: invalid_client 401 with WWW-Authenticate, invalid_scope, unsupported_grant_type, invalid_request", async () => {
		const c = await register(["tasks:read", "tasks:write"]);
		const wrong = await form("/oauth/token", { grant_type: "client_credentials" }, basic(c.clientId, `${c.clientSecret}x`));
		expect(wrong.status).toBe(401);
		expect(wrong.body).toEqual({ error: "invalid_client", error_description: expect.any(String) });
		expect(wrong.headers.get("www-authenticate")).toMatch(/^Basic realm=/);
		const unknown = await form("/oauth/token", { grant_type: "client_credentials", client_id: "vc_nobody", client_secret: "s" });
		expect(unknown.status).toBe(401);
		expect(unknown.body.error).toBe("invalid_client");
		expect((await form("/oauth/token", { grant_type: "client_credentials" })).body.error).toBe("invalid_client");

		const scope = await form(
			"/oauth/token",
			{ grant_type: "client_credentials", scope: "tasks:read leads:read" },
			basic(c.clientId, c.clientSecret),
		);
		expect(scope.status).toBe(400);
		expect(scope.body.error).toBe("invalid_scope");
		const grant = await form("/oauth/token", { grant_type: "password" }, basic(c.clientId, c.clientSecret));
		expect(grant.status).toBe(400);
		expect(grant.body.error).toBe("unsupported_grant_type");
		const twice = await form(
			"/oauth/token",
			{ grant_type: "client_credentials", client_secret: c.clientSecret },
			basic(c.clientId, c.clientSecret),
		);
		expect(twice.status).toBe(400);
		expect(twice.body.error).toBe("invalid_request");

		// a narrower scope than registered is granted as asked
		const narrow = await form("/oauth/token", { grant_type: "client_credentials", scope: "tasks:write" }, basic(c.clientId, c.clientSecret));
		expect(narrow.body.scope).toBe("tasks:write");
		expect((await p.http("GET", "/api/things", { token: narrow.body.access_token })).status).toBe(403);
		expect((await p.http("POST", "/api/things", { token: narrow.body.access_token, body: {} })).status).toBe(200);
	});

	it("introspects (RFC 7662) for the tenant's own clients and revokes (RFC 7009)", async () => {
		const c = await register();
		const token = await tokenFor(c);
		const auth = basic(c.clientId, c.clientSecret);
		const seen = await form("/oauth/introspect", { token }, auth);
		expect(seen.status).toBe(200);
		expect(seen.body).toMatchObject({ active: true, scope: "tasks:read", client_id: c.clientId, token_type: "Bearer", exp: expect.any(Number) });
		// a client of another tenant learns nothing about it; a user's token is not a client token
		const stranger = await register(["tasks:read"], p.token({ sub: "admin-2", tid: "t2", roles: ["admin"] }));
		expect((await form("/oauth/introspect", { token }, basic(stranger.clientId, stranger.clientSecret))).body).toEqual({ active: false });
		expect((await form("/oauth/introspect", { token: admin }, auth)).body).toEqual({ active: false });
		expect((await form("/oauth/introspect", { token: "not-a-token" }, auth)).body).toEqual({ active: false });
		expect((await form("/oauth/introspect", { token }, basic(c.clientId, "wrong"))).status).toBe(401);

		// another client cannot revoke it; its own client can
		expect((await form("/oauth/revoke", { token }, basic(stranger.clientId, stranger.clientSecret))).status).toBe(200);
		expect((await p.http("GET", "/api/things", { token })).status).toBe(200);
		const revoked = await form("/oauth/revoke", { token, token_type_hint: "access_token" }, auth);
		expect(revoked.status).toBe(200);
		expect((await form("/oauth/introspect", { token }, auth)).body).toEqual({ active: false });
		await waitFor(async () => (await p.http("GET", "/api/things", { token })).status === 401, {
			what: "the revoked token refused by the gateway",
		});
		// revoking an unknown token is 200 too (RFC 7009 §2.2)
		expect((await form("/oauth/revoke", { token: "whatever" }, auth)).status).toBe(200);
	});

	it("rotating the secret retires the old one; revoking the client ends its tokens", async () => {
		const c = await register();
		const token = await tokenFor(c);
		const rotated = await p.http("POST", `/api/oauth/clients/${c.id}/secret`, { token: admin });
		expect(rotated.status).toBe(200);
		expect(rotated.body.clientSecret).not.toBe(c.clientSecret);
		expect((await form("/oauth/token", { grant_type: "client_credentials" }, basic(c.clientId, c.clientSecret))).status).toBe(401);
		await tokenFor({ clientId: c.clientId, clientSecret: rotated.body.clientSecret });
		// another tenant's admin cannot touch it
		expect(
			(await p.http("DELETE", `/api/oauth/clients/${c.id}`, { token: p.token({ sub: "admin-2", tid: "t2", roles: ["admin"] }) })).status,
		).toBe(404);

		expect((await p.http("DELETE", `/api/oauth/clients/${c.id}`, { token: admin })).status).toBe(204);
		expect((await form("/oauth/token", { grant_type: "client_credentials" }, basic(c.clientId, rotated.body.clientSecret))).status).toBe(401);
		await waitFor(async () => (await p.http("GET", "/api/things", { token })).status === 401, { what: "the revoked client's token refused" });
	});
});
