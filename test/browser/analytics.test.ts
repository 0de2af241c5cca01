/**
 * Analytics journeys in Chromium (README, "Web app" → "Analytics screens"): events sent through the API
 * appear on a dashboard built in the editor (a refused widget explained next to its field; each chart's
 * figures in its table); a report run with the keyboard only shows its progress bar, held at the job's
 * first step by a test-only middleware (no sleep), then 100 %, and its CSV downloads with its header line.
 * axe on every screen, screenshots of each.
 */
import fs from "node:fs";
import type { ActionSchema, Context, Middleware } from "moleculer";
import type { Page } from "playwright-core";
import { describeBrowser, useBrowser } from "../helpers/browser";
import { openWithKeyboard, tabTo } from "../helpers/browser-journeys";
import { signedInPage } from "../helpers/browser-session";
import { waitFor } from "../helpers/wait";

jest.setTimeout(90_000);

const DAY = 86_400_000;
const today = Math.floor(Date.now() / DAY) * DAY;
const dayLabel = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/**
 * Holds the report job at its first step: the job's series query (made as the tenant's system identity,
 * unlike a person's dashboard or the report's own range check) waits until the test releases it. The job
 * has recorded 10 % "querying the buckets" by then.
 */
let held: { reached: boolean; release(): void; released: Promise<void> } | null = null;
function holdNextReport() {
	let release!: () => void;
	const released = new Promise<void>(r => (release = r));
	held = { reached: false, release, released };
	return held;
}
const holdReports: Middleware = {
	localAction(handler, action: ActionSchema) {
		if (action.name !== "analyticsmetrics.query") return handler;
		return async function heldWhileTheTestSays(ctx: Context<unknown, { user?: { id: string } }>) {
			const h = held;
			if (h && ctx.meta.user?.id === "system") {
				h.reached = true;
				await h.released;
			}
			return handler.call(ctx.service!, ctx);
		};
	},
};

/** The figure a chart's (or table widget's) table shows for one row and column. */
const figure = (page: Page, widget: number, x: string, series: string) =>
	page.locator(`#widget-${widget}-data td[data-x="${x}"][data-series="${series}"]`);

