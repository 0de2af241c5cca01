/**
 * Messaging journeys in Chromium (README, "Web app" → "Messaging screens"): a customer's message arriving
 * through Meta's webhook (signed with the app secret, as in test/e2e/messaging-webhooks.test.ts) appears in
 * the open inbox without a reload, first as a new conversation, then in the open thread; the reply typed
 * in the UI reaches the fake Graph API, and so does a saved template with its variable; assign, close,
 * reopen and the filters; keyboard-only and axe checks.
 */
import { describeBrowser, useBrowser } from "../helpers/browser";
import { signedInPage } from "../helpers/browser-session";
import { startFakeGraph, type FakeGraph } from "../helpers/fake-graph";
import type { Platform } from "../helpers/platform";
import { messengerText, signBody } from "../helpers/meta-payloads";
import { waitFor } from "../helpers/wait";

jest.setTimeout(90_000);

const APP_SECRET = "app-secret-0123456789abcdef";
const PAGE_TOKEN = "EAAG-page-token-BROWSER1";
const PAGE_ID = "PAGE-BROWSER-1";

/** A Meta app with a Messenger page connected over the API, and a sender of customer messages signed like Meta's. */
async function connectApp(p: Platform, token: string) {
	const app = await p.http("POST", "/api/messaging/apps", {
		token,
		body: {
			name: "Shop",
			appId: "123456789",
			appSecret: APP_SECRET,
			verifyToken: "verify-token-4321",
			channels: [{ kind: "messenger", pageId: PAGE_ID, accessToken: PAGE_TOKEN }],
		},
	});
	expect(app.status).toBe(201);
	const deliver = async (mid: string, text: string) => {
		const raw = JSON.stringify(messengerText(PAGE_ID, "PSID-B1", mid, text));
		const res = await p.http("POST", `/api/messaging/webhooks/${app.body.id}`, {
			body: raw,
			headers: { "content-type": "application/json", "x-hub-signature-256": signBody(raw, APP_SECRET) },
		});
		expect(res.status).toBe(200);
	};
	return { app, deliver };
}

/** The fake Graph API for a describe block; its URL goes into `env` before useBrowser's beforeAll starts the platform. */
function useFakeGraph(env: Record<string, string>) {
	let graph: FakeGraph;
	beforeAll(async () => {
		graph = await startFakeGraph();
		graph.tokens.add(PAGE_TOKEN);
		graph.profiles.set("PSID-B1", { first_name: "Charles", last_name: "Babbage" });
		env.GRAPH_API_URL = graph.baseUrl;
	});
	afterAll(async () => {
		await graph?.close();
	});
	return () => graph;
}

const ENV = { PASSWORD_SCRYPT_N: "1024", GRAPH_RETRY_DELAY_MS: "20", CHANNELS_RETRY_DELAY_MS: "50" };

