/**
 * Connecting a third-party account through the real gateway, against a fake GitHub-style provider
 * started here: code + PKCE, tokens sealed at rest, refresh before expiry (one refresh at a time), and
 * disconnect revoking at the provider.
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

	/** connect → the provider's authorize → our callback (the browser carries no token back) */
	async function connect(token: string): Promise<{ path: string }> {
		const start = await http("POST", "/api/integrations/github/connect", { token });
		expect(start.status).toBe(200);
		const url = new URL(start.body.authorizationUrl);
		expect(url.searchParams.get("code_challenge_method")).toBe("S256");
		const back = await fetch(url, { redirect: "manual" });
		const cb = new URL(back.headers.get("location")!);
		expect(cb.pathname).toBe("/api/integrations/github/callback");
		return { path: cb.pathname + cb.search };
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
			},
		};
		p = await startPlatform({ services: ["integrations"], extra: [Listener], env: { INTEGRATION_PROVIDERS: JSON.stringify(integrations) } });
	});
	afterAll(async () => {
		await p.stop();
		await gh.stop();
	});

	it("connects with code + PKCE and keeps the tokens sealed, never showing them", async () => {
		expect((await http("POST", "/api/integrations/github/connect")).status).toBe(401);
		expect((await http("POST", "/api/integrations/notion/connect", { token: userToken("u1") })).status).toBe(404);
		const { path } = await connect(userToken("u1"));
		const res = await http("GET", path);
		expect(res.status).toBe(201);
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
		expect((await http("GET", path)).status).toBe(400);

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
		const { path } = await connect(userToken("u3"));
		const connection = (await http("GET", path)).body;
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
		const { path } = await connect(userToken("u4"));
		const connection = (await http("GET", path)).body;
		const token = await accessToken(connection.id);
		expect((await http("DELETE", `/api/integrations/${connection.id}`, { token: userToken("u5") })).status).toBe(404);
		expect((await http("DELETE", `/api/integrations/${connection.id}`, { token: userToken("u4") })).status).toBe(204);
		expect(gh.revoked).toContain(token);
		expect(gh.isValid(token)).toBe(false);
		expect((await http("GET", "/api/integrations", { token: userToken("u4") })).body.rows).toEqual([]);
	});

	it("takes GitHub webhooks signed with X-Hub-Signature-256 once per delivery, and refuses a bad signature storing nothing", async () => {
		const { path } = await connect(userToken("u6"));
		const connection = (await http("GET", path)).body;
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

	it("retries a provider's 5xx (honouring Retry-After), gives up on a long Retry-After, and stops calling a provider that keeps failing", async () => {
		gh.expiresIn = 30; // every stored token counts as expiring: each accessToken call refreshes
		const { path } = await connect(userToken("u7"));
		const connection = (await http("GET", path)).body;
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
