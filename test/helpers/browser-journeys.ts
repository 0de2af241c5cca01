/**
 * Steps the domain journeys share (test/browser/{social,tasks,commerce}.test.ts): an account made over the
 * API, signing in through the app's own form, reaching a control with the keyboard only.
 */
import type { Locator, Page } from "playwright-core";
import type { BrowserHarness } from "./browser";

export const PASSWORD = "correct horse battery staple";

/** Registers over the public API; answers the token response (user id, tokens). */
export async function registerUser(b: BrowserHarness, name: string, email: string): Promise<{ user: { id: string }; accessToken: string }> {
	const res = await b.platform().http("POST", "/api/auth/register", { body: { name, email, password: PASSWORD } });
	if (res.status !== 201 && res.status !== 200) throw new Error(`register ${email}: ${res.status} ${JSON.stringify(res.body)}`);
	return res.body;
}

/** Signs in through the app's sign-in screen and waits for the shell. */
export async function signIn(b: BrowserHarness, page: Page, email: string, next = "/"): Promise<void> {
	await page.goto(b.url(`/#/signin${next === "/" ? "" : `?next=${encodeURIComponent(next)}`}`));
	await page.getByLabel("E-mail").fill(email);
	await page.getByLabel("Password").fill(PASSWORD);
	await page.getByRole("button", { name: "Sign in" }).click();
	await page.getByRole("navigation", { name: "Main" }).waitFor();
}

/** Presses Tab until `target` has the focus (fails after `max` presses): the control is reachable by keyboard. */
export async function tabTo(page: Page, target: Locator, max = 80): Promise<void> {
	const handle = await target.elementHandle();
	if (!handle) throw new Error("tabTo: no such element");
	for (let i = 0; i < max; i++) {
		await page.keyboard.press("Tab");
		if (await handle.evaluate(el => el === el.ownerDocument.activeElement)) return;
	}
	throw new Error(`tabTo: not reached with ${max} presses of Tab`);
}

/** Switches the organisation with the switcher in the top bar (as a keyboard user can: it is a select). */
export async function chooseTenant(page: Page, name: string): Promise<void> {
	const select = page.getByLabel("Organisation");
	const value = await select.locator("option", { hasText: name }).getAttribute("value");
	await select.selectOption(value!);
	await page.locator(`#tenant-switcher:not([disabled])`).waitFor();
	await page.waitForFunction(v => (globalThis as any).document.getElementById("tenant-switcher")?.value === v, value);
}

/** Follows a link of the main menu. */
export async function menu(page: Page, label: string): Promise<void> {
	await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label, exact: true }).click();
}

/**
 * Opens a screen from the main menu with the keyboard only: from the top of the page, Tab to its link,
 * Enter; the focus then moves to the screen's content (the shell's `main`), where reading goes on.
 */
export async function openWithKeyboard(page: Page, label: string): Promise<void> {
	await page.evaluate("document.activeElement && document.activeElement.blur()");
	await tabTo(page, page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label, exact: true }));
	await page.keyboard.press("Enter");
	// a function, not a string: the page's CSP refuses the eval a string predicate needs while it polls
	await page.waitForFunction(() => (globalThis as any).document.activeElement?.id === "main");
}
