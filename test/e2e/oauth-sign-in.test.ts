/**
 * Signing in with a provider through the real gateway, against a fake OpenID Connect issuer and a fake
 * GitHub-style provider started here: the full code + PKCE flow, the refusals (state replayed or foreign,
 * wrong nonce, wrong audience, foreign signature, expired code) that create no user, and the linking rules.
 */
import { startFakeProvider, type FakeIdentity, type FakeProvider } from "../helpers/fake-oauth-provider";
import { startPlatform, type HttpResult, type Platform } from "../helpers/platform";

const PASSWORD = "correct-horse-42";

describe("oauth: sign in with a provider", () => {
	let p: Platform;
	let oidc: FakeProvider;
	let github: FakeProvider;
	/**
	 * The browser: keeps the flow cookie a start or link answer sets, and sends it back to /api/auth/oauth/*
	 * as a browser does (Path=/api/auth/oauth).
	 */
	let flowCookie: string | null = null;
	const keepCookie = (headers: Headers) => {
		const set = headers.get("set-cookie");
		if (set?.startsWith("valence_oauth_flow=")) {
			expect(set).toMatch(/; HttpOnly/);
			expect(set).toMatch(/; SameSite=Lax/);
			const value = set.split(";")[0];
			flowCookie = value === "valence_oauth_flow=" ? null : value;
		}
	};
	const http: Platform["http"] = async (method, path, opts) => {
		const cookie: Record<string, string> = flowCookie && path.startsWith("/api/auth/oauth/") ? { cookie: flowCookie } : {};
		const res = await p.http(method, path, { ...opts, headers: { ...cookie, ...opts?.headers } });
		keepCookie(res.headers);
		return res;
	};
	const userIdOf = async (email: string) => ((await p.broker.call("auth.userIdByEmail", { email })) as { userId: string | null }).userId;

	/** Start → the provider's authorize (which signs in `who`) → the callback URL it sends the browser back to. */
	async function authorize(provider: string, fake: FakeProvider, who: FakeIdentity, start?: string): Promise<string> {
		fake.next = who;
		let location = start;
		if (!location) {
			const res = await fetch(`${p.baseUrl}/api/auth/oauth/${provider}/start`, { redirect: "manual" });
			expect(res.status).toBe(302);
			keepCookie(res.headers);
			location = res.headers.get("location")!;
		}
		const url = new URL(location);
		expect(url.searchParams.get("code_challenge_method")).toBe("S256");
		expect(url.searchParams.get("state")).toBeTruthy();
		if (fake.kind === "oidc") expect(url.searchParams.get("nonce")).toBeTruthy();
		const back = await fetch(url, { redirect: "manual" });
		expect(back.status).toBe(302);
		const cb = new URL(back.headers.get("location")!);
		expect(cb.pathname).toBe(`/api/auth/oauth/${provider}/callback`);
		return cb.pathname + cb.search;
	}
	const signIn = async (provider: string, fake: FakeProvider, who: FakeIdentity): Promise<HttpResult> =>
		http("GET", await authorize(provider, fake, who));

	beforeAll(async () => {
		[oidc, github] = await Promise.all([startFakeProvider("oidc"), startFakeProvider("oauth2")]);
		p = await startPlatform({
			services: ["auth", "tenants", "users", "oauthsignin"],
			env: { PASSWORD_SCRYPT_N: "1024", OAUTH_PROVIDERS: JSON.stringify({ acme: oidc.config(), github: github.config() }) },
		});
	});
	afterAll(async () => {
		await p.stop();
		await Promise.all([oidc.stop(), github.stop()]);
	});
	beforeEach(() => {
		oidc.tamper = {};
		github.tamper = {};
	});

	it("signs in with OpenID Connect (code + PKCE verified by the provider): a new user, then the same user, answered like /api/auth/login", async () => {
		const first = await signIn("acme", oidc, { sub: "oidc-ann", email: "ann@example.com", email_verified: true, name: "Ann" });
		expect(first.status).toBe(201);
		expect(first.headers.get("location")).toBe("/api/auth/me");
		expect(first.body).toMatchObject({
			user: { id: expect.any(String), name: "Ann", email: "ann@example.com" },
			tokenType: "Bearer",
			expiresIn: 900,
			tenantId: null,
			roles: [],
		});
		expect(first.body.refreshToken).toMatch(/^[\w-]{43}$/);
		expect(oidc.redeemed.at(-1)).toEqual({ pkce: true, status: 200 });
		const me = await http("GET", "/api/auth/me", { token: first.body.accessToken });
		expect(me.status).toBe(200);
		expect(me.body.user.id).toBe(first.body.user.id);
		// the refresh token works like any other
		expect((await http("POST", "/api/auth/refresh", { body: { refreshToken: first.body.refreshToken } })).status).toBe(200);

		const again = await signIn("acme", oidc, { sub: "oidc-ann", email: "ann@example.com", email_verified: true, name: "Ann" });
		expect(again.status).toBe(200);
		expect(again.body.user.id).toBe(first.body.user.id);
		const accounts = await http("GET", "/api/auth/oauth/accounts", { token: again.body.accessToken });
		expect(accounts.body.rows).toEqual([
			expect.objectContaining({ provider: "acme", subject: "oidc-ann", email: "ann@example.com", emailVerified: true }),
		]);
	});

	it("refuses a replayed, foreign or unknown state with 400 and signs nobody in", async () => {
		const callback = await authorize("acme", oidc, { sub: "oidc-bo", email: "bo@example.com", email_verified: true });
		expect((await http("GET", callback)).status).toBe(201);
		const replay = await http("GET", callback);
		expect(replay.status).toBe(400);
		expect(replay.body.code).toBe("OAUTH_STATE_INVALID");

		const forAcme = await authorize("acme", oidc, { sub: "oidc-cy", email: "cy@example.com", email_verified: true });
		const foreign = await http("GET", forAcme.replace("/acme/", "/github/"));
		expect(foreign.status).toBe(400);
		expect(foreign.body.code).toBe("OAUTH_STATE_INVALID");
		expect((await http("GET", "/api/auth/oauth/acme/callback?code=abc&state=never-issued")).status).toBe(400);
		expect((await http("GET", "/api/auth/oauth/acme/callback?code=abc")).status).toBe(400);
		expect(await userIdOf("cy@example.com")).toBeNull();
		expect((await http("GET", "/api/auth/oauth/nowhere/start")).status).toBe(404);
	});

	it.each([
		["a wrong nonce", { nonce: "not-the-one-we-sent" }],
		["an ID token for another audience", { aud: "someone-else" }],
		["an ID token signed by a key the provider's JWKS does not publish", { foreignKey: true }],
		["an expired code", { expiredCodes: true }],
	])("refuses %s with 401 and creates no user", async (_what, tamper) => {
		const email = `t${Math.random().toString(36).slice(2)}@example.com`;
		oidc.tamper = tamper;
		const res = await signIn("acme", oidc, { sub: `oidc-${email}`, email, email_verified: true });
		expect(res.status).toBe(401);
		expect(res.body.code).toBe("OAUTH_SIGN_IN_FAILED");
		expect(await userIdOf(email)).toBeNull();
	});

	it("links by a verified e-mail only, never by an unverified one", async () => {
		const reg = await http("POST", "/api/auth/register", { body: { email: "dee@example.com", password: PASSWORD, name: "Dee" } });
		expect(reg.status).toBe(201);
		const unverified = await signIn("github", github, { sub: "101", email: "dee@example.com", email_verified: false, name: "dee" });
		expect(unverified.status).toBe(409);
		expect(unverified.body.code).toBe("OAUTH_EMAIL_UNVERIFIED");
		expect((await http("GET", "/api/auth/oauth/accounts", { token: reg.body.accessToken })).body.rows).toEqual([]);
		// an unverified address nobody has makes no user either
		const stranger = await signIn("github", github, { sub: "102", email: "nobody@example.com", email_verified: false });
		expect(stranger.status).toBe(409);
		expect(await userIdOf("nobody@example.com")).toBeNull();

		const verified = await signIn("github", github, { sub: "101", email: "dee@example.com", email_verified: true, name: "dee" });
		expect(verified.status).toBe(200);
		expect(verified.body.user.id).toBe(reg.body.user.id);
		// from now on the provider account signs Dee in whatever address it shows
		const later = await signIn("github", github, { sub: "101", email: "other@example.com", email_verified: false });
		expect(later.body.user.id).toBe(reg.body.user.id);
	});

	it("links a second provider while signed in, refuses an account another user has, and never unlinks the last way in", async () => {
		const eve = await signIn("acme", oidc, { sub: "oidc-eve", email: "eve@example.com", email_verified: true, name: "Eve" });
		expect(eve.status).toBe(201);
		const token = eve.body.accessToken;
		const only = (await http("GET", "/api/auth/oauth/accounts", { token })).body.rows[0];
		// no password, one provider: unlinking would lock Eve out
		const last = await http("DELETE", `/api/auth/oauth/accounts/${only.id}`, { token });
		expect(last.status).toBe(409);
		expect(last.body.code).toBe("LAST_SIGN_IN_METHOD");

		expect((await http("POST", "/api/auth/oauth/github/link")).status).toBe(401);
		const link = await http("POST", "/api/auth/oauth/github/link", { token });
		expect(link.status).toBe(200);
		// GitHub shows no verified address: linking while signed in does not need one
		const linked = await http("GET", await authorize("github", github, { sub: "201", name: "eve-gh" }, link.body.authorizationUrl));
		expect(linked.status).toBe(200);
		expect(linked.body.linked).toMatchObject({ provider: "github", subject: "201", userId: eve.body.user.id });
		expect((await signIn("github", github, { sub: "201" })).body.user.id).toBe(eve.body.user.id);

		// Dee's GitHub account (101) is Dee's: Eve cannot take it
		const taken = await http(
			"GET",
			await authorize("github", github, { sub: "101" }, (await http("POST", "/api/auth/oauth/github/link", { token })).body.authorizationUrl),
		);
		expect(taken.status).toBe(409);
		expect(taken.body.code).toBe("OAUTH_ACCOUNT_IN_USE");

		// someone else's account id is a 404; with two ways in, one may go
		const rows = (await http("GET", "/api/auth/oauth/accounts", { token })).body.rows;
		expect(rows.map((r: { provider: string }) => r.provider).sort()).toEqual(["acme", "github"]);
		const dee = await http("POST", "/api/auth/login", { body: { email: "dee@example.com", password: PASSWORD } });
		expect((await http("DELETE", `/api/auth/oauth/accounts/${rows[0].id}`, { token: dee.body.accessToken })).status).toBe(404);
		expect((await http("DELETE", `/api/auth/oauth/accounts/${only.id}`, { token })).status).toBe(204);
		expect((await http("GET", "/api/auth/oauth/accounts", { token })).body.rows.map((r: { provider: string }) => r.provider)).toEqual(["github"]);
	});
});
