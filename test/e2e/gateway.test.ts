/** The gateway's contract with HTTP clients: routing, authentication, errors, headers, health. */
import type { Context } from "moleculer";
import { startPlatform, type Platform } from "../helpers/platform";

const probe = {
	name: "probe",
	actions: {
		echo: {
			rest: "GET /echo",
			auth: "public",
			params: {},
			handler(ctx: Context) {
				return { requestID: ctx.requestID };
			},
		},
		slow: {
			rest: "GET /slow",
			auth: "public",
			params: {},
			// Longer than REQUEST_TIMEOUT_MS below: the gateway must answer 504, not hang.
			handler: () => new Promise(resolve => setTimeout(() => resolve({ late: true }), 1500).unref()),
		},
		search: {
			rest: "GET /search/:query",
			auth: "public",
			params: { query: "string|max:64" },
			handler: (ctx: Context<{ query: string }>) => ({ searched: ctx.params.query }),
		},
		stats: {
			rest: "GET /:id/stats",
			auth: "public",
			params: { id: "string|max:64" },
			handler: (ctx: Context<{ id: string }>) => ({ statsOf: ctx.params.id }),
		},
		broken: {
			rest: "GET /broken",
			auth: "public",
			params: {},
			handler() {
				throw new TypeError("secret internal detail at /srv/app.js:42");
			},
		},
	},
};

