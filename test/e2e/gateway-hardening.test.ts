/**
 * What the gateway shows and accepts beyond the API's own answers (README: Security): security headers on
 * the dashboard's static files, smaller bodies for routes anyone may call, malformed bodies and uploads
 * answered as 4xx problems, null where a value is required, OpenAPI operation ids that name no action,
 * and metrics that carry nothing about the host beyond what a scrape needs.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

describe("gateway hardening", () => {
	let p: Platform;
	let dataDir: string;
	let alice: string;

	const expectProblem = (res: { status: number; headers: Headers; body: any }, status: number, code: string) => {
		expect(res.status).toBe(status);
		expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
		expect(res.body).toMatchObject({ status, code });
	};
	const register = async (email: string) => {
		const res = await p.http("POST", "/api/auth/register", { body: { email, password: "correct horse battery", name: "Someone" } });
		expect(res.status).toBe(201);
		return res.body.accessToken as string;
	};

	beforeAll(async () => {
		dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-hardening-"));
		p = await startPlatform({
			services: ["*"],
			env: { DATA_DIR: dataDir, PASSWORD_SCRYPT_N: "1024" },
			// Moleculer collects process and OS metrics everywhere but under NODE_ENV=test: here too.
			brokerOptions: o => ({ ...o, metrics: { ...(o.metrics as object), collectProcessMetrics: true } }),
		});
		alice = await register("alice@example.com");
	});
	afterAll(async () => {
		await p.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	});

	describe("security headers on the dashboard", () => {
		it("sends CSP, frame options and nosniff with every static answer, 404s included", async () => {
			// the web app's built files (build/web: README, "Web app"), as its index.html names them
			const index = await (await fetch(p.baseUrl + "/")).text();
			const script = /<script[^>]* src="(\/assets\/[^"]+\.js)"/.exec(index)?.[1];
			const style = /<link[^>]* href="(\/assets\/[^"]+\.css)"/.exec(index)?.[1];
			expect({ script, style }).toEqual({ script: expect.any(String), style: expect.any(String) });
			for (const [url, status] of [
				["/", 200],
				["/index.html", 200],
				["/reset-password?token=abc", 200],
				["/invitations/0mwt-abc/accept", 200],
				[script!, 200],
				[style!, 200],
				["/no-such-file.js", 404],
				["/nested/missing/page", 404],
			] as const) {
				const res = await fetch(p.baseUrl + url);
				expect({ url, status: res.status }).toEqual({ url, status });
				const csp = res.headers.get("content-security-policy") ?? "";
				expect({ url, csp }).toEqual({ url, csp: expect.stringContaining("default-src 'self'") });
				expect(csp).toContain("frame-ancestors 'self'");
				expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN");
				expect(res.headers.get("x-content-type-options")).toBe("nosniff");
				await res.arrayBuffer();
			}
		});
	});

	describe("body limits", () => {
		it("reads at most 16 kB for routes anyone may call", async () => {
			const body = { email: "bob@example.com", password: "correct horse battery", name: "b".repeat(20_000) };
			expectProblem(await p.http("POST", "/api/auth/register", { body }), 413, "PAYLOAD_TOO_LARGE");
			expectProblem(await p.http("POST", "/api/auth/login", { body: { email: "x".repeat(17_000), password: "x" } }), 413, "PAYLOAD_TOO_LARGE");
		});

		it("lets the lead intake declare a larger body (a full form), and signed-in routes keep BODY_LIMIT", async () => {
			const intake = await p.http("POST", "/api/public/leads/no-such-tenant", {
				body: {
					ingestKey: "k".repeat(40),
					name: "Lead",
					customFields: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`f${i}`, "v".repeat(500)])),
				},
			});
			expect(intake.status).not.toBe(413); // 30 custom fields of 500 characters: ~17 kB
			expect(intake.status).toBeGreaterThanOrEqual(400);
			const post = await p.http("POST", "/api/posts", { token: alice, body: { text: "t".repeat(200_000) } });
			expectProblem(post, 422, "VALIDATION_ERROR"); // read and validated, not refused for its size
		});

		it("still reads a body that really is gzip", async () => {
			const res = await fetch(`${p.baseUrl}/api/auth/register`, {
				method: "POST",
				headers: { "content-type": "application/json", "content-encoding": "gzip" },
				body: gzipSync(JSON.stringify({ email: "gzip@example.com", password: "correct horse battery", name: "Zip" })),
			});
			expect(res.status).toBe(201);
		});
	});

	describe("malformed input answers 4xx problems", () => {
		it("refuses a 10,000-deep nested array on the public intake and on a signed-in route (400 BODY_TOO_DEEP)", async () => {
			const deep = "[".repeat(10_000) + "]".repeat(10_000);
			expectProblem(await p.http("POST", "/api/public/leads/acme", { body: `{"name":${deep}}` }), 400, "BODY_TOO_DEEP");
			expectProblem(await p.http("POST", "/api/posts", { token: alice, body: `{"text":"hi","mediaIds":${deep}}` }), 400, "BODY_TOO_DEEP");
			// 32 levels is fine (and then simply not a valid post).
			const ok = await p.http("POST", "/api/posts", { token: alice, body: `{"text":"hi","mediaIds":${"[".repeat(31)}${"]".repeat(31)}}` });
			expectProblem(ok, 422, "VALIDATION_ERROR");
		});

		it("answers gzip that is not gzip with 400 MALFORMED_BODY", async () => {
			expectProblem(
				await p.http("POST", "/api/posts", { token: alice, body: '{"text":"hi"}', headers: { "content-encoding": "gzip" } }),
				400,
				"MALFORMED_BODY",
			);
		});

		it("answers null text or media on a post edit with 422 naming the field, and leaves the post as it was", async () => {
			const post = await p.http("POST", "/api/posts", { token: alice, body: { text: "first words" } });
			expect(post.status).toBe(201);
			for (const field of ["text", "mediaIds", "visibility"]) {
				const res = await p.http("PUT", `/api/posts/${post.body.id}`, { token: alice, body: { [field]: null } });
				expectProblem(res, 422, "VALIDATION_ERROR");
				expect(res.body.errors).toEqual([{ field, message: `The '${field}' field must not be null.` }]);
			}
			const after = await p.http("GET", `/api/posts/${post.body.id}`, { token: alice });
			expect(after.body).toMatchObject({ text: "first words", mediaIds: [] });
		});

		it("answers a JSON body to the upload with 415, a truncated multipart body with 400, and leaves no temp file", async () => {
			expectProblem(await p.http("POST", "/api/media", { token: alice, body: { file: "not a file" } }), 415, "UNSUPPORTED_MEDIA_TYPE");
			const truncated = await fetch(`${p.baseUrl}/api/media`, {
				method: "POST",
				headers: { authorization: `Bearer ${alice}`, "content-type": "multipart/form-data; boundary=XYZ" },
				body: '--XYZ\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n\x89PNG\r\n\x1a\n half a file',
			});
			expect(truncated.status).toBe(400);
			expect(truncated.headers.get("content-type")).toMatch(/^application\/problem\+json/);
			expect(await truncated.json()).toMatchObject({ code: "MALFORMED_MULTIPART" });
			// The answer leaves as soon as the parser fails; the upload's clean-up follows.
			const tmp = path.join(dataDir, "media", ".tmp");
			await waitFor(() => (fs.existsSync(tmp) ? fs.readdirSync(tmp) : []).length === 0, {
				timeoutMs: 5000,
				what: "the temp file to be removed",
			});
			expect(await (p.broker.getLocalService("media") as any).adapter.count()).toBe(0);
		});
	});

	describe("what the gateway reveals", () => {
		it("gives every OpenAPI operation a stable public id that is no action's name", async () => {
			const doc = await p.http("GET", "/openapi.json");
			const actions = new Set((p.broker.registry.getActionList({}) as { name: string }[]).map(a => a.name));
			const ids: string[] = [];
			for (const [pathName, methods] of Object.entries(doc.body.paths as Record<string, Record<string, any>>))
				for (const [method, op] of Object.entries(methods)) {
					ids.push(op.operationId);
					expect(op.operationId).toMatch(new RegExp(`^${method}[A-Z]`));
					expect({ pathName, method, id: op.operationId, isAction: actions.has(op.operationId) }).toMatchObject({ isAction: false });
				}
			expect(ids.length).toBeGreaterThan(50);
			expect(new Set(ids).size).toBe(ids.length);
			expect(ids).toEqual(expect.arrayContaining(["postAuthRegister", "getLeadsById", "putPostsById", "postPublicLeadsByTenantSlug"]));
			// No action name anywhere in the document (ids, tags, summaries).
			const text = JSON.stringify(doc.body);
			expect([...actions].filter(name => text.includes(`"${name}"`))).toEqual([]);
		});

		it("serves metrics a scrape needs, without process arguments, paths, host or user names", async () => {
			const res = await fetch(`${p.baseUrl}/metrics`);
			expect(res.status).toBe(200);
			const text = await res.text();
			for (const wanted of ["moleculer_request_total", "process_memory_heap_size_used", "process_uptime", "os_memory_free", "os_cpu_load_1"])
				expect(text).toContain(wanted);
			for (const name of [
				"process_arguments",
				"process_pid",
				"process_ppid",
				"process_versions",
				"os_hostname",
				"os_user",
				"os_network",
				"os_cpu_info",
				"os_type",
				"moleculer_node_versions_lang",
			])
				expect({ name, present: new RegExp(`^${name}`, "m").test(text) }).toEqual({ name, present: false });
			const secrets = [
				os.hostname(),
				os.homedir(),
				process.cwd(),
				process.execPath,
				os.userInfo().username,
				...process.argv.filter(a => a.length > 3),
			];
			expect(secrets.filter(s => text.includes(`"${s}"`) || text.includes(s + "/"))).toEqual([]);
		});
	});
});