describeBrowser("web app: messaging inbox", () => {
	const env: Record<string, string> = { ...ENV };
	const fakeGraph = useFakeGraph(env);
	const b = useBrowser({ services: ["identity", "messaging"], env });

	it("shows a customer's message live, and the reply typed in the inbox reaches the Graph API", async () => {
		const session = await signedInPage(b, { name: "Ada Lovelace", email: "ada@example.com", slug: "ada-shop" });
		const { page } = session;
		const p = b.platform();
		const token = await session.token();
		const { app, deliver } = await connectApp(p, token);
		const template = await p.http("POST", "/api/messaging/templates", {
			token,
			body: {
				appId: app.body.id,
				name: "order-shipped",
				variables: ["order.id"],
				text: "Hi {{ customer.name }}, order {{ order.id }} has shipped.",
			},
		});
		expect([template.status, template.body.errors]).toEqual([201, undefined]);
		const graph = fakeGraph();

		await page.getByRole("link", { name: "Inbox" }).click();
		await page.getByRole("heading", { name: "Inbox", level: 1 }).waitFor();
		await page.getByText("Live: new messages appear as they arrive.").waitFor();
		await page.getByText("No conversations match.").waitFor();
		// a marker that a reload would wipe
		await page.evaluate("window.marker = 'same page'");

		await deliver("m_B_1", "Hello, where is my order?");
		const item = page.locator(".conversations a", { hasText: "Hello, where is my order?" });
		await item.waitFor();
		// the customer's name, once the profile is fetched from the Graph API
		await item.locator("strong", { hasText: "Charles Babbage" }).waitFor();
		await b.screenshot(page, "messaging-inbox");
		expect(await b.axe(page)).toEqual([]);

		// keyboard only: Tab to the conversation, Enter opens it, Tab to the reply
		let reached = false;
		for (let i = 0; i < 40 && !reached; i++) {
			await page.keyboard.press("Tab");
			reached = await item.evaluate(el => el.matches(":focus"));
		}
		expect(reached).toBe(true);
		await page.keyboard.press("Enter");
		const thread = page.getByRole("list", { name: /^Messages with/ });
		await thread.locator(".message-in", { hasText: "Hello, where is my order?" }).waitFor();

		// a second message while the thread is open: it appears in the thread
		await deliver("m_B_2", "It was order 1042.");
		await thread.locator(".message-in", { hasText: "It was order 1042." }).waitFor();

		// on from the conversation with Tab to the reply box
		const reply = page.getByRole("textbox", { name: "Your reply" });
		reached = false;
		for (let i = 0; i < 15 && !reached; i++) {
			await page.keyboard.press("Tab");
			reached = await reply.evaluate(el => el.matches(":focus"));
		}
		expect(reached).toBe(true);
		await page.keyboard.type("It left this morning, Charles.");
		await page.keyboard.press("Tab");
		expect(await page.locator(":focus").textContent()).toBe("Send");
		await page.keyboard.press("Enter");
		await thread.locator(".message-out", { hasText: "It left this morning, Charles." }).waitFor();
		const sent = await waitFor(() => graph.taken.find(t => t.call.body?.message?.text === "It left this morning, Charles."), {
			what: "the reply at the fake Graph API",
		});
		expect(sent!.call.path).toBe(`/${PAGE_ID}/messages`);
		expect(sent!.call.body.recipient).toEqual({ id: "PSID-B1" });
		expect(sent!.call.token).toBe(PAGE_TOKEN);
		// the send's answer comes back live: the message is marked sent
		await thread.locator(".message-out", { hasText: /It left this morning, Charles\.[\s\S]*Sent/ }).waitFor();

		// a saved template with its variable
		await page.getByRole("radio", { name: "Template" }).check();
		await page.getByLabel("Saved template").selectOption({ label: "order-shipped" });
		await page.getByLabel("order.id").fill("1042");
		await page.getByRole("button", { name: "Send" }).click();
		const byTemplate = await waitFor(() => graph.taken.find(t => /order 1042 has shipped/.test(t.call.body?.message?.text ?? "")), {
			what: "the template at the fake Graph API",
		});
		expect(byTemplate!.call.body.message.text).toBe("Hi Charles Babbage, order 1042 has shipped.");
		await b.screenshot(page, "messaging-thread");
		expect(await b.axe(page)).toEqual([]);

		// assign to me, close (it leaves the Open list), find it under Closed, reopen
		await page.getByLabel("Assign to").selectOption({ label: "You (Ada Lovelace)" });
		await page.getByText("assigned to You (Ada Lovelace)").waitFor();
		await page.getByRole("button", { name: "Close", exact: true }).click();
		await page.getByRole("button", { name: "Reopen" }).waitFor();
		await page.getByLabel("Status").selectOption("closed");
		await page.locator(".conversations a", { hasText: "Closed" }).waitFor();
		await page.getByRole("button", { name: "Reopen" }).click();
		await page.getByRole("button", { name: "Close", exact: true }).waitFor();
		await page.getByLabel("Status").selectOption("open");
		await page.getByLabel("Assigned to").selectOption("me");
		await page.locator(".conversations a", { hasText: "Open" }).waitFor();

		expect(await page.evaluate("window.marker")).toBe("same page");
		expect(graph.sends()).toHaveLength(2);
	});
});

describeBrowser("web app: messaging inbox when the access token expires", () => {
	const env: Record<string, string> = { ...ENV, JWT_ACCESS_TTL_S: "6" };
	useFakeGraph(env);
	const b = useBrowser({ services: ["identity", "messaging"], env });

	it("keeps the live channel: the socket refreshes its token and reconnects, messages still arrive without a reload", async () => {
		const session = await signedInPage(b, { name: "Alan Turing", email: "alan@example.com", slug: "alan-shop" });
		const { page } = session;
		const sockets: string[] = [];
		page.on("websocket", ws => sockets.push(ws.url()));
		const { deliver } = await connectApp(b.platform(), await session.token());
		await page.getByRole("link", { name: "Inbox" }).click();
		await page.getByText("Live: new messages appear as they arrive.").waitFor();
		await page.evaluate("window.marker = 'same page'");
		const first = await session.token();

		// the gateway ends the socket when its token expires (session.expired): a refreshed token, a new socket
		await waitFor(() => sockets.length >= 2, { timeoutMs: 20_000, what: "a second socket after the token expired" });
		await page.getByText("Live: new messages appear as they arrive.").waitFor();
		expect(await session.token()).not.toBe(first);

		await deliver("m_T_1", "Still there?");
		await page.locator(".conversations a", { hasText: "Still there?" }).waitFor();
		expect(await page.evaluate("window.marker")).toBe("same page");
		expect(await page.getByRole("heading", { name: "Sign in" }).count()).toBe(0);
	});
});
