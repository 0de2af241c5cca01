/**
 * Flows end to end against the fake Graph API: checked when saved; a keyword starts a run that asks,
 * waits for the reply (stored as an attribute), tags, replies, assigns round-robin and closes; an ask
 * that is not answered goes on at its timeout; a flow that loops is cut off; only published flows run.
 */
import { randomUUID } from "node:crypto";
import type { ActionSchema, Context, Middleware } from "moleculer";
import { startFakeGraph, type FakeGraph } from "../helpers/fake-graph";
import { messengerText, signBody } from "../helpers/meta-payloads";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const SECRET = "flows-app-secret-0001";

describe("messaging flows", () => {
	let p: Platform;
	let graph: FakeGraph;
	let admin: string;
	let appId: string;
	const pageId = `PAGE-F${Date.now()}`;
	const tenantId = `t-${randomUUID().slice(0, 8)}`;

	const api = (method: string, path: string, body?: unknown) => p.http(method, `/api/messaging${path}`, { token: admin, body });
	const deliver = (psid: string, mid: string, text: string) => {
		const raw = JSON.stringify(messengerText(pageId, psid, mid, text));
		return p.http("POST", `/api/messaging/webhooks/${appId}`, { body: raw, headers: { "x-hub-signature-256": signBody(raw, SECRET) } });
	};
	const conversationOf = (psid: string) =>
		waitFor(
			async () => {
				const items = (await api("GET", "/conversations?limit=100")).body.items as any[];
				const customers = (await api("GET", "/customers?pageSize=100")).body.rows as any[];
				const c = customers.find(x => x.identities.some((i: any) => i.externalId === psid));
				return c && items.find(i => i.customerId === c.id);
			},
			{ what: `the conversation of ${psid}` },
		);
	const sentTo = (psid: string) =>
		graph
			.sends()
			.filter(s => s.body.recipient?.id === psid)
			.map(s => s.body.message.text);
	/** What the Graph API received for `psid` once it holds `count` sends: a run's sends leave through the outbound channel, after the run may have ended. */
	const sentOnceThere = (psid: string, count: number) =>
		waitFor(() => sentTo(psid).length >= count && sentTo(psid), { what: `${count} sends to ${psid}` });
	const runsOf = async (conversationId: string) => (await api("GET", `/flow-runs?conversationId=${conversationId}`)).body.rows as any[];

	/** Actions to fail once, the next time they are called: a node dying at that point, as the caller sees it. */
	const failNext = new Set<string>();
	const failOnce: Middleware = {
		localAction(handler, action: ActionSchema) {
			const name = action.name ?? "";
			return function failingOnce(ctx: Context) {
				if (failNext.delete(name)) return Promise.reject(new Error(`${name}: failed on purpose (test)`));
				return handler.call(ctx.service!, ctx);
			};
		},
	};

	beforeAll(async () => {
		graph = await startFakeGraph();
		p = await startPlatform({
			services: ["messaging"],
			env: { GRAPH_API_URL: graph.baseUrl, GRAPH_RETRY_DELAY_MS: "20", CHANNELS_RETRY_DELAY_MS: "50" },
			brokerOptions: o => ({ ...o, middlewares: [...(o.middlewares ?? []), failOnce] }),
		});
		admin = p.token({ sub: "owner-f", tid: tenantId, roles: ["admin"] });
		const app = await api("POST", "/apps", {
			name: "Flows",
			appId: "777",
			appSecret: SECRET,
			verifyToken: "flows-verify",
			channels: [{ kind: "messenger", pageId, accessToken: "flows-page-token" }],
		});
		appId = app.body.id;
	}, 30_000);
	afterAll(async () => {
		await p?.stop();
		await graph?.close();
	});

	it("refuses a flow whose steps do not fit together", async () => {
		const res = await api("POST", "/flows", {
			appId,
			name: "broken",
			trigger: { type: "keyword" },
			steps: [
				{ id: "a", type: "ask", text: "?", next: "nowhere" },
				{ id: "a", type: "assign" },
			],
		});
		expect(res.status).toBe(422);
		expect(res.body.errors.map((e: any) => e.field)).toEqual(
			expect.arrayContaining(["trigger.keywords", "steps[1].id", "steps[0].next", "steps[0].timeoutS", "steps[1].userId"]),
		);
	});

	it("a keyword starts a run: ask, wait for the reply, tag, reply, assign round-robin, close", async () => {
		const flow = await api("POST", "/flows", {
			appId,
			name: "orders",
			trigger: { type: "keyword", keywords: ["order"] },
			steps: [
				{ id: "ask", type: "ask", text: "What is your order number?", attribute: "orderNumber", timeoutS: 600 },
				{ id: "tag", type: "tag", tag: "order-bot" },
				{ id: "thanks", type: "send", text: "Thanks, an agent will look at it." },
				{ id: "assign", type: "assign", roundRobin: ["agent-1", "agent-2"] },
				{ id: "close", type: "close" },
			],
		});
		expect(flow.status).toBe(201);
		// a draft does not run
		await deliver("PSID-F1", "m_F1_1", "my order is late");
		const conv = await conversationOf("PSID-F1");
		expect(await runsOf(conv.id)).toEqual([]);
		expect((await api("POST", `/flows/${flow.body.id}/publish`)).body.published.version).toBe(1);

		await deliver("PSID-F1", "m_F1_2", "where is my ORDER?");
		await waitFor(() => sentTo("PSID-F1").includes("What is your order number?"), { what: "the question" });
		expect((await runsOf(conv.id))[0]).toMatchObject({ state: "waiting", flowId: flow.body.id, version: 1 });
		await deliver("PSID-F1", "m_F1_3", "A-42");
		const run = await waitFor(async () => (await runsOf(conv.id)).find(r => r.state === "done"), { what: "the finished run" });
		expect(run.taken).toBe(5);
		expect(await sentOnceThere("PSID-F1", 2)).toEqual(["What is your order number?", "Thanks, an agent will look at it."]);
		expect((await api("GET", `/customers/${conv.customerId}`)).body).toMatchObject({ attributes: { orderNumber: "A-42" }, tags: ["order-bot"] });
		expect((await api("GET", `/conversations/${conv.id}`)).body).toMatchObject({ status: "closed", assigneeId: "agent-1" });

		// the next customer gets the next agent
		await deliver("PSID-F2", "m_F2_1", "order");
		const conv2 = await conversationOf("PSID-F2");
		await waitFor(async () => (await runsOf(conv2.id))[0]?.state === "waiting", { what: "the second run waiting" });
		await deliver("PSID-F2", "m_F2_2", "B-7");
		await waitFor(async () => (await api("GET", `/conversations/${conv2.id}`)).body.assigneeId === "agent-2", { what: "round-robin" });
	});

	it("an unanswered ask goes on at its timeout", async () => {
		const flow = await api("POST", "/flows", {
			appId,
			name: "nudge",
			trigger: { type: "keyword", keywords: ["help"] },
			steps: [
				{ id: "ask", type: "ask", text: "How can we help?", timeoutS: 1, onTimeout: "nudge" },
				{ id: "done", type: "send", text: "Got it.", next: "end" },
				{ id: "nudge", type: "send", text: "Are you still there?" },
				{ id: "end", type: "tag", tag: "nudged" },
			],
		});
		await api("POST", `/flows/${flow.body.id}/publish`);
		await deliver("PSID-F3", "m_F3_1", "help");
		const conv = await conversationOf("PSID-F3");
		const run = await waitFor(async () => (await runsOf(conv.id)).find(r => r.state === "done"), {
			what: "the run after its timeout",
			timeoutMs: 15_000,
		});
		expect(run.taken).toBe(3);
		expect(await sentOnceThere("PSID-F3", 2)).toEqual(["How can we help?", "Are you still there?"]);
	});

	it("cuts off a flow that loops, after a bounded number of steps", async () => {
		const flow = await api("POST", "/flows", {
			appId,
			name: "loop",
			trigger: { type: "keyword", keywords: ["loop"] },
			steps: [
				{ id: "a", type: "tag", tag: "looped", next: "b" },
				{ id: "b", type: "set_attribute", key: "n", value: "1", next: "a" },
			],
		});
		await api("POST", `/flows/${flow.body.id}/publish`);
		await deliver("PSID-F4", "m_F4_1", "loop");
		const conv = await conversationOf("PSID-F4");
		const run = await waitFor(async () => (await runsOf(conv.id)).find(r => r.state === "cut_off"), { what: "the cut-off run" });
		expect(run.taken).toBe(50);
		expect(run.error).toMatch(/cut off after 50 steps/);
	});

	it("starts a message's flow on the redelivery when the first processing died before the flows saw it, and only once", async () => {
		const flow = await api("POST", "/flows", {
			appId,
			name: "status",
			trigger: { type: "keyword", keywords: ["status"] },
			steps: [{ id: "reply", type: "send", text: "Checking on it." }],
		});
		await api("POST", `/flows/${flow.body.id}/publish`);

		// died after the message was stored, before any flow ran: the channel's redelivery starts the flow
		failNext.add("messagingflows.published");
		await deliver("PSID-F5", "m_F5_1", "status please?");
		const conv = await conversationOf("PSID-F5");
		await waitFor(async () => (await runsOf(conv.id)).find(r => r.state === "done"), { what: "the run started by the redelivery" });
		expect(failNext.has("messagingflows.published")).toBe(false);

		// died after the flow ran, before that was noted: the redelivery finds the message taken
		failNext.add("messagingmessages.markFlowHandled");
		await deliver("PSID-F5", "m_F5_2", "status again");
		await waitFor(async () => (await runsOf(conv.id)).filter(r => r.state === "done").length === 2, { what: "the second run" });
		await waitFor(async () => !failNext.has("messagingmessages.markFlowHandled") && (await runsOf(conv.id)).length === 2, {
			what: "the redelivery after the lost note",
		});
		expect(await sentOnceThere("PSID-F5", 2)).toEqual(["Checking on it.", "Checking on it."]);
		expect((await api("GET", `/conversations/${conv.id}/messages?limit=100`)).body.items.filter((m: any) => m.direction === "in")).toHaveLength(
			2,
		);
	});
});
