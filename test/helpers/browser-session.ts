/**
 * A signed-in page for the domain-screen browser tests: a user registered over HTTP with an organisation
 * of their own, signed in through the sign-in screen and scoped to the organisation with the switcher
 * (as a person would), and that tenant-scoped access token for setting things up over the API.
 */
import type { Page } from "playwright-core";
import type { BrowserHarness } from "./browser";

export const BROWSER_PASSWORD = "correct horse battery staple";

export interface SignedInPage {
	page: Page;
	userId: string;
	tenantId: string;
	/** the page's current access token (scoped to the tenant) */
	token(): Promise<string>;
}

export async function signedInPage(b: BrowserHarness, who: { name: string; email: string; slug: string }): Promise<SignedInPage> {
	const p = b.platform();
	const reg = await p.http("POST", "/api/auth/register", { body: { name: who.name, email: who.email, password: BROWSER_PASSWORD } });
	if (reg.status !== 201) throw new Error(`register answered ${reg.status}: ${JSON.stringify(reg.body)}`);
	const tenant = await p.http("POST", "/api/tenants", { token: reg.body.accessToken, body: { name: `${who.name}'s shop`, slug: who.slug } });
	if (tenant.status !== 201) throw new Error(`create tenant answered ${tenant.status}: ${JSON.stringify(tenant.body)}`);
	const page = await b.page();
	await page.goto(b.url("/"));
	await page.getByLabel("E-mail").fill(who.email);
	await page.getByLabel("Password").fill(BROWSER_PASSWORD);
	await page.getByRole("button", { name: "Sign in" }).click();
	await page.getByRole("heading", { name: "Organisations" }).waitFor();
	const switcher = page.getByLabel("Organisation", { exact: true });
	if ((await switcher.inputValue()) !== tenant.body.id) await switcher.selectOption(tenant.body.id);
	// the switch is done when the token the page holds is scoped to the tenant
	await page.waitForFunction(tid => {
		const raw = JSON.parse(localStorage.getItem("valence.tokens") ?? "null") as { accessToken: string } | null;
		if (!raw) return false;
		const body = raw.accessToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
		return JSON.parse(atob(body)).tid === tid;
	}, tenant.body.id);
	await page.locator(`#tenant-switcher:not([disabled])`).waitFor();
	return {
		page,
		userId: reg.body.user.id,
		tenantId: tenant.body.id,
		token: () => page.evaluate(() => (JSON.parse(localStorage.getItem("valence.tokens")!) as { accessToken: string }).accessToken),
	};
}
