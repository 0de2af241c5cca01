/**
 * The sign-in `state` is bound to the browser that started the flow: a callback without the flow cookie
 * the start set (someone else's sign-in link: login CSRF), or with another flow's, is refused and signs
 * nobody in. Its own platform: the callback's per-address rate limit is shared with oauth-sign-in.test.ts otherwise.
 */
import { startFakeProvider, type FakeProvider } from "../helpers/fake-oauth-provider";
import { startPlatform, type Platform } from "../helpers/platform";

describe("oauth: a sign-in comes back to the browser that started it", () => {
	let p: Platform;
	let oidc: FakeProvider;
	const userIdOf = async (email: string) => ((await p.broker.call("auth.userIdByEmail", { email })) as { userId: string | null }).userId;

	/** Start (what the browser keeps: the flow cookie) → the provider signs in `sub` → our callback path. */
	async function start(sub: string, email: string): Promise<{ callback: string; cookie: string }> {
		oidc.next = { sub, email, email_verified: true };
		const res = await fetch(`${p.baseUrl}/api/auth/oauth/acme/start`, { redirect: "manual" });
		expect(res.status).toBe(302);
		const set = res.headers.get("set-cookie")!;
		expect(set).toMatch(/^valence_oauth_flow=[\w-]{40,}; Path=\/api\/auth\/oauth; Max-Age=600; HttpOnly; SameSite=Lax$/);
		const back = await fetch(res.headers.get("location")!, { redirect: "manual" });
		const cb = new URL(back.headers.get("location")!);
		return { callback: cb.pathname + cb.search, cookie: set.split(";")[0] };
	}

	beforeAll(async () => {
		oidc = await startFakeProvider("oidc");
		p = await startPlatform({
			services: ["auth", "tenants", "users", "oauthsignin"],
			env: { PASSWORD_SCRYPT_N: "1024", OAUTH_PROVIDERS: JSON.stringify({ acme: oidc.config() }) },
		});
	});
	afterAll(async () => {
		await p.stop();
		await oidc.stop();
	});

	it("refuses a callback without the flow cookie, creating no user", async () => {
		const theirs = await start("oidc-mal", "mal@example.com");
		const res = await p.http("GET", theirs.callback);
		expect(res.status).toBe(400);
		expect(res.body.code).toBe("OAUTH_BROWSER_MISMATCH");
		expect(await userIdOf("mal@example.com")).toBeNull();
		// the flow is spent: the cookie that belonged to it does not revive it
		expect((await p.http("GET", theirs.callback, { headers: { cookie: theirs.cookie } })).status).toBe(400);
	});

	it("refuses a callback carrying another flow's cookie; each flow completes with its own", async () => {
		const other = await start("oidc-mal2", "mal2@example.com");
		const mine = await start("oidc-dot", "dot@example.com");
		expect(mine.cookie).not.toBe(other.cookie);
		const crossed = await p.http("GET", other.callback, { headers: { cookie: `theme=dark; ${mine.cookie}` } });
		expect(crossed.status).toBe(400);
		expect(crossed.body.code).toBe("OAUTH_BROWSER_MISMATCH");
		expect(await userIdOf("mal2@example.com")).toBeNull();

		const ok = await p.http("GET", mine.callback, { headers: { cookie: `theme=dark; ${mine.cookie}` } });
		expect(ok.status).toBe(201);
		expect(ok.body.user).toMatchObject({ email: "dot@example.com" });
		// the cookie is cleared once used
		expect(ok.headers.get("set-cookie")).toMatch(/^valence_oauth_flow=; Path=\/api\/auth\/oauth; Max-Age=0/);
	});
});
