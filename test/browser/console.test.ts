/**
 * The operator console in Chromium (README, "Web app" → "Operator console"): an operator (an admin of
 * OPERATOR_TENANT_ID) sees the nodes × services, the readiness of each dependency and live traffic charts,
 * inspects a channel dead letter, replays one and discards another; the admin of another organisation sees
 * the organisation's jobs but not the cluster-wide tabs. Each tab passes axe-core and is screenshotted.
 */
import type { Context, ServiceSchema } from "moleculer";
import type { Page } from "playwright-core";
import { sendToChannel } from "../../lib/channels";
import { resetConfig } from "../../lib/config";
import { listDeadLetters } from "../../lib/dead-letters";
import { JobHandlersMixin } from "../../services/platform/jobs/handlers";
import { describeBrowser, useBrowser } from "../helpers/browser";
import { waitFor } from "../helpers/wait";

jest.setTimeout(90_000);

const PASSWORD = "correct horse battery staple";
const state = { failing: true, processed: [] as number[], reportFails: true };

describeBrowser("web app: operator console", () => {
	const b = useBrowser({
		services: ["identity", "jobs", "scheduler"],
		env: { PASSWORD_SCRYPT_N: "1024", CHANNELS_RETRY_DELAY_MS: "5" },
		extra: [
			{
				name: "reports",
				mixins: [
					JobHandlersMixin({
						"test.report": {
							async handler(job) {
								if (state.reportFails) throw new Error("the warehouse is unreachable");
								await job.progress(100, "12 rows");
								return { rows: 12 };
							},
						},
					}),
				],
			} as ServiceSchema,
			{
				name: "flaky",
				channels: {
					"test.flaky": {
						group: "flaky",
						maxRetries: 1,
						deadLettering: { enabled: true },
						async handler(ctx: Context<{ n: number }>) {
							if (state.failing) throw new Error("the CRM is down");
							state.processed.push(ctx.params.n);
						},
					},
				},
			},
		],
	});

	/**
	 * An account with its own organisation (through the API, as any client), signed in through the app;
	 * `configure` runs with the organisation's id before the sign-in (the operator organisation is set by id).
	 */
	async function signedIn(
		email: string,
		org: string,
		configure?: (tenantId: string) => Promise<void> | void,
	): Promise<{ page: Page; tenantId: string }> {
		const p = b.platform();
		const reg = await p.http("POST", "/api/auth/register", { body: { email, password: PASSWORD, name: org + " admin" } });
		expect(reg.status).toBe(201);
		const t = await p.http("POST", "/api/tenants", { token: reg.body.accessToken, body: { name: org, slug: org.toLowerCase() } });
		expect(t.status).toBe(201);
		await configure?.(t.body.id);
		const page = await b.page();
		await page.goto(b.url("/#/signin"));
		await page.getByLabel("E-mail").fill(email);
		await page.getByLabel("Password").fill(PASSWORD);
		await page.getByRole("button", { name: "Sign in", exact: true }).click();
		await page.getByRole("heading", { name: "Organisations" }).waitFor();
		return { page, tenantId: t.body.id };
	}

	afterAll(() => {
		delete process.env.OPERATOR_TENANT_ID;
		resetConfig();
	});

	async function checked(page: Page, name: string) {
		await b.screenshot(page, name);
		expect({ screen: name, violations: await b.axe(page) }).toEqual({ screen: name, violations: [] });
	}

	it("shows nodes and services; a dead letter is inspected, replayed, another discarded", async () => {
		const p = b.platform();
		// the operator organisation is configured by id, as on a real platform (set before its admin signs in)
		const ops = await signedIn("ops@valence.test", "Operations", tenantId => {
			process.env.OPERATOR_TENANT_ID = tenantId;
			resetConfig();
		});
		const { page } = ops;

		await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Operator console" }).click();
		await page.getByRole("heading", { name: "Operator console" }).waitFor();
		const matrix = page.getByRole("table", { name: "Which node runs which service" });
		await matrix.waitFor();
		expect(await matrix.textContent()).toContain(p.broker.nodeID);
		for (const service of ["api", "auth", "jobs", "scheduler", "flaky"])
			expect(await matrix.getByRole("rowheader", { name: service, exact: true }).count()).toBe(1);
		const deps = page.getByRole("table", { name: "Dependencies of this node" });
		await deps.waitFor();
		expect(await deps.textContent()).toContain("answers");
		await checked(page, "console-overview");

		// traffic: two samples make the first point of each chart
		await page.getByRole("link", { name: "Traffic" }).click();
		await page.getByText(/HTTP requests\/s: \d/).waitFor({ timeout: 15_000 });
		expect(await page.locator(".chart canvas").count()).toBe(3);
		await checked(page, "console-traffic");

		await sendToChannel(p.broker, "test.flaky", { n: 1 });
		await sendToChannel(p.broker, "test.flaky", { n: 2 });
		await waitFor(async () => (await listDeadLetters(p.broker)).length === 2, { what: "two dead letters" });
		const [first, second] = await listDeadLetters(p.broker);

		await page.getByRole("link", { name: "Dead letters" }).click();
		const table = page.getByRole("table", { name: "Channel dead letters (2)" });
		await table.waitFor();
		expect(await table.textContent()).toContain("the CRM is down");
		await checked(page, "console-dead-letters");

		await page.getByRole("button", { name: `Inspect dead letter ${first.id}` }).click();
		const dialog = page.getByRole("dialog");
		await dialog.waitFor();
		expect(await dialog.textContent()).toContain(`"n": ${(first.payload as { n: number }).n}`);
		await checked(page, "console-dead-letter-inspect");
		await dialog.getByRole("button", { name: "Close" }).click();
		await dialog.waitFor({ state: "hidden" });

		state.failing = false;
		await page.getByRole("button", { name: `Replay dead letter ${first.id}` }).click();
		await page.getByText(`Dead letter ${first.id} was sent again to test.flaky.`).waitFor();
		await waitFor(() => state.processed.length === 1, { what: "the replayed message handled" });
		expect(state.processed).toEqual([(first.payload as { n: number }).n]);

		await page.getByRole("button", { name: `Discard dead letter ${second.id}` }).click();
		await page.getByRole("table", { name: "Channel dead letters (0)" }).waitFor();
		expect(await listDeadLetters(p.broker)).toEqual([]);
		expect(state.processed).toHaveLength(1);

		// a job of the organisation that failed its only attempt: replayed from the Jobs tab once its cause is fixed
		const token = ((await page.evaluate("JSON.parse(localStorage.getItem('valence.tokens'))")) as { accessToken: string }).accessToken;
		const enqueued = await p.http("POST", "/api/jobs", { token, body: { type: "test.report", attempts: 1 } });
		expect(enqueued.status).toBe(202);
		await waitFor(async () => (await p.http("GET", `/api/jobs/${enqueued.body.id}`, { token })).body.status === "dead", { what: "the job dead" });
		await page.getByRole("link", { name: "Jobs" }).click();
		const dead = page.getByRole("table", { name: "Jobs whose last attempt failed (1)" });
		await dead.waitFor();
		expect(await dead.textContent()).toContain("the warehouse is unreachable");
		await checked(page, "console-jobs");
		state.reportFails = false;
		await page.getByRole("button", { name: `Replay job ${enqueued.body.id}` }).click();
		await page.getByText(`Job ${enqueued.body.id} (test.report) runs again.`).waitFor();
		await waitFor(async () => (await p.http("GET", `/api/jobs/${enqueued.body.id}`, { token })).body.status === "completed", {
			what: "the job completed",
		});
		await page.getByRole("table", { name: "Jobs whose last attempt failed (0)" }).waitFor();
		await page
			.getByRole("table", { name: /^Jobs \(/ })
			.getByRole("cell", { name: "completed" })
			.waitFor();
		await page.getByRole("link", { name: "Schedules" }).click();
		await page.getByRole("table", { name: /Schedules \(/ }).waitFor();
		await checked(page, "console-schedules");
	});

	it("shows another organisation's admin its jobs, not the cluster-wide tabs", async () => {
		const { page } = await signedIn("owner@acme.test", "Acme");
		await page.getByRole("link", { name: "Operator console" }).click();
		await page.getByText(/Cluster-wide views .* are for the platform's operators/).waitFor();
		const tabs = page.getByRole("navigation", { name: "Console sections" });
		expect(await tabs.getByRole("link").allTextContents()).toEqual(["Overview", "Jobs", "Schedules"]);
		expect(await page.getByRole("table", { name: "Which node runs which service" }).count()).toBe(0);
		// the address of an operators' tab says so instead of calling the API for nothing
		await page.goto(b.url("/#/console/dead-letters"));
		await page.getByText("This section is for operators.").waitFor();
	});
});
