/**
 * CRM journeys in Chromium (README, "Web app" → "CRM screens"): create a lead on the board, drag it
 * with the mouse straight to Won (refused: the card says why in plain words), then through the workflow
 * to Won, and see the pipeline chart's figures change; the keyboard alternative (the card's status
 * select), the lead's timeline, an assignment rule, commission statements; keyboard-only navigation and axe.
 */
import type { Locator, Page } from "playwright-core";
import { describeBrowser, useBrowser } from "../helpers/browser";
import { signedInPage } from "../helpers/browser-session";
import { waitFor } from "../helpers/wait";

jest.setTimeout(90_000);

/** A real mouse drag: press on the card, move over the column in steps, release. */
async function drag(page: Page, card: Locator, column: Locator) {
	const from = (await card.boundingBox())!;
	const to = (await column.boundingBox())!;
	await page.mouse.move(from.x + from.width / 2, from.y + 10);
	await page.mouse.down();
	await page.mouse.move(from.x + from.width / 2 + 20, from.y + 20, { steps: 5 });
	await page.mouse.move(to.x + to.width / 2, to.y + to.height / 2, { steps: 10 });
	await page.mouse.up();
}

const funnelValue = (page: Page, status: string) => page.locator(`#funnel-data td[data-category="${status}"]`);

