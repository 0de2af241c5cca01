/**
 * The OAuth endpoints (/oauth/token, /oauth/revoke, /oauth/introspect) and the integrations' inbound
 * webhooks have limits of their own per client address (OAUTH_ENDPOINT_RATE_*, INTEGRATION_WEBHOOK_RATE_*):
 * over it, 429 problem+json with Retry-After; each endpoint counts on its own. Its own platform, small limits.
 */
import { startPlatform, type Platform } from "../helpers/platform";

describe("oauth and webhooks: per-address rate limits", () => {
	let p: Platform;
	const form = (path: string, fields: Record<string, string>) =>
		p.http("POST", path, { body: new URLSearchParams(fields).toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });

	beforeAll(async () => {
		const integrations = {
			github: {
				authorizationEndpoint: "http://127.0.0.1:9/authorize",
				tokenEndpoint: "http://127.0.0.1:9/token",
				clientId: "c",
				webhookSecret: "whsec",
			},
		};
		p = await startPlatform({
			services: ["auth", "users", "tenants", "oauth", "integrations"],
			env: {
				PASSWORD_SCRYPT_N: "1024",
				OAUTH_ENDPOINT_RATE_MAX: "3",
				OAUTH_ENDPOINT_RATE_WINDOW_S: "60",
				INTEGRATION_WEBHOOK_RATE_MAX: "2",
				INTEGRATION_WEBHOOK_RATE_WINDOW_S: "60",
				INTEGRATION_PROVIDERS: JSON.stringify(integrations),
			},
		});
	});
	afterAll(() => p.stop());

	it("/oauth/token: the limit's requests get their RFC answers, the next is 429 problem+json with Retry-After", async () => {
		for (let i = 0; i < 3; i++) {
			const res = await form("/oauth/token", { grant_type: "client_credentials", client_id: "vc_nobody", client_secret: "x" });
			expect(res.status).toBe(401);
			expect(res.body.error).toBe("invalid_client");
			expect(res.headers.get("ratelimit-remaining")).toBe(String(2 - i));
		}
		const over = await form("/oauth/token", { grant_type: "client_credentials", client_id: "vc_nobody", client_secret: "x" });
		expect(over.status).toBe(429);
		expect(over.headers.get("content-type")).toMatch(/^application\/problem\+json/);
		expect(over.body.code).toBe("RATE_LIMITED");
		expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
		// the other endpoints count on their own
		expect((await form("/oauth/introspect", { token: "x" })).status).not.toBe(429);
	});

	it("/oauth/revoke has its limit too", async () => {
		const statuses: number[] = [];
		for (let i = 0; i < 4; i++) statuses.push((await form("/oauth/revoke", { token: "x" })).status);
		expect(statuses.slice(0, 3)).not.toContain(429);
		expect(statuses[3]).toBe(429);
	});

	it("webhooks: per sending address; over the limit 429 with Retry-After, before any signature work", async () => {
		const send = () =>
			p.http("POST", "/api/integrations/webhooks/github/conn-1", {
				body: "{}",
				headers: { "content-type": "application/json", "x-hub-signature-256": "sha256=00", "x-github-delivery": "d1" },
			});
		expect((await send()).status).toBe(401);
		expect((await send()).status).toBe(401);
		const over = await send();
		expect(over.status).toBe(429);
		expect(over.body.code).toBe("RATE_LIMITED");
		expect(Number(over.headers.get("retry-after"))).toBeGreaterThan(0);
	});
});
