/**
 * Sign-in journeys in Chromium (README, "Web app"): register, sign out, sign in again, errors shown next to
 * their fields; forgot password, then the e-mail's link (`/reset-password?token=…`) sets a new one; sign in
 * with a provider (a fake OpenID Connect issuer): the provider's redirect back lands in the app, which
 * signs in with the callback's token response.
 */
import type { Context } from "moleculer";
import { describeBrowser, freePort, useBrowser } from "../helpers/browser";
import { startFakeProvider, type FakeProvider } from "../helpers/fake-oauth-provider";
import { waitFor } from "../helpers/wait";

jest.setTimeout(60_000);

const PASSWORD = "correct horse battery staple";

describeBrowser("web app: sign-in journeys", () => {
	let provider: FakeProvider;
	/** what the platform's mailer would receive: the `notifications.passwordReset` messages (a reference, not the token) */
	const resets: { email: string; resetId: string }[] = [];
	const b = useBrowser(async () => {
		provider = await startFakeProvider("oidc");
		// the provider sends the browser back to APP_URL: the platform's address must be known before it starts
		const port = await freePort();
		return {
			services: ["identity"],
			env: {
				PASSWORD_SCRYPT_N: "1024",
				PORT: String(port),
				APP_URL: `http://127.0.0.1:${port}`,
				OAUTH_PROVIDERS: JSON.stringify({ acme: provider.config() }),
			},
			extra: [
				{
					name: "mailbox",
					channels: {
						"notifications.passwordReset": {
							group: "test-mailbox",
							handler(ctx: Context<{ email: string; resetId: string }>) {
								resets.push({ email: ctx.params.email, resetId: ctx.params.resetId });
							},
						},
					},
				},
			],
		};
	});
	afterAll(() => provider?.stop());

	it("registers, signs out and signs in again", async () => {
		const page = await b.page();
		await page.goto(b.url("/"));
		await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
		await b.screenshot(page, "signin");
		expect(await b.axe(page)).toEqual([]);

		await page.getByRole("link", { name: "Create an account" }).click();
		await page.getByRole("heading", { name: "Create an account" }).waitFor();
		await page.getByLabel("Name").fill("Ada Lovelace");
		await page.getByLabel("E-mail").fill("ada@example.com");
		// a password the API refuses: its reason is shown next to the field
		await page.getByLabel("Password").fill("short");
		await page.getByRole("button", { name: "Create account" }).click();
		const fieldError = page.locator(".field-invalid", { has: page.getByLabel("Password") }).locator(".field-error");
		await fieldError.waitFor();
		expect(await fieldError.textContent()).toMatch(/at least 10 characters/);
		expect(await page.getByLabel("Password").getAttribute("aria-invalid")).toBe("true");
		await b.screenshot(page, "register-error");
		expect(await b.axe(page)).toEqual([]);

		await page.getByLabel("Password").fill(PASSWORD);
		await page.getByRole("button", { name: "Create account" }).click();
		await page.getByRole("heading", { name: "Organisations" }).waitFor();
		expect(await page.getByText("Ada Lovelace").count()).toBeGreaterThan(0);

		await page.getByRole("button", { name: "Sign out" }).click();
		await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor();

		await page.getByLabel("E-mail").fill("ada@example.com");
		await page.getByLabel("Password").fill("not the password");
		await page.getByRole("button", { name: "Sign in", exact: true }).click();
		const banner = page.locator(".banner-error");
		await banner.waitFor();
		expect(await banner.getAttribute("data-code")).toBe("INVALID_CREDENTIALS");

		await page.getByLabel("Password").fill(PASSWORD);
		await page.getByRole("button", { name: "Sign in", exact: true }).click();
		await page.getByRole("heading", { name: "Organisations" }).waitFor();
	});

	it("sends a reset link for a forgotten password; the link sets a new one", async () => {
		const p = b.platform();
		await p.http("POST", "/api/auth/register", { body: { email: "emmy@example.com", password: PASSWORD, name: "Emmy Noether" } });
		const page = await b.page();
		await page.goto(b.url("/#/signin"));
		await page.getByRole("link", { name: "Forgot your password?" }).click();
		await page.getByLabel("E-mail").fill("emmy@example.com");
		await page.getByRole("button", { name: "Send the link" }).click();
		await page.getByText("If emmy@example.com has an account, an e-mail with a link").waitFor();
		await b.screenshot(page, "forgot-password");
		expect(await b.axe(page)).toEqual([]);

		// the link of the e-mail, as the mailer builds it (services/platform/late-variables.ts)
		const reset = await waitFor(() => resets[0], { what: "the reset message" });
		const link = (await p.broker.call("auth.passwordResetLink", { resetId: reset.resetId })) as { token: string };
		await page.goto(b.url(`/reset-password?token=${encodeURIComponent(link.token)}`));
		await page.getByRole("heading", { name: "Choose a new password" }).waitFor();
		await page.getByLabel("New password").fill("a brand new passphrase");
		await page.getByRole("button", { name: "Set the password" }).click();
		await page.getByText("Your password is changed").waitFor();
		// the token does not stay in the address bar (nor in the history)
		expect(page.url()).not.toContain(link.token);
		await b.screenshot(page, "reset-password");

		// the link works once
		await page.goto(b.url(`/reset-password?token=${encodeURIComponent(link.token)}`));
		await page.getByLabel("New password").fill("yet another passphrase");
		await page.getByRole("button", { name: "Set the password" }).click();
		await page.getByText("This link was used already or has expired.").waitFor();

		await page.goto(b.url("/#/signin"));
		await page.getByLabel("E-mail").fill("emmy@example.com");
		await page.getByLabel("Password").fill("a brand new passphrase");
		await page.getByRole("button", { name: "Sign in", exact: true }).click();
		await page.getByRole("heading", { name: "Organisations" }).waitFor();
	});

	it("signs in with a configured provider", async () => {
		provider.next = { sub: "acme-kate", email: "kate@example.com", email_verified: true, name: "Katherine Johnson" };
		const page = await b.page();
		await page.goto(b.url("/#/signin"));
		const button = page.getByRole("link", { name: "Acme" });
		await button.waitFor();
		await button.click();
		// provider → callback (served as the app to the browser) → the app redeems it and signs in
		await page.getByRole("heading", { name: "Organisations" }).waitFor();
		expect(await page.getByText("Katherine Johnson").count()).toBeGreaterThan(0);
		expect(provider.redeemed.at(-1)).toEqual({ pkce: true, status: 200 });
		expect(new URL(page.url()).pathname).toBe("/");
		const me = await b.platform().http("GET", "/api/auth/oauth/accounts", {
			token: ((await page.evaluate("JSON.parse(localStorage.getItem('valence.tokens'))")) as { accessToken: string }).accessToken,
		});
		expect(me.body.rows).toEqual([expect.objectContaining({ provider: "acme", subject: "acme-kate" })]);
	});
});
