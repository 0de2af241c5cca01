/**
 * The web app in a real browser (README, "Web app" → "Browser tests"): Debian's Chromium driven by
 * playwright-core, the platform in-process behind the real gateway (./platform.ts).
 *
 *   describeBrowser("sign in", () => {
 *     const b = useBrowser({ services: ["identity"] });
 *     it("…", async () => { const page = await b.page(); await page.goto(b.url("/#/signin")); … await b.screenshot(page, "signin"); });
 *   });
 *
 * Every page fails its test on a CSP violation or an uncaught error (the app must run under the gateway's
 * CSP as served). `axe(page)` runs axe-core in the page and returns its serious and critical violations.
 * Screenshots go to `$CI_LOG_DIR/screenshots` (CI keeps its log folder) or `test-results/screenshots`.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net, { type AddressInfo } from "node:net";
import path from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { projectRoot } from "../../lib/paths";
import { startPlatform, type Platform, type PlatformOptions } from "./platform";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
export const hasChromium = fs.existsSync(CHROMIUM);
export const screenshotDir = path.join(process.env.CI_LOG_DIR || path.join(projectRoot, "test-results"), "screenshots");

/** Launch flags for a closed network: no sandbox (root in CI), no GPU, no update or first-run calls. */
const FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

/** `describe`, or a skipped one that says plainly why when Chromium is not installed. */
export function describeBrowser(name: string, fn: () => void): void {
	if (hasChromium) return describe(name, fn);
	describe(`${name} [NOT RUN: no Chromium at ${CHROMIUM}; apt-get install chromium, or .ci/run installs it]`, () => {
		it.skip("needs Chromium", () => undefined);
	});
	process.stderr.write(`browser tests not run: no Chromium at ${CHROMIUM}\n`);
}

export interface BrowserHarness {
	platform(): Platform;
	browser(): Browser;
	/** a new page in a fresh context (its own storage) that fails the test on CSP violations and page errors */
	page(opts?: { context?: BrowserContext }): Promise<Page>;
	url(pathAndHash: string): string;
	screenshot(page: Page, name: string): Promise<string>;
	/** axe-core's serious and critical violations on the page as it is now */
	axe(page: Page): Promise<AxeViolation[]>;
}

export interface AxeViolation {
	id: string;
	impact: string;
	help: string;
	nodes: string[];
}

/** A port free right now on 127.0.0.1 (for a platform whose APP_URL must be known before it starts). */
export async function freePort(): Promise<number> {
	const server = net.createServer();
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	await new Promise(resolve => server.close(resolve));
	return port;
}

/** Builds the app when its sources are newer than build/web (the same check as `npm start`). */
function ensureBuilt() {
	execFileSync(process.execPath, [path.join(projectRoot, "web", "build.mjs"), "--if-stale"], { stdio: "inherit" });
}

/** `opts` may be a function: for options known only once something else started (a fake provider, a port). */
export function useBrowser(opts: PlatformOptions | (() => Promise<PlatformOptions>)): BrowserHarness {
	let platform: Platform;
	let browser: Browser;
	const pageErrors: string[] = [];
	beforeAll(async () => {
		ensureBuilt();
		const { chromium } = await import("playwright-core");
		const options = typeof opts === "function" ? await opts() : opts;
		[platform, browser] = await Promise.all([startPlatform(options), chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true })]);
	}, 60_000);
	afterAll(async () => {
		await browser?.close();
		await platform?.stop();
	});
	afterEach(() => {
		const errors = pageErrors.splice(0);
		expect(errors).toEqual([]);
	});
	const axeSource = fs.readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
	return {
		platform: () => platform,
		browser: () => browser,
		async page(o = {}) {
			const context = o.context ?? (await browser.newContext({ viewport: { width: 1280, height: 860 } }));
			const page = await context.newPage();
			// a step that cannot happen fails in seconds, naming the step, before jest's own timeout
			page.setDefaultTimeout(15_000);
			page.on("pageerror", err => pageErrors.push(`page error: ${err.message}`));
			page.on("console", msg => {
				// the app under the gateway's CSP as served: any refusal is a bug (an inline script or style, an outside URL)
				if (/Content Security Policy|Refused to/i.test(msg.text())) pageErrors.push(`CSP: ${msg.text()}`);
			});
			return page;
		},
		url: p => platform.baseUrl + p,
		async screenshot(page, name) {
			fs.mkdirSync(screenshotDir, { recursive: true });
			const file = path.join(screenshotDir, `${name}.png`);
			await page.screenshot({ path: file, fullPage: true });
			return file;
		},
		async axe(page) {
			// evaluated through the DevTools protocol, not a <script> tag: the page's CSP stays as served
			await page.evaluate(axeSource);
			// a string, so that this Node-typed file names no DOM global; it runs in the page
			const result = (await page.evaluate("window.axe.run(document, { resultTypes: ['violations'] })")) as { violations: any[] };
			return result.violations
				.filter(v => v.impact === "serious" || v.impact === "critical")
				.map(v => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n: { target: string[] }) => n.target.join(" ")) }));
		},
	};
}
