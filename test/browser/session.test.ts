/**
 * Sessions in Chromium (README, "Web app"): an access token that expires while the app is open is refreshed
 * without a word to the user, once for concurrent calls, whether the app sees the expiry coming or the
 * gateway answers `401 TOKEN_EXPIRED`; "sign out everywhere else" ends another device's session; the
 * organisation switcher; the main screens reached with the keyboard alone.
 */
import type { Page } from "playwright-core";
import { describeBrowser, useBrowser } from "../helpers/browser";
import { waitFor } from "../helpers/wait";

jest.setTimeout(90_000);

const PASSWORD = "correct horse battery staple";
const TTL_S = 2;

describeBrowser("web app: sessions", () => {
	const b = useBrowser({ services: ["identity", "jobs", "scheduler"], env: { PASSWORD_SCRYPT_N: "1024", JWT_ACCESS_TTL_S: String(TTL_S) } });

	async function register(email: string, name: string) {
		const res = await b.platform().http("POST", "/api/auth/register", { body: { email, password: PASSWORD, name } });
		expect(res.status).toBe(201);
		return res.body;
	}

	async function signIn(page: Page, email: string) {
		await page.goto(b.url("/#/signin"));
		await page.getByLabel("E-mail").fill(email);
		await page.getByLabel("Password").fill(PASSWORD);
		await page.getByRole("button", { name: "Sign in", exact: true }).click();
		await page.getByRole("heading", { name: "Organisations" }).waitFor();
	}

	/** Counts the page's calls to POST /api/auth/refresh, and keeps the codes of the 401s it got (`codes()`). */
	function watch(page: Page) {
		const bodies: Promise<string>[] = [];
		const seen = {
			refreshes: 0,
			codes: async () => (await Promise.all(bodies)).map(t => (JSON.parse(t || "{}") as { code?: string }).code),
		};
		page.on("request", r => {
			if (r.method() === "POST" && r.url().endsWith("/api/auth/refresh")) seen.refreshes++;
		});
		page.on("response", r => {
			if (r.status() === 401) bodies.push(r.text().catch(() => ""));
		});
		return seen;
	}

	const stored = (page: Page) =>
		page.evaluate("JSON.parse(localStorage.getItem('valence.tokens'))") as Promise<{ accessToken: string; accessExpiresAt: number } | null>;
	/**
	 * Waits until the stored access token is `pastMs` past its `exp` (the condition, not a fixed sleep). The
	 * gateway accepts a token up to 5 s after its `exp` (clock tolerance, lib/jwt.ts): 6 s past, it refuses it.
	 */
	const untilExpired = (page: Page, pastMs = 1000) =>
		waitFor(async () => ((await stored(page))?.accessExpiresAt ?? Infinity) < Date.now() - pastMs, {
			what: "the access token to expire",
			timeoutMs: TTL_S * 1000 + pastMs + 5000,
		});

	it("refreshes an expired access token silently, once for concurrent calls", async () => {
		await register("grace@example.com", "Grace Hopper");
		const page = await b.page();
		const seen = watch(page);
		await signIn(page, "grace@example.com");
		const first = await stored(page);

		// 1. the app sees the expiry coming: a reload's two concurrent calls (/me, /tenants) share one refresh
		await untilExpired(page);
		await page.reload();
		await page.getByRole("heading", { name: "Organisations" }).waitFor();
		expect(seen.refreshes).toBe(1);
		expect(await page.getByRole("heading", { name: "Sign in", exact: true }).count()).toBe(0);
		const second = await stored(page);
		expect(second?.accessToken).not.toBe(first?.accessToken);

		// 2. the gateway says so: the app believes its token is good, both calls get 401 TOKEN_EXPIRED, one refresh, retried
		await untilExpired(page, 6000);
		await page.evaluate(
			"(() => { const t = JSON.parse(localStorage.getItem('valence.tokens')); t.accessExpiresAt = Date.now() + 3600e3; localStorage.setItem('valence.tokens', JSON.stringify(t)); })()",
		);
		await page.reload();
		await page.getByRole("heading", { name: "Organisations" }).waitFor();
		const codes = await seen.codes();
		expect(codes.length).toBeGreaterThanOrEqual(1);
		expect(new Set(codes)).toEqual(new Set(["TOKEN_EXPIRED"]));
		expect(seen.refreshes).toBe(2);

		// 3. while working: a screen opened after the expiry just shows its data
		await untilExpired(page);
		await page.getByRole("link", { name: "Sessions" }).click();
		await page.getByRole("table", { name: "Your sessions" }).waitFor();
		expect(await page.getByText("this device").count()).toBe(1);
		expect(seen.refreshes).toBe(3);
		await b.screenshot(page, "sessions");
		expect(await b.axe(page)).toEqual([]);
	});

	it("signs out the other devices, which are told their session ended", async () => {
		await register("linus@example.com", "Linus Pauling");
		const laptop = await b.page();
		const phone = await b.page();
		await signIn(laptop, "linus@example.com");
		await signIn(phone, "linus@example.com");

		await laptop.getByRole("link", { name: "Sessions" }).click();
		// the phone's session and the one registering made
		await laptop.getByRole("button", { name: "Sign out everywhere else (2)" }).click();
		await laptop.getByText("2 other sessions were signed out.").waitFor();
		await laptop.getByRole("button", { name: /Sign out everywhere else$/ }).waitFor();
		expect(await laptop.getByRole("table", { name: "Your sessions" }).getByRole("row").count()).toBe(2); // header + this device

		await phone.reload();
		await phone.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
		await phone.getByText("Your session has ended. Sign in again.").waitFor();
		expect(await stored(phone)).toBeNull();
	});

	it("creates organisations and switches between them", async () => {
		await register("marie@example.com", "Marie Curie");
		const page = await b.page();
		await signIn(page, "marie@example.com");
		await page.getByText("You belong to no organisation yet").waitFor();
		for (const name of ["Radium Labs", "Polonium Works"]) {
			await page.getByLabel("Name").fill(name);
			await page.getByRole("button", { name: "Create" }).click();
			await page.getByText(`${name} is created and is now your current organisation.`).waitFor();
		}
		const switcher = page.getByLabel("Organisation");
		expect(await switcher.locator("option").allTextContents()).toEqual(["Polonium Works (owner)", "Radium Labs (owner)"]);
		expect(await switcher.inputValue()).toBe(
			(await b.platform().http("GET", "/api/tenants", { token: await tokenOf(page) })).body.rows.find(
				(t: { name: string }) => t.name === "Polonium Works",
			).id,
		);

		// a taken address is explained next to its field
		await page.getByLabel("Name").fill("Radium Labs");
		await page.getByRole("button", { name: "Create" }).click();
		await page.getByText("This address is taken: choose another.").waitFor();

		await switcher.selectOption({ label: "Radium Labs (owner)" });
		await page.getByRole("cell", { name: "Radium Labs (current)" }).waitFor();
		const me = await b.platform().http("GET", "/api/auth/me", { token: await tokenOf(page) });
		expect(me.body.roles).toEqual(["owner"]);
		expect(me.body.tenantId).toBe(await switcher.inputValue());
		await b.screenshot(page, "organisations");
		expect(await b.axe(page)).toEqual([]);
	});

	const tokenOf = async (page: Page) => (await stored(page))!.accessToken;

	it("invites someone into an organisation, who accepts from the invitation e-mail's link", async () => {
		await register("lise@example.com", "Lise Meitner");
		const owner = await b.page();
		await signIn(owner, "lise@example.com");
		await owner.getByLabel("Name").fill("Fission Group");
		await owner.getByRole("button", { name: "Create" }).click();
		await owner.getByRole("heading", { name: "Invite someone to Fission Group" }).waitFor();
		// a malformed address is explained under its field
		await owner.getByLabel("E-mail").fill("otto.example.com");
		await owner.getByRole("button", { name: "Send the invitation" }).click();
		await owner
			.locator(".field-invalid", { has: owner.getByLabel("E-mail") })
			.locator(".field-error")
			.waitFor();
		await owner.getByLabel("E-mail").fill("otto@example.com");
		await owner.getByLabel("Role").selectOption("admin");
		await owner.getByRole("button", { name: "Send the invitation" }).click();
		await owner.getByText("otto@example.com is invited as admin.").waitFor();
		await b.screenshot(owner, "organisations-invite");
		expect(await b.axe(owner)).toEqual([]);

		// the invitee opens the e-mail's link signed out: signs in first, then lands on the invitation
		const otto = await register("otto@example.com", "Otto Hahn");
		const [invitation] = (await b.platform().http("GET", "/api/tenants/invitations", { token: otto.accessToken })).body.rows;
		const invitee = await b.page();
		await invitee.goto(b.url(`/invitations/${invitation.id}/accept`));
		await invitee.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
		await invitee.getByLabel("E-mail").fill("otto@example.com");
		await invitee.getByLabel("Password").fill(PASSWORD);
		await invitee.getByRole("button", { name: "Sign in", exact: true }).click();
		const row = invitee.locator("tr.row-highlight");
		await row.waitFor();
		expect(await row.textContent()).toContain("Fission Group");
		await b.screenshot(invitee, "organisations-invitation");
		await invitee.getByRole("button", { name: "Accept the invitation to Fission Group" }).click();
		await invitee.getByText("You joined Fission Group as admin").waitFor();
		await invitee.getByLabel("Organisation").selectOption({ label: "Fission Group (admin)" });
		await invitee.getByRole("cell", { name: "Fission Group (current)" }).waitFor();
	});

	/** Presses Tab (or Shift+Tab) until the focused element's name is `name`; fails after 60 presses. */
	async function tabTo(page: Page, name: string | RegExp, back = false): Promise<void> {
		for (let i = 0; i < 60; i++) {
			await page.keyboard.press(back ? "Shift+Tab" : "Tab");
			const focused = (await page.evaluate(
				"(e => e ? (e.getAttribute('aria-label') || e.labels?.[0]?.textContent || e.textContent || '').trim() : '')(document.activeElement)",
			)) as string;
			if (typeof name === "string" ? focused === name : name.test(focused)) return;
		}
		throw new Error(`no element named ${name} in the tab order`);
	}

	const focusVisible = (page: Page) => page.evaluate("getComputedStyle(document.activeElement).outlineStyle") as Promise<string>;

	it("reaches the main screens with the keyboard alone", async () => {
		await register("alan@example.com", "Alan Turing");
		const page = await b.page();
		await page.goto(b.url("/"));
		await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
		await tabTo(page, /^E-mail/);
		await page.keyboard.type("alan@example.com");
		await tabTo(page, /^Password/);
		await page.keyboard.type(PASSWORD);
		await page.keyboard.press("Enter");
		await page.getByRole("heading", { name: "Organisations" }).waitFor();

		// the skip link comes first and is visible when focused
		await page.keyboard.press("Tab");
		expect(await page.evaluate("document.activeElement.textContent")).toBe("Skip to content");
		expect(await focusVisible(page)).toBe("solid");

		// create an organisation (the console needs one) from the keyboard
		await tabTo(page, /^Name/);
		await page.keyboard.type("Bletchley Park");
		await page.keyboard.press("Enter");
		await page.getByText("Bletchley Park is created").waitFor();

		await tabTo(page, "Sessions", true);
		expect(await focusVisible(page)).toBe("solid");
		await page.keyboard.press("Enter");
		await page.getByRole("heading", { name: "Sessions" }).waitFor();
		// focus moved to the screen: the next Tab is inside it, not back at the menu
		expect(await page.evaluate("document.activeElement.id")).toBe("main");

		await tabTo(page, "Operator console", true);
		await page.keyboard.press("Enter");
		await page.getByRole("heading", { name: "Operator console" }).waitFor();
		await tabTo(page, "Jobs");
		await page.keyboard.press("Enter");
		await page.getByRole("table", { name: /Jobs whose last attempt failed/ }).waitFor();
		await tabTo(page, "Status");
		await page.keyboard.press("ArrowDown");
		await page.getByRole("table", { name: /^Jobs \(/ }).waitFor();

		await tabTo(page, "Sign out", true);
		await page.keyboard.press("Enter");
		await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor();
	});
});