describeBrowser("web app: CRM", () => {
	const b = useBrowser({ services: ["identity", "crm"], env: { PASSWORD_SCRYPT_N: "1024" } });

	it("creates a lead, drags it to Won (refused, then through the workflow) and the pipeline chart follows", async () => {
		const { page } = await signedInPage(b, { name: "Grace Hopper", email: "grace@example.com", slug: "grace-shop" });

		// the pipeline before: nothing won
		await page.getByRole("link", { name: "Pipeline" }).click();
		await page.getByRole("heading", { name: "Pipeline", level: 1 }).waitFor();
		await page.locator("#funnel canvas, #funnel-title").first().waitFor();
		expect(await funnelValue(page, "Won").textContent()).toBe("0");
		expect(await page.locator(".chart canvas").count()).toBeGreaterThanOrEqual(2);

		await page.getByRole("link", { name: "Leads" }).click();
		await page.getByRole("heading", { name: "Leads", level: 1 }).waitFor();
		await page.getByRole("button", { name: "New lead" }).click();
		// a field the API refuses is explained next to it
		await page.getByLabel("Name").fill("Acme renewal");
		await page.getByLabel("Country").fill("F1");
		await page.getByRole("button", { name: "Create lead" }).click();
		const countryError = page.locator(".field-invalid", { has: page.getByLabel("Country") }).locator(".field-error");
		await countryError.waitFor();
		expect(await countryError.textContent()).toMatch(/ISO 3166 alpha-2 code/);
		await b.screenshot(page, "crm-new-lead");
		expect(await b.axe(page)).toEqual([]);
		await page.getByLabel("Country").fill("FR");
		await page.getByLabel("Value", { exact: true }).fill("1200.50");
		await page.getByRole("button", { name: "Create lead" }).click();
		const card = page.locator(".lead-card", { hasText: "Acme renewal" });
		await page.locator('[data-status="new"] .lead-card', { hasText: "Acme renewal" }).waitFor();
		expect(await card.textContent()).toMatch(/1,200\.50|1\.200,50|1 200,50/);
		await b.screenshot(page, "crm-board");
		expect(await b.axe(page)).toEqual([]);

		// straight from New to Won: the workflow refuses, the card says why
		await drag(page, card, page.locator('[data-status="won"]'));
		const refusal = card.locator(".field-error");
		await refusal.waitFor();
		expect(await refusal.textContent()).toBe("A New lead cannot go straight to Won: move it to Contacted or Lost first.");
		expect(await page.locator('[data-status="new"] .lead-card', { hasText: "Acme renewal" }).count()).toBe(1);
		await b.screenshot(page, "crm-board-refused");

		for (const status of ["contacted", "qualified", "won"]) {
			await drag(page, page.locator(".lead-card", { hasText: "Acme renewal" }), page.locator(`[data-status="${status}"]`));
			await page.locator(`[data-status="${status}"] .lead-card`, { hasText: "Acme renewal" }).waitFor();
		}
		expect(await page.locator('[data-status="won"] h2 .count').textContent()).toBe("1");
		expect(await page.locator(".lead-card .field-error").count()).toBe(0);

		await page.getByRole("link", { name: "Pipeline" }).click();
		await page.getByRole("heading", { name: "Pipeline", level: 1 }).waitFor();
		await page.locator('#funnel-data td[data-category="Won"]', { hasText: /^1$/ }).waitFor();
		expect(await funnelValue(page, "New").textContent()).toBe("0");
		expect(await page.locator("#pipeline-win-rate").textContent()).toBe("100 %");
		await b.screenshot(page, "crm-pipeline");
		expect(await b.axe(page)).toEqual([]);

		// the lead's timeline tells the story
		await page.getByRole("link", { name: "Leads" }).click();
		await page.getByRole("link", { name: "Acme renewal" }).click();
		await page.getByRole("heading", { name: "Acme renewal", level: 1 }).waitFor();
		await page.getByRole("heading", { name: "Timeline" }).waitFor();
		await page.locator(".timeline li", { hasText: "Qualified → Won" }).waitFor();
		await page.getByLabel("What happened").fill("Signed the renewal on the phone");
		await page.getByRole("button", { name: "Add to timeline" }).click();
		await page.locator(".timeline li", { hasText: "Signed the renewal on the phone" }).waitFor();
		await b.screenshot(page, "crm-lead");
		expect(await b.axe(page)).toEqual([]);
	});

	it("moves a lead with the keyboard only (the card's status select), and edits rules and reads statements", async () => {
		const session = await signedInPage(b, { name: "Katherine Johnson", email: "katherine@example.com", slug: "katherine-shop" });
		const { page, userId } = session;
		const p = b.platform();
		const token = await session.token();
		expect((await p.http("POST", "/api/leads", { token, body: { name: "Orbit Ltd" } })).status).toBe(201);

		await page.goto(b.url("/#/crm/leads"));
		await page.getByRole("heading", { name: "Leads", level: 1 }).waitFor();
		await page.locator('[data-status="new"] .lead-card', { hasText: "Orbit Ltd" }).waitFor();
		// Tab from the skip link to the card's status select, then choose with the arrow keys
		const select = page.getByLabel("Status of Orbit Ltd");
		let reached = false;
		for (let i = 0; i < 40 && !reached; i++) {
			await page.keyboard.press("Tab");
			reached = await select.evaluate(el => el.matches(":focus"));
		}
		expect(reached).toBe(true);
		await page.keyboard.press("ArrowDown"); // New → Contacted
		await page.locator('[data-status="contacted"] .lead-card', { hasText: "Orbit Ltd" }).waitFor();
		await page.locator('[role="status"]', { hasText: "Orbit Ltd moved to Contacted." }).waitFor();

		// the assignment rules editor: a pool without members is refused next to the field
		await page.getByRole("link", { name: "Assignment rules" }).click();
		await page.getByRole("heading", { name: "Assignment rules", level: 1 }).waitFor();
		await page.getByRole("button", { name: "New rule" }).click();
		await page.getByLabel("Name").fill("Ads to me");
		await page.getByLabel("Sources").fill("ads");
		await page.getByRole("button", { name: "Save rule" }).click();
		const poolError = page.locator("fieldset .field-error");
		await poolError.waitFor();
		expect(await poolError.textContent()).toMatch(/needs a non-empty pool/);
		await b.screenshot(page, "crm-rule-form");
		expect(await b.axe(page)).toEqual([]);
		await page.getByRole("checkbox", { name: /Katherine Johnson/ }).check();
		await page.getByRole("button", { name: "Save rule" }).click();
		await page.getByRole("cell", { name: "source ads" }).waitFor();
		await b.screenshot(page, "crm-rules");
		expect(await b.axe(page)).toEqual([]);
		// deleting asks once more; "Keep" keeps it
		await page.getByRole("button", { name: "Delete Ads to me" }).click();
		await page.getByRole("button", { name: "Keep Ads to me" }).click();
		await page.getByRole("button", { name: "Delete Ads to me" }).waitFor();

		// a lead from ads is assigned by the rule
		expect((await p.http("POST", "/api/leads", { token, body: { name: "Ad click", source: "ads" } })).status).toBe(201);
		await page.getByRole("link", { name: "Leads" }).click();
		await page.locator(".lead-card", { hasText: "Ad click" }).waitFor();
		await waitFor(async () => (await p.http("GET", "/api/leads?q=Ad%20click", { token })).body.rows[0]?.assignedTo === userId, {
			what: "the rule's assignment",
		});

		await page.getByRole("link", { name: "Commission" }).click();
		await page.getByRole("heading", { name: "Commission", level: 1 }).waitFor();
		await page.getByRole("table", { name: /Totals for/ }).waitFor();
		await b.screenshot(page, "crm-commission");
		expect(await b.axe(page)).toEqual([]);

		// a CSV import goes in batches with a progress bar; a refused row is named with why
		const rows = Array.from({ length: 450 }, (_, i) => `Imported ${i + 1},imported${i + 1}@example.com,DE,${(i + 1) * 100},EUR`);
		rows.splice(300, 0, "Bad row,not-an-email,DE,100,EUR");
		const csv = ["name,email,country,amount,currency", ...rows].join("\n");
		await page.getByRole("link", { name: "Leads" }).click();
		await page.getByLabel("CSV file").setInputFiles({ name: "leads.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
		// the second batch is held until the bar has been seen part-way
		let release!: () => void;
		const held = new Promise<void>(r => (release = r));
		let batches = 0;
		await page.route("**/api/leads/import", async route => {
			if (++batches === 2) await held;
			await route.continue();
		});
		await page.getByRole("button", { name: "Import" }).click();
		const bar = page.getByRole("progressbar", { name: "Importing" });
		await page.getByText("200 of 451 rows sent").waitFor();
		expect(await bar.getAttribute("aria-valuetext")).toBe("44 %");
		await b.screenshot(page, "crm-import-progress");
		release();
		const result = page.locator(".banner", { hasText: "leads imported" });
		await result.waitFor({ timeout: 20_000 });
		expect(await result.textContent()).toMatch(/^450 leads imported, 1 row refused:Row 301: .*email/);
		// the board is read again after the import
		await page.locator('[data-status="new"] h2 .count', { hasText: /^451$/ }).waitFor();
		expect(batches).toBe(3);
		await b.screenshot(page, "crm-import");
	});
});
