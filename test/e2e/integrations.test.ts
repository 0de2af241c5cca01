/**
 * Connecting a third-party account through the real gateway, against a fake GitHub-style provider
 * started here: code + PKCE, tokens sealed at rest, refresh before expiry (one refresh at a time), and
 * disconnect revoking at the provider; GitHub issues mirrored as tasks (webhooks and the initial sync).
 */
import { createHmac } from "node:crypto";
import type { ServiceSchema } from "moleculer";
import { loadSecretKey, SecretBox } from "../../lib/secret-box";
import { config } from "../../lib/config";
import { startFakeProvider, type FakeProvider } from "../helpers/fake-oauth-provider";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const WEBHOOK_SECRET = "whsec-test";
/** Stands in for what will act on deliveries (the tasks sync): records each one it is told about. */
const heard: { deliveryId: string; event: string; payload: { action: string } }[] = [];
const Listener: ServiceSchema = {
	name: "webhook-listener",
	events: {
		"integrations.webhookReceived"(ctx: { params: (typeof heard)[number] }) {
			heard.push(ctx.params);
		},
	},
};

describe("integrations: connect a third-party account", () => {
	let p: Platform;
	let gh: FakeProvider;
	const http: Platform["http"] = (method, path, opts) => p.http(method, path, opts);
	const userToken = (sub: string) => p.token({ sub, tid: null, roles: [] });
	const accessToken = async (connectionId: string) =>
		((await p.broker.call("integrations.accessToken", { connectionId })) as { accessToken: string }).accessToken;
	const rowsOf = () =>
		(
			p.broker.getLocalService("integrations") as unknown as { connections: { find(q: object): Promise<Record<string, unknown>[]> } }
		).connections.find({});

	/**
	 * connect → the provider's authorize → our callback (the browser carries no token back, only the flow
	 * cookie the connect set: `headers` for the callback)
	 */
	async function connect(token: string): Promise<{ path: string; headers: { cookie: string } }> {
		const start = await http("POST", "/api/integrations/github/connect", { token });
		expect(start.status).toBe(200);
		const set = start.headers.get("set-cookie")!;
		expect(set).toMatch(/^valence_oauth_flow=[\w-]{40,}; Path=\/api\/integrations; Max-Age=600; HttpOnly; SameSite=Lax$/);
		const url = new URL(start.body.authorizationUrl);
		expect(url.searchParams.get("code_challenge_method")).toBe("S256");
		const back = await fetch(url, { redirect: "manual" });
		const cb = new URL(back.headers.get("location")!);
		expect(cb.pathname).toBe("/api/integrations/github/callback");
		return { path: cb.pathname + cb.search, headers: { cookie: set.split(";")[0] } };
	}

	beforeAll(async () => {
		gh = await startFakeProvider("oauth2");
		const integrations = {
			github: {
				authorizationEndpoint: `${gh.baseUrl}/authorize`,
				tokenEndpoint: `${gh.baseUrl}/token`,
				revocationEndpoint: `${gh.baseUrl}/revoke`,
				clientId: gh.clientId,
				clientSecret: gh.clientSecret,
				scopes: "repo",
				webhookSecret: WEBHOOK_SECRET,
				apiBaseUrl: gh.baseUrl,
			},
		};
		p = await startPlatform({
			services: ["integrations", "tasks", "taskversions"],
			extra: [Listener],
			env: { INTEGRATION_PROVIDERS: JSON.stringify(integrations) },
		});
	});
	afterAll(async () => {
		await p.stop();
		await gh.stop();
	});

	it("refuses a callback opened in another browser (no flow cookie, or another flow's): nothing connected", async () => {
		const theirs = await connect(userToken("mallory"));
		const mine = await connect(userToken("victim"));
		// the victim's browser opens mallory's callback: it carries the victim's own cookie, or none
		const crossed = await http("GET", theirs.path, { headers: mine.headers });
		expect(crossed.status).toBe(400);
		expect(crossed.body.code).toBe("OAUTH_BROWSER_MISMATCH");
		const bare = await connect(userToken("mallory"));
		expect((await http("GET", bare.path)).body.code).toBe("OAUTH_BROWSER_MISMATCH");
		for (const sub of ["mallory", "victim"]) expect((await http("GET", "/api/integrations", { token: userToken(sub) })).body.rows).toEqual([]);
		// the state is spent either way: mallory's own browser cannot finish it afterwards
		expect((await http("GET", theirs.path, { headers: theirs.headers })).status).toBe(400);
	});

	it("connects with code + PKCE and keeps the tokens sealed, never showing them", async () => {
		expect((await http("POST", "/api/integrations/github/connect")).status).toBe(401);
		expect((await http("POST", "/api/integrations/notion/connect", { token: userToken("u1") })).status).toBe(404);
		const { path, headers } = await connect(userToken("u1"));
		const res = await http("GET", path, { headers });
		expect(res.status).toBe(201);
		expect(res.headers.get("location")).toBe("/api/integrations");
		expect(res.body).toEqual({
			id: expect.any(String),
			provider: "github",
			scope: "openid email",
			expiresAt: expect.any(String),
			createdAt: expect.any(String),
			updatedAt: expect.any(String),
		});
		expect(gh.redeemed.at(-1)).toEqual({ pkce: true, status: 200 });
		// the state is spent
		expect((await http("GET", path, { headers })).status).toBe(400);

		const list = await http("GET", "/api/integrations", { token: userToken("u1") });
		expect(list.body.rows.map((r: { id: string }) => r.id)).toEqual([res.body.id]);
		expect((await http("GET", "/api/integrations", { token: userToken("u2") })).body.rows).toEqual([]);

		const token = await accessToken(res.body.id);
		expect(gh.isValid(token)).toBe(true);
		const [row] = (await rowsOf()).filter(r => r.id === res.body.id);
		expect(JSON.stringify(row)).not.toContain(token);
		expect(new SecretBox(loadSecretKey(config()).key).open(row.accessTokenSealed as string)).toBe(token);
	});

	it("refreshes a token about to expire, once for simultaneous callers", async () => {
		gh.expiresIn = 30; // less than the refresh margin: the stored token counts as expiring
		const { path, headers } = await connect(userToken("u3"));
		const connection = (await http("GET", path, { headers })).body;
		const first = await accessToken(connection.id);
		gh.expiresIn = 3600;
		const before = gh.refreshes;
		const tokens = await Promise.all([accessToken(connection.id), accessToken(connection.id), accessToken(connection.id)]);
		expect(gh.refreshes - before).toBe(1);
		expect(new Set(tokens).size).toBe(1);
		expect(tokens[0]).not.toBe(first);
		expect(gh.isValid(tokens[0])).toBe(true);
		// fresh now: no further refresh
		expect(await accessToken(connection.id)).toBe(tokens[0]);
		expect(gh.refreshes - before).toBe(1);
	});

	it("disconnects: only the owner, and the tokens are revoked at the provider", async () => {
		gh.expiresIn = 3600;
		const { path, headers } = await connect(userToken("u4"));
		const connection = (await http("GET", path, { headers })).body;
		const token = await accessToken(connection.id);
		expect((await http("DELETE", `/api/integrations/${connection.id}`, { token: userToken("u5") })).status).toBe(404);
		expect((await http("DELETE", `/api/integrations/${connection.id}`, { token: userToken("u4") })).status).toBe(204);
		expect(gh.revoked).toContain(token);
		expect(gh.isValid(token)).toBe(false);
		expect((await http("GET", "/api/integrations", { token: userToken("u4") })).body.rows).toEqual([]);
	});

	it("takes GitHub webhooks signed with X-Hub-Signature-256 once per delivery, and refuses a bad signature storing nothing", async () => {
		const { path, headers } = await connect(userToken("u6"));
		const connection = (await http("GET", path, { headers })).body;
		const body = JSON.stringify({ action: "assigned", issue: { number: 7, title: "Fix the build" } });
		const sign = (raw: string, secret = WEBHOOK_SECRET) => `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`;
		const send = (raw: string, headers: Record<string, string>) =>
			http("POST", `/api/integrations/webhooks/github/${connection.id}`, {
				body: raw,
				headers: { "content-type": "application/json", "x-github-event": "issues", ...headers },
			});
		const stored = async () =>
			(p.broker.getLocalService("integrations") as unknown as { deliveries: { count(q: object): Promise<number> } }).deliveries.count({});
		const before = await stored();

		expect((await send(body, { "x-github-delivery": "d-1", "x-hub-signature-256": sign(body, "wrong-secret") })).status).toBe(401);
		expect((await send(body, { "x-github-delivery": "d-1" })).status).toBe(401);
		// the signature covers the raw bytes: the same JSON written differently does not pass
		expect(
			(await send(JSON.stringify(JSON.parse(body), null, 2), { "x-github-delivery": "d-1", "x-hub-signature-256": sign(body) })).status,
		).toBe(401);
		expect(await stored()).toBe(before);

		const ok = await send(body, { "x-github-delivery": "d-1", "x-hub-signature-256": sign(body) });
		expect(ok.status).toBe(202);
		await waitFor(() => heard.some(h => h.deliveryId === "d-1"), { what: "the delivery processed" });
		const again = await send(body, { "x-github-delivery": "d-1", "x-hub-signature-256": sign(body) });
		expect(again.status).toBe(200);
		expect(again.body.duplicate).toBe(true);
		expect(await stored()).toBe(before + 1);
		expect(heard.filter(h => h.deliveryId === "d-1")).toEqual([
			expect.objectContaining({ event: "issues", payload: expect.objectContaining({ action: "assigned" }) }),
		]);

		// an unknown connection is a 404 even when signed
		expect(
			(
				await http("POST", "/api/integrations/webhooks/github/nope", {
					body,
					headers: { "content-type": "application/json", "x-github-delivery": "d-2", "x-hub-signature-256": sign(body) },
				})
			).status,
		).toBe(404);
		// replay processes a stored delivery again (after a dead letter, say)
		await p.broker.call("integrations.replayWebhook", { id: ok.body.id });
		await waitFor(() => heard.filter(h => h.deliveryId === "d-1").length === 2, { what: "the replayed delivery" });
	});

	describe("GitHub issues assigned to the user become tasks", () => {
		const member = (sub: string) => p.token({ sub, tid: "team-gh", roles: ["member"] });
		const sign = (raw: string) => `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(raw).digest("hex")}`;
		const deliver = (connectionId: string, deliveryId: string, payload: object) => {
			const raw = JSON.stringify(payload);
			return http("POST", `/api/integrations/webhooks/github/${connectionId}`, {
				body: raw,
				headers: {
					"content-type": "application/json",
					"x-github-event": "issues",
					"x-github-delivery": deliveryId,
					"x-hub-signature-256": sign(raw),
				},
			});
		};
		type TaskView = { id: string; title: string; description: string; status: string; assigneeId: string | null };
		const tasksOf = async (sub: string): Promise<TaskView[]> => {
			const res = await http("GET", `/api/tasks?limit=100&assigneeId=${sub}`, { token: member(sub) });
			expect(res.status).toBe(200);
			return res.body.rows;
		};
		const connectIn = async (sub: string) =>
			(await (async c => http("GET", c.path, { headers: c.headers }))(await connect(member(sub)))).body as { id: string };

		it("creates one task per issue however often it is delivered, and follows edits, close and reopen", async () => {
			gh.expiresIn = 3600;
			const connection = await connectIn("gh-ana");
			const issue = { id: 9001, number: 12, title: "Fix the login page", body: "It 500s", state: "open" };
			expect((await deliver(connection.id, "i-1", { action: "assigned", issue })).status).toBe(202);
			await waitFor(async () => (await tasksOf("gh-ana")).length === 1, { what: "the mirrored task" });
			// the same delivery again (deduplicated) and another delivery of the same issue: still one task
			expect((await deliver(connection.id, "i-1", { action: "assigned", issue })).status).toBe(200);
			expect((await deliver(connection.id, "i-2", { action: "opened", issue })).status).toBe(202);
			await waitFor(() => heard.some(h => h.deliveryId === "i-2"), { what: "the second delivery processed" });
			const [task] = await tasksOf("gh-ana");
			expect(await tasksOf("gh-ana")).toHaveLength(1);
			expect(task).toMatchObject({ title: "Fix the login page", description: "It 500s", status: "todo", assigneeId: "gh-ana" });

			await deliver(connection.id, "i-3", { action: "edited", issue: { ...issue, title: "Fix the login page (Safari)", body: "Only Safari" } });
			await waitFor(async () => (await tasksOf("gh-ana"))[0]?.title === "Fix the login page (Safari)", { what: "the edit" });
			expect((await tasksOf("gh-ana"))[0].description).toBe("Only Safari");

			await deliver(connection.id, "i-4", { action: "closed", issue: { ...issue, state: "closed" } });
			await waitFor(async () => (await tasksOf("gh-ana"))[0]?.status === "done", { what: "closed → done" });
			await deliver(connection.id, "i-5", { action: "reopened", issue: { ...issue, state: "open" } });
			await waitFor(async () => (await tasksOf("gh-ana"))[0]?.status === "todo", { what: "reopened → todo" });
			expect((await tasksOf("gh-ana")).map(t => t.id)).toEqual([task.id]);
			// another tenant sees none of it
			expect((await http("GET", "/api/tasks", { token: p.token({ sub: "gh-ana", tid: "team-other", roles: ["member"] }) })).body.rows).toEqual(
				[],
			);
		});

		it("initial sync pages the assigned issues (waiting out a 429's Retry-After) and never duplicates on a second run", async () => {
			const connection = await connectIn("gh-ben");
			gh.issues = [
				{ id: 1, title: "One", body: "first", state: "open" },
				{ id: 2, title: "Two", body: null, state: "closed" },
				{ id: 3, title: "A pull request", body: null, state: "open", pull_request: {} },
				{ id: 4, title: "Four", body: "", state: "open" },
			];
			gh.apiFailures = [{ status: 429, retryAfter: "1" }];
			const hits = gh.issueHits;
			expect((await http("POST", `/api/integrations/${connection.id}/sync`, { token: member("gh-eve") })).status).toBe(404);
			const res = await http("POST", `/api/integrations/${connection.id}/sync`, { token: member("gh-ben") });
			expect(res.status).toBe(200);
			expect(res.body).toEqual({ created: 3, updated: 0, skipped: 1, closed: 0 });
			expect(gh.issueHits - hits).toBe(3); // the 429, then two pages of two
			const byTitle = Object.fromEntries((await tasksOf("gh-ben")).map(t => [t.title, t.status]));
			expect(byTitle).toEqual({ One: "todo", Two: "done", Four: "todo" });

			gh.issues[0] = { ...gh.issues[0], state: "closed" };
			const again = await http("POST", `/api/integrations/${connection.id}/sync`, { token: member("gh-ben") });
			expect(again.body).toEqual({ created: 0, updated: 3, skipped: 1, closed: 0 });
			expect(await tasksOf("gh-ben")).toHaveLength(3);
			expect((await tasksOf("gh-ben")).find(t => t.title === "One")?.status).toBe("done");
		});
	});

	it("retries a provider's 5xx (honouring Retry-After), gives up on a long Retry-After, and stops calling a provider that keeps failing", async () => {
		gh.expiresIn = 30; // every stored token counts as expiring: each accessToken call refreshes
		const { path, headers } = await connect(userToken("u7"));
		const connection = (await http("GET", path, { headers })).body;
		const refreshed = gh.refreshes;
		gh.failures = [{ status: 503, retryAfter: "0" }, { status: 500 }];
		expect(gh.isValid(await accessToken(connection.id))).toBe(true);
		expect(gh.refreshes).toBe(refreshed + 1);

		// a Retry-After longer than we wait: no second attempt, the caller hears 502 at once
		gh.failures = [{ status: 429, retryAfter: "120" }];
		const hits = gh.tokenHits;
		await expect(accessToken(connection.id)).rejects.toMatchObject({ code: 502, type: "INTEGRATION_PROVIDER_FAILED" });
		expect(gh.tokenHits).toBe(hits + 1);

		// down for good: after the breaker's threshold of failed calls, calls fail fast without reaching it
		gh.failures = Array.from({ length: 100 }, () => ({ status: 503, retryAfter: "0" }));
		for (let i = 0; i < 4; i++) await expect(accessToken(connection.id)).rejects.toMatchObject({ code: 502 });
		const beforeOpen = gh.tokenHits;
		await expect(accessToken(connection.id)).rejects.toMatchObject({ code: 502 });
		expect(gh.tokenHits).toBe(beforeOpen);
		gh.failures = [];
	});
});