describe("gateway over HTTP", () => {
	let p: Platform;
	const member = () => p.token({ sub: "u-member", tid: "tenant-a", roles: ["member"] });
	const admin = () => p.token({ sub: "u-admin", tid: "tenant-a", roles: ["admin"] });
	const otherTenant = () => p.token({ sub: "u-b", tid: "tenant-b", roles: ["owner"] });

	beforeAll(async () => {
		p = await startPlatform({
			services: ["greeter", "notes"],
			extra: [probe as never],
			env: { CORS_ORIGINS: "http://app.test", BODY_LIMIT: "10kb", REQUEST_TIMEOUT_MS: "300", RETRIES: "1" },
		});
	});
	afterAll(() => p.stop());

	const expectProblem = (res: { status: number; headers: Headers; body: any }, status: number, code: string) => {
		expect(res.status).toBe(status);
		expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
		expect(res.body).toMatchObject({ status, code, type: expect.any(String), title: expect.any(String), detail: expect.any(String) });
	};

	it("serves a public cached action", async () => {
		const res = await p.http("GET", "/api/greeter/hello");
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ message: "Hello from Valence" });
	});

	it("passes the verified user to the action", async () => {
		const res = await p.http("GET", "/api/greeter/me", { token: member() });
		expect(res.status).toBe(200);
		// the small identity, and the session the token names (every access token has one)
		expect(res.body.user).toEqual({ id: "u-member", tenantId: "tenant-a", roles: ["member"], sessionId: expect.any(String) });
	});

	it("answers 401 with WWW-Authenticate without a token, and for a bad one", async () => {
		const none = await p.http("GET", "/api/greeter/me");
		expectProblem(none, 401, "UNAUTHORIZED");
		expect(none.headers.get("www-authenticate")).toMatch(/^Bearer /);
		expectProblem(await p.http("GET", "/api/greeter/me", { token: "abc.def.ghi" }), 401, "INVALID_TOKEN");
		expectProblem(await p.http("GET", "/api/greeter/me", { headers: { authorization: "Basic dTpw" } }), 401, "INVALID_TOKEN");
	});

	it("answers 403 to a member on an admin action, and lets the admin through", async () => {
		const note = await p.http("POST", "/api/notes", { token: member(), body: { slug: "n-403", title: "T" } });
		expect(note.status).toBe(201);
		expect(note.headers.get("location")).toBe(`/api/notes/${note.body.id}`);
		expectProblem(await p.http("DELETE", `/api/notes/${note.body.id}`, { token: member() }), 403, "FORBIDDEN");
		expect((await p.http("DELETE", `/api/notes/${note.body.id}`, { token: admin() })).status).toBe(204);
	});

	it("answers another tenant's id exactly like a random one (404)", async () => {
		const note = await p.http("POST", "/api/notes", { token: member(), body: { slug: "n-404", title: "Mine" } });
		const foreign = await p.http("GET", `/api/notes/${note.body.id}`, { token: otherTenant() });
		const random = await p.http("GET", "/api/notes/doesnotexist0000000", { token: otherTenant() });
		expectProblem(foreign, 404, "NOT_FOUND");
		expect({ ...foreign.body, instance: undefined, requestId: undefined, data: undefined }).toEqual({
			...random.body,
			instance: undefined,
			requestId: undefined,
			data: undefined,
		});
		const list = await p.http("GET", "/api/notes", { token: otherTenant() });
		expect(list.body.rows.map((r: any) => r.id)).not.toContain(note.body.id);
	});

	it("answers 409 on a duplicate unique key", async () => {
		expect((await p.http("POST", "/api/notes", { token: member(), body: { slug: "dup", title: "1" } })).status).toBe(201);
		expectProblem(await p.http("POST", "/api/notes", { token: member(), body: { slug: "dup", title: "2" } }), 409, "CONFLICT");
	});

	it("answers 422 with the invalid fields", async () => {
		const res = await p.http("POST", "/api/notes", { token: member(), body: { slug: "Not A Slug!", title: "" } });
		expectProblem(res, 422, "VALIDATION_ERROR");
		expect(res.body.errors.map((e: any) => e.field).sort()).toEqual(["slug", "title"]);
	});

	it("answers 400 to malformed JSON and 413 to a body over the limit", async () => {
		expectProblem(await p.http("POST", "/api/notes", { token: member(), body: "{not json" }), 400, "MALFORMED_JSON");
		const big = JSON.stringify({ slug: "big", title: "x", body: "y".repeat(20_000) });
		expectProblem(await p.http("POST", "/api/notes", { token: member(), body: big }), 413, "PAYLOAD_TOO_LARGE");
	});

	it("prefers a literal path segment over a parameter in the same place", async () => {
		expect((await p.http("GET", "/api/probe/search/stats")).body).toEqual({ searched: "stats" });
		expect((await p.http("GET", "/api/probe/u1/stats")).body).toEqual({ statsOf: "u1" });
	});

	it("answers 404 to unknown routes, internal services and un-aliased actions", async () => {
		expectProblem(await p.http("GET", "/api/nothing-here"), 404, "NOT_FOUND");
		expectProblem(await p.http("GET", "/api/$node/list"), 404, "NOT_FOUND");
		expectProblem(await p.http("GET", "/api/~node/list"), 404, "NOT_FOUND");
		expectProblem(await p.http("GET", "/api/greeter/stats"), 404, "NOT_FOUND");
		expectProblem(await p.http("GET", "/api/api/list-aliases"), 404, "NOT_FOUND");
	});

	it("answers 503 for a service of the platform that no node runs", async () => {
		const withoutGreeter = await startPlatform({ services: ["notes"] });
		try {
			// `leads` is a product service; the sample ones (greeter) are not part of the platform's list.
			const res = await withoutGreeter.http("GET", "/api/leads");
			expectProblem(res, 503, "SERVICE_UNAVAILABLE");
			expect(res.headers.get("retry-after")).toBeTruthy();
			const services = await withoutGreeter.http("GET", "/health/services");
			expect(services.body.services).toContainEqual({ name: "leads", nodes: 0, available: false });
			expect(services.body.services.map((s: { name: string }) => s.name)).not.toContain("greeter");
		} finally {
			await withoutGreeter.stop();
		}
	});

	it("answers 504 when the service does not answer in time", async () => {
		expectProblem(await p.http("GET", "/api/probe/slow"), 504, "TIMEOUT");
	});

	it("never leaks stacks, node ids or action names", async () => {
		const res = await p.http("GET", "/api/probe/broken");
		expectProblem(res, 500, "INTERNAL_ERROR");
		const text = JSON.stringify(res.body);
		expect(text).not.toMatch(/secret internal|app\.js|stack|probe\.broken/);
		expect(text).not.toContain(p.broker.nodeID);
		const timeout = JSON.stringify((await p.http("GET", "/api/probe/slow")).body);
		expect(timeout).not.toContain(p.broker.nodeID);
		expect(timeout).not.toContain("probe.slow");
	});

	it("echoes a valid X-Request-ID into the action, and replaces an invalid one", async () => {
		const given = await p.http("GET", "/api/probe/echo", { headers: { "x-request-id": "req-123" } });
		expect(given.headers.get("x-request-id")).toBe("req-123");
		expect(given.body.requestID).toBe("req-123");
		const generated = await p.http("GET", "/api/probe/echo");
		expect(generated.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
		expect(generated.body.requestID).toBe(generated.headers.get("x-request-id"));
		const bad = await p.http("GET", "/api/probe/echo", { headers: { "x-request-id": "<script>" } });
		expect(bad.headers.get("x-request-id")).not.toBe("<script>");
		const problemBody = await p.http("GET", "/api/nothing-here", { headers: { "x-request-id": "req-404" } });
		expect(problemBody.body.requestId).toBe("req-404");
	});

	it("answers CORS preflights for configured origins only", async () => {
		const ok = await fetch(`${p.baseUrl}/api/notes`, {
			method: "OPTIONS",
			headers: {
				origin: "http://app.test",
				"access-control-request-method": "POST",
				"access-control-request-headers": "authorization,content-type",
			},
		});
		expect(ok.headers.get("access-control-allow-origin")).toBe("http://app.test");
		const other = await fetch(`${p.baseUrl}/api/greeter/hello`, { headers: { origin: "http://evil.test" } });
		expect(other.headers.get("access-control-allow-origin")).toBeNull();
	});

	it("sends standard security headers", async () => {
		const res = await p.http("GET", "/api/greeter/hello");
		expect(res.headers.get("x-content-type-options")).toBe("nosniff");
		expect(res.headers.get("content-security-policy")).toContain("default-src 'self'");
		expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
	});

	it("reports liveness, readiness and services × nodes", async () => {
		expect((await p.http("GET", "/health")).body).toEqual({ status: "ok" });
		const ready = await p.http("GET", "/health/ready");
		expect(ready.status).toBe(200);
		expect(ready.body.status).toBe("ready");
		const services = await p.http("GET", "/health/services");
		const byName = Object.fromEntries(services.body.services.map((s: any) => [s.name, s]));
		expect(byName.greeter).toEqual({ name: "greeter", nodes: 1, available: true });
		expect(byName.notes).toEqual({ name: "notes", nodes: 1, available: true });
	});

	it("publishes an OpenAPI document of the routed actions, docs and the dashboard", async () => {
		const doc = await p.http("GET", "/openapi.json");
		expect(doc.body.openapi).toBe("3.1.0");
		expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(["/api/notes", "/api/notes/{id}", "/api/greeter/hello"]));
		expect(JSON.stringify(doc.body.paths)).not.toMatch(/\$node|list-aliases/);
		const docs = await fetch(`${p.baseUrl}/docs/`);
		expect(docs.status).toBe(200);
		expect(await docs.text()).toContain("swagger-ui");
		const home = await fetch(`${p.baseUrl}/`);
		expect(await home.text()).toContain("<title>Valence</title>");
	});

	it("serves Prometheus metrics to loopback callers", async () => {
		const res = await fetch(`${p.baseUrl}/metrics`);
		expect(res.status).toBe(200);
		expect(await res.text()).toContain("moleculer_request_total");
	});
});
