/**
 * Tasks and engagement journeys in Chromium (README, "Web app" → "Tasks and engagement screens"): create a
 * task, make it wait for another (done first is refused in plain words), complete both (one with the
 * keyboard only), and see the xp, the level, a badge and the xp leaderboard move; unlock a skill; the task's
 * versions and dependency tree; axe on every screen.
 */
import { describeBrowser, useBrowser } from "../helpers/browser";
import { chooseTenant, menu, registerUser, signIn, tabTo, openWithKeyboard } from "../helpers/browser-journeys";

jest.setTimeout(90_000);

describeBrowser("web app: tasks and engagement journeys", () => {
	const b = useBrowser({ services: ["identity", "engagement"], env: { PASSWORD_SCRYPT_N: "1024" } });

	it("completes tasks in dependency order and sees xp, level, badge and leaderboard move", async () => {
		const p = b.platform();
		const ada = await registerUser(b, "Ada Lovelace", "ada@example.com");
		const bob = await registerUser(b, "Bob Babbage", "bob@example.com");
		const tenant = (await p.http("POST", "/api/tenants", { token: ada.accessToken, body: { name: "Engines Ltd", slug: "engines" } })).body;
		await p.broker.call("tenants.addMember", { id: tenant.id, userId: bob.user.id, role: "member" });
		const scoped = (await p.http("POST", "/api/auth/switch-tenant", { token: ada.accessToken, body: { tenantId: tenant.id } })).body.accessToken;
		// Bob already has 11 xp: Ada starts below him
		const award = await p.http("POST", "/api/gamification/awards", {
			token: scoped,
			body: { userId: bob.user.id, currency: "xp", amount: 11, reason: "head start", eventId: "bob-start" },
		});
		expect(award.status).toBe(201);
		const notes = (await p.http("POST", "/api/tasks", { token: scoped, body: { title: "Draft the notes", estimateMinutes: 30 } })).body;
		await p.http("POST", "/api/skills", { token: scoped, body: { key: "focus", name: "Focus", cost: { currency: "xp", amount: 5 } } });
		await p.http("POST", "/api/skills", {
			token: scoped,
			body: { key: "deep-work", name: "Deep work", cost: { currency: "coins", amount: 1000 }, prerequisites: ["focus"] },
		});

		const page = await b.page();
		await signIn(b, page, "ada@example.com");
		await chooseTenant(page, "Engines Ltd");

		// the leaderboard before: Bob first, Ada without xp
		await menu(page, "Leaderboard");
		await page.getByText("You have no xp yet").waitFor();
		const board = page.getByRole("table", { name: "Top 10 by xp" });
		await board.getByRole("row", { name: /1 Bob Babbage 11/ }).waitFor();

		// a new task, made to wait for the notes
		await menu(page, "Tasks");
		await page.getByRole("heading", { name: "Tasks", exact: true }).waitFor();
		await page.getByText("New task").click();
		await page.getByLabel("Title").fill("Ship the release");
		await page.getByLabel("Estimate (minutes)").fill("45");
		await page.getByRole("button", { name: "Create task" }).click();
		await page.getByText("“Ship the release” is created.").waitFor();
		await b.screenshot(page, "tasks-list");
		expect(await b.axe(page)).toEqual([]);
		await page.getByRole("table", { name: "Tasks" }).getByRole("link", { name: "Ship the release" }).click();
		await page.getByRole("heading", { name: "Ship the release" }).waitFor();
		await page.getByLabel("This task waits for").selectOption({ label: "Draft the notes (To do)" });
		await page.getByRole("button", { name: "Add dependency" }).click();
		await page.getByText("The dependency is added.").waitFor();
		const waitsFor = page.getByRole("region", { name: "Waits for" });
		await waitsFor.getByRole("link", { name: "Draft the notes" }).waitFor();

		// done before its blocker: refused, in words that name the blocker
		await page.getByRole("button", { name: "Mark as done" }).click();
		const refused = page.locator('.banner-error[data-code="OPEN_BLOCKERS"]');
		await refused.waitFor();
		expect(await refused.textContent()).toContain("This task waits for open tasks: “Draft the notes”");
		await b.screenshot(page, "tasks-detail-blocked");
		expect(await b.axe(page)).toEqual([]);

		// the notes, done from the list with the keyboard only
		await menu(page, "Tasks");
		// the plan puts the notes first; the longest chain is notes → release, 30 + 45 min
		const plan = page.getByRole("region", { name: "Plan" });
		await plan.getByText("(75 min)", { exact: false }).waitFor();
		expect(await plan.getByRole("listitem").allTextContents()).toEqual([
			"Draft the notes on the longest chain",
			"Ship the release on the longest chain",
		]);
		const done = page.getByRole("button", { name: "Mark “Draft the notes” done" });
		await done.waitFor();
		await tabTo(page, done);
		await page.keyboard.press("Enter");
		await page.getByText("“Draft the notes” is done.").waitFor();

		// now the release can be done
		await page.getByRole("table", { name: "Tasks" }).getByRole("link", { name: "Ship the release" }).click();
		await page.getByRole("button", { name: "Mark as done" }).click();
		await page.getByText("Done. Your reward is on its way").waitFor();
		await page.locator('[data-field="status"]', { hasText: "Done" }).waitFor();
		const history = page.getByRole("table", { name: /History/ });
		await history.getByRole("row").nth(3).waitFor(); // header + versions 3, 2, 1
		expect(await history.getByRole("button", { name: "Restore version 1" }).count()).toBe(1);
		await b.screenshot(page, "tasks-detail");
		expect(await b.axe(page)).toEqual([]);

		// two completions on one day: 2 × (10 + 2 streak) = 24 xp, level 1 → below 50; the first-task badge
		await menu(page, "Wallet and level");
		await page.locator('[data-value="xp"]', { hasText: /^24$/ }).waitFor({ timeout: 15_000 });
		await page.locator('[data-badge="first-task"].earned').waitFor();
		expect(await page.locator('[data-balance="coins"]').textContent()).toBe("0");
		await b.screenshot(page, "engagement-wallet");
		expect(await b.axe(page)).toEqual([]);

		// the leaderboard moved: Ada first
		await menu(page, "Leaderboard");
		await page.getByText("You are number 1 of 2 with 24 xp.").waitFor();
		await board.getByRole("row", { name: /1 You 24/ }).waitFor();
		await board.getByRole("row", { name: /2 Bob Babbage 11/ }).waitFor();
		await b.screenshot(page, "engagement-leaderboard");
		expect(await b.axe(page)).toEqual([]);

		// the skill tree: Focus costs 5 xp, Deep work needs it (and more coins than Ada has)
		await menu(page, "Skill tree");
		await page.getByRole("button", { name: "Unlock Focus" }).click();
		await page.getByText("Focus is unlocked.").waitFor();
		await page.getByRole("button", { name: "Unlock Deep work" }).click();
		const short = page.locator('.banner-error[data-code="INSUFFICIENT_FUNDS"]');
		await short.waitFor();
		await b.screenshot(page, "engagement-skills");
		expect(await b.axe(page)).toEqual([]);
		const me = (await p.http("GET", "/api/gamification/me", { token: scoped })).body;
		expect(me.balances.xp).toBe(19);
		void notes;
	});
	it("opens every screen of the domain from the menu with the keyboard only, focus on its content", async () => {
		const page = await b.page();
		await signIn(b, page, "ada@example.com");
		await chooseTenant(page, "Engines Ltd");
		await openWithKeyboard(page, "Tasks");
		await page.getByRole("heading", { level: 1, name: "Tasks", exact: true }).waitFor();
		expect(await b.axe(page)).toEqual([]);
		await openWithKeyboard(page, "Wallet and level");
		await page.getByRole("heading", { level: 1, name: "Wallet and level", exact: true }).waitFor();
		expect(await b.axe(page)).toEqual([]);
		await openWithKeyboard(page, "Leaderboard");
		await page.getByRole("heading", { level: 1, name: "Leaderboard", exact: true }).waitFor();
		expect(await b.axe(page)).toEqual([]);
		await openWithKeyboard(page, "Skill tree");
		await page.getByRole("heading", { level: 1, name: "Skill tree", exact: true }).waitFor();
		expect(await b.axe(page)).toEqual([]);
	});
});