describeBrowser("web app: analytics", () => {
	const b = useBrowser({
		services: ["identity", "jobs", "analytics", "analyticsmetrics", "analyticsdashboards", "analyticsreports", "analyticsinsights"],
		env: { PASSWORD_SCRYPT_N: "1024" },
		brokerOptions: o => ({ ...o, middlewares: [...(o.middlewares ?? []), holdReports] }),
	});

	it("shows events sent through the API on a dashboard built in the editor, as charts with their figures", async () => {
		const session = await signedInPage(b, { name: "Florence Nightingale", email: "florence@example.com", slug: "florence-stats" });
		const { page } = session;
		const p = b.platform();
		const token = await session.token();
		const events = [
			...[1, 2, 3].map(i => ({
				id: `t${i}`,
				name: "task.completed",
				at: new Date(today + i * 1000).toISOString(),
				properties: { plan: "free" },
			})),
			...[4, 5].map(i => ({ id: `t${i}`, name: "task.completed", at: new Date(today + i * 1000).toISOString(), properties: { plan: "pro" } })),
			{ id: "t6", name: "task.completed", at: new Date(today - DAY + 1000).toISOString(), properties: { plan: "free" } },
		];
		const sent = await p.http("POST", "/api/analytics/events", { token, body: { events } });
		expect(sent.status).toBe(202);
		expect(sent.body).toEqual({ accepted: 6, duplicates: 0 });

		await page.goto(b.url("/#/analytics/dashboards"));
		await page.getByRole("heading", { name: "Dashboards", level: 1 }).waitFor();
		await page.getByRole("button", { name: "New dashboard" }).click();
		await page.getByLabel("Dashboard name").fill("Product");
		await page.getByLabel("Widget 1 event name").fill("task.completed");
		await page.getByLabel("Widget 1 range in days").fill("7");
		await page.getByRole("button", { name: "Add a widget" }).click();
		await page.getByLabel("Widget 2 type").selectOption("table");
		await page.getByLabel("Widget 2 title").fill("Tasks");
		await page.getByLabel("Widget 2 event name").fill("task.completed");
		await page.getByRole("button", { name: "Create dashboard" }).click();
		// a table without its dimension: the API says so, next to the field
		const byError = page.locator(".field-invalid", { has: page.getByLabel("Widget 2 dimension (by)") }).locator(".field-error");
		await byError.waitFor();
		expect(await byError.textContent()).toBe("a table needs a dimension (by)");
		expect(await page.locator(".banner-error").textContent()).toBe("Please correct the fields marked below.");
		await b.screenshot(page, "analytics-dashboard-editor");
		expect(await b.axe(page)).toEqual([]);
		await page.getByLabel("Widget 2 dimension (by)").fill("plan");
		await page.getByRole("button", { name: "Add a widget" }).click();
		await page.getByLabel("Widget 3 type").selectOption("counter");
		await page.getByLabel("Widget 3 event name").fill("task.completed");
		// the counter first: moved up twice with the buttons
		await page.getByRole("button", { name: "Move widget 3 up" }).click();
		await page.getByRole("button", { name: "Move widget 2 up" }).click();
		expect(await page.getByLabel("Widget 1 type").inputValue()).toBe("counter");
		await page.getByRole("button", { name: "Create dashboard" }).click();

		await page.getByRole("heading", { name: "Product", level: 1 }).waitFor();
		expect(await page.locator("#widget-0-total").textContent()).toBe("6");
		// the series: today 5, yesterday 1, as a uPlot canvas and in its table
		await figure(page, 1, dayLabel(today), "Events").waitFor();
		expect(await figure(page, 1, dayLabel(today), "Events").textContent()).toBe("5");
		expect(await figure(page, 1, dayLabel(today - DAY), "Events").textContent()).toBe("1");
		expect(await figure(page, 1, dayLabel(today - 2 * DAY), "Events").textContent()).toBe("0");
		expect(await page.locator("#widget-1-data tbody tr").count()).toBe(7);
		expect(await page.locator(".an-chart canvas").count()).toBeGreaterThanOrEqual(1);
		expect(await figure(page, 2, "free", "Events").textContent()).toBe("4");
		expect(await figure(page, 2, "pro", "Events").textContent()).toBe("2");
		await b.screenshot(page, "analytics-dashboard");
		expect(await b.axe(page)).toEqual([]);

		// more events, and "Refresh" shows them
		await p.http("POST", "/api/analytics/events", {
			token,
			body: { events: [{ id: "t7", name: "task.completed", at: new Date(today + 7000).toISOString(), properties: { plan: "pro" } }] },
		});
		await page.getByRole("button", { name: "Refresh" }).click();
		await page.locator("#widget-0-total", { hasText: /^7$/ }).waitFor();
		expect(await figure(page, 1, dayLabel(today), "Events").textContent()).toBe("6");

		// keyboard only: the menu, the list, the dashboard
		await openWithKeyboard(page, "Dashboards");
		await page.getByRole("heading", { name: "Dashboards", level: 1 }).waitFor();
		await tabTo(page, page.getByRole("link", { name: "Product" }));
		await page.keyboard.press("Enter");
		await page.getByRole("heading", { name: "Product", level: 1 }).waitFor();
		await page.locator("#widget-0-total", { hasText: /^7$/ }).waitFor();
		// an admin renames it and drops the counter
		await page.getByRole("button", { name: "Edit dashboard" }).click();
		await page.getByLabel("Dashboard name").fill("Product use");
		await page.getByRole("button", { name: "Remove widget 1" }).click();
		await page.getByRole("button", { name: "Save dashboard" }).click();
		await page.getByRole("heading", { name: "Product use", level: 1 }).waitFor();
		await page.locator('[role="status"]', { hasText: "The dashboard was saved." }).waitFor();
		expect(await page.locator(".an-counter").count()).toBe(0);
		expect(await figure(page, 0, dayLabel(today), "Events").textContent()).toBe("6");
		await page.goto(b.url("/#/analytics/dashboards"));
		await page.getByRole("link", { name: "Product use" }).waitFor();
		await b.screenshot(page, "analytics-dashboards");
		expect(await b.axe(page)).toEqual([]);
	});

	it("runs a report with the keyboard only: its progress bar moves from the job's first step to 100 %, then the CSV downloads", async () => {
		const session = await signedInPage(b, { name: "John Snow", email: "john.snow@example.com", slug: "snow-maps" });
		const { page } = session;
		const p = b.platform();
		const token = await session.token();
		const events = [0, 1, 2].map(i => ({
			name: "pump.visit",
			at: new Date(today - i * DAY + 1000).toISOString(),
			properties: { street: "broad" },
		}));
		expect((await p.http("POST", "/api/analytics/events", { token, body: { events } })).status).toBe(202);

		await openWithKeyboard(page, "Reports");
		await page.getByRole("heading", { name: "Reports", level: 1 }).waitFor();
		await tabTo(page, page.getByLabel("Report name"));
		await page.keyboard.type("Pump visits");
		await page.keyboard.press("Tab");
		// an event name the API refuses, explained next to the field
		await page.keyboard.type("Pump visit!");
		await page.keyboard.press("Enter");
		const nameError = page.locator(".field-invalid", { has: page.getByLabel("Event name") }).locator(".field-error");
		await nameError.waitFor();
		expect(await nameError.textContent()).toMatch(/pattern|format|match/i);
		// the range, from a day to itself: empty, said next to "To"
		const from = page.getByLabel("From (UTC day)");
		const toField = page.getByLabel("To (UTC day, not included)");
		await from.fill(dayLabel(today - 2 * DAY));
		await toField.fill(dayLabel(today - 2 * DAY));
		await tabTo(page, page.getByLabel("Event name"));
		await page.keyboard.press("Control+A");
		await page.keyboard.type("pump.visit");
		await page.keyboard.press("Enter");
		const toError = page.locator(".field-invalid", { has: toField }).locator(".field-error");
		await toError.waitFor();
		expect(await toError.textContent()).toBe("must be after from");
		await b.screenshot(page, "analytics-report-refused");
		expect(await b.axe(page)).toEqual([]);

		await toField.fill(dayLabel(today + DAY));
		await tabTo(page, page.getByLabel("Dimension (by)"));
		await page.keyboard.type("street");
		const gate = holdNextReport();
		await tabTo(page, page.getByRole("button", { name: "Run report" }));
		await page.keyboard.press("Enter");

		// the job is held in its first step: the bar shows the job's percent and message
		const watch = page.locator(".an-watch");
		const bar = watch.locator("progress");
		await bar.waitFor();
		await watch.locator("label", { hasText: "Pump visits: 10 %" }).waitFor();
		await watch.locator(".hint", { hasText: "querying the buckets" }).waitFor();
		await waitFor(() => gate.reached, { what: "the report job held in its series query" });
		expect(await bar.getAttribute("aria-valuetext")).toBe("10 %");
		await b.screenshot(page, "analytics-report-running");
		expect(await b.axe(page)).toEqual([]);

		gate.release();
		held = null;
		await watch.locator("label", { hasText: "Pump visits: 100 %" }).waitFor();
		expect(await bar.getAttribute("aria-valuetext")).toBe("100 %");
		await watch.locator(".hint", { hasText: "Ready: 3 rows" }).waitFor();

		const downloadButton = page.getByRole("button", { name: "Download CSV of Pump visits" });
		await tabTo(page, downloadButton);
		const [download] = await Promise.all([page.waitForEvent("download"), page.keyboard.press("Enter")]);
		expect(download.suggestedFilename()).toBe("Pump-visits.csv");
		const csv = fs.readFileSync((await download.path())!, "utf8");
		const lines = csv.trim().split("\n");
		expect(lines[0]).toBe("start,street,count");
		expect(lines).toHaveLength(4);
		expect(lines.slice(1).map(l => l.split(",").slice(1).join(","))).toEqual(["broad,1", "broad,1", "broad,1"]);
		await b.screenshot(page, "analytics-reports");
		expect(await b.axe(page)).toEqual([]);
	});

	it("forecasts a series: its history and the next days in the chart's table, with the method in words", async () => {
		const session = await signedInPage(b, { name: "Adolphe Quetelet", email: "adolphe@example.com", slug: "quetelet" });
		const { page } = session;
		// 1, 2, 3 events on the three days before today: a line whose next points are 4 and 5
		const events = [1, 2, 3].flatMap(d =>
			Array.from({ length: d }, (_, i) => ({ name: "signup", at: new Date(today - (4 - d) * DAY + (i + 1) * 1000).toISOString() })),
		);
		expect((await b.platform().http("POST", "/api/analytics/events", { token: await session.token(), body: { events } })).status).toBe(202);

		await openWithKeyboard(page, "Forecast");
		await page.getByRole("heading", { name: "Forecast", level: 1 }).waitFor();
		await page.getByLabel("Event name").fill("signup");
		await page.getByLabel("History from (UTC day)").fill(dayLabel(today - 3 * DAY));
		await page.getByLabel("History to (UTC day, not included)").fill(dayLabel(today));
		await page.getByLabel("Buckets ahead").fill("200");
		await page.getByRole("button", { name: "Forecast" }).click();
		const horizonError = page.locator(".field-invalid", { has: page.getByLabel("Buckets ahead") }).locator(".field-error");
		await horizonError.waitFor();
		expect(await horizonError.textContent()).toMatch(/90/);
		await page.getByLabel("Buckets ahead").fill("2");
		await page.getByRole("button", { name: "Forecast" }).click();
		const cell = (x: number, series: string) => page.locator(`#forecast-data td[data-x="${dayLabel(x)}"][data-series="${series}"]`);
		await cell(today, "Forecast").waitFor();
		expect(await cell(today - 3 * DAY, "Events").textContent()).toBe("1");
		expect(await cell(today - DAY, "Events").textContent()).toBe("3");
		expect(await cell(today, "Forecast").textContent()).toBe("4");
		expect(await cell(today + DAY, "Forecast").textContent()).toBe("5");
		expect(await page.locator("#forecast-method").textContent()).toMatch(/linear trend/);
		expect(await page.locator(".an-chart canvas").count()).toBeGreaterThanOrEqual(1);
		await b.screenshot(page, "analytics-forecast");
		expect(await b.axe(page)).toEqual([]);
	});
});
