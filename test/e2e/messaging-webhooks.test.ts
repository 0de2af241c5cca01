/**
 * The messaging domain end to end against a fake Graph API (test/helpers/fake-graph.ts) with payloads
 * shaped like Meta's: the handshake; a signed delivery → a customer with the profile fetched from Graph →
 * a conversation → a reply through the Send API (once per Idempotency-Key) → a delivery webhook marks it
 * delivered; bad signatures (401, nothing stored), malformed payloads (recorded, 200), duplicated
 * deliveries (processed once), Graph 5xx, rate limits and timeouts (retried; intake never waits), the
 * 24-hour window, secrets never answered, realtime events to the tenant.
 */
import { randomUUID } from "node:crypto";
import type { ServiceSchema } from "moleculer";
import { startFakeGraph, type FakeGraph } from "../helpers/fake-graph";
import { messengerDelivery, messengerText, signBody, whatsappStatus, whatsappText } from "../helpers/meta-payloads";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const APP_SECRET = "app-secret-0123456789abcdef";
const VERIFY_TOKEN = "verify-token-4321";
const PAGE_TOKEN = "EAAG-page-token-XYZ1";
const WA_TOKEN = "EAAG-wa-token-XYZ2";

describe("messaging: Meta webhooks, customers, conversations, messages", () => {
	let p: Platform;
	let graph: FakeGraph;
	let admin: string;
	let appId: string;
	const tenantId = `t-${randomUUID().slice(0, 8)}`;
	const pageId = `PAGE${Date.now()}`;
	const phoneId = `PN${Date.now()}`;
	const realtime: { tenantId: string; event: string; data: any }[] = [];

	const recorder: ServiceSchema = {
		name: "realtime-recorder",
		events: {
			"realtime.toTenant"(ctx: { params: { tenantId: string; event: string; data: unknown } }) {
				realtime.push(ctx.params as never);
			},
		},
	};

	const deliver = (body: unknown, opts: { secret?: string; signature?: string | null; raw?: string; app?: string } = {}) => {
		const raw = opts.raw ?? JSON.stringify(body);
		const headers: Record<string, string> = { "content-type": "application/json" };
		const signature = opts.signature === undefined ? signBody(raw, opts.secret ?? APP_SECRET) : opts.signature;
		if (signature !== null) headers["x-hub-signature-256"] = signature;
		return p.http("POST", `/api/messaging/webhooks/${opts.app ?? appId}`, { body: raw, headers });
	};
	const api = (method: string, path: string, body?: unknown, headers?: Record<string, string>) =>
		p.http(method, `/api/messaging${path}`, { token: admin, body, headers });
	const conversations = async () => (await api("GET", "/conversations?limit=100")).body.items as any[];
	const messagesOf = async (id: string) => (await api("GET", `/conversations/${id}/messages?limit=100`)).body.items as any[];

	beforeAll(async () => {
		graph = await startFakeGraph();
		graph.tokens.add(PAGE_TOKEN).add(WA_TOKEN);
		p = await startPlatform({
			services: ["messaging"],
			extra: [recorder],
			env: {
				GRAPH_API_URL: graph.baseUrl,
				GRAPH_TIMEOUT_MS: "300",
				GRAPH_RETRY_DELAY_MS: "20",
				GRAPH_MAX_ATTEMPTS: "3",
				GRAPH_BREAKER_THRESHOLD: "50",
				CHANNELS_RETRY_DELAY_MS: "50",
			},
		});
		admin = p.token({ sub: "owner-1", tid: tenantId, roles: ["admin"] });
		const res = await api("POST", "/apps", {
			name: "Shop",
			appId: "123456789",
			appSecret: APP_SECRET,
			verifyToken: VERIFY_TOKEN,
			channels: [
				{ kind: "messenger", pageId, accessToken: PAGE_TOKEN },
				{ kind: "whatsapp", phoneNumberId: phoneId, accessToken: WA_TOKEN },
			],
		});
		expect(res.status).toBe(201);
		appId = res.body.id;
	}, 30_000);
	afterAll(async () => {
		await p?.stop();
		await graph?.close();
	});

	it("never answers a secret or token, only that one is set and its last 4 characters", async () => {
		const res = await api("GET", `/apps/${appId}`);
		expect(res.status).toBe(200);
		expect(res.body.appSecret).toEqual({ set: true, last4: "cdef" });
		expect(res.body.channels[0]).toEqual({ kind: "messenger", pageId, accessToken: { set: true, last4: "XYZ1" } });
		expect(res.body.webhookPath).toBe(`/api/messaging/webhooks/${appId}`);
		const everything = JSON.stringify(p.responses.map(r => r.body));
		for (const secret of [APP_SECRET, VERIFY_TOKEN, PAGE_TOKEN, WA_TOKEN]) expect(everything).not.toContain(secret);
	});

	it("answers Meta's verification handshake with the challenge, and 403 otherwise", async () => {
		const ok = await p.http(
			"GET",
			`/api/messaging/webhooks/${appId}?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1158201444`,
		);
		expect(ok.status).toBe(200);
		expect(ok.headers.get("content-type")).toMatch(/^text\/plain/);
		expect(ok.body).toBe(1158201444); // the plain body "1158201444" (the helper parses what looks like JSON)
		expect((await p.http("GET", `/api/messaging/webhooks/${appId}?hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1`)).status).toBe(403);
		expect(
			(await p.http("GET", `/api/messaging/webhooks/${appId}?hub.mode=unsubscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`)).status,
		).toBe(403);
		expect(
			(await p.http("GET", `/api/messaging/webhooks/nosuchapp?hub.mode=subscribe&hub.verify_token=${VERIFY_TOKEN}&hub.challenge=1`)).status,
		).toBe(403);
	});

	it("signed delivery → customer with its Graph profile → conversation → reply via the Send API → delivered", async () => {
		graph.profiles.set("PSID-1", { first_name: "Ada", last_name: "Lovelace", profile_pic: "https://cdn.example/ada.jpg" });
		const started = Date.now();
		const res = await deliver(messengerText(pageId, "PSID-1", "m_IN_1", "Hello, is the shop open?"));
		expect(res.status).toBe(200);
		expect(Date.now() - started).toBeLessThan(2000);

		const conv = await waitFor(async () => (await conversations()).find(c => c.lastMessage?.text === "Hello, is the shop open?"), {
			what: "the conversation",
		});
		expect(conv).toMatchObject({ kind: "messenger", accountId: pageId, status: "open", unreadCount: 1 });
		const customer = await waitFor(
			async () => {
				const c = (await api("GET", `/customers/${conv.customerId}`)).body;
				return c.profileStatus === "fetched" && c;
			},
			{ what: "the fetched profile" },
		);
		expect(customer).toMatchObject({
			name: "Ada Lovelace",
			pictureUrl: "https://cdn.example/ada.jpg",
			identities: [{ kind: "messenger", appId, accountId: pageId, externalId: "PSID-1" }],
		});
		const profileCall = graph.calls.find(c => c.path === "/PSID-1")!;
		expect(profileCall.token).toBe(PAGE_TOKEN);
		expect(profileCall.query.fields).toBe("first_name,last_name,profile_pic");

		const created = realtime.find(e => e.event === "messaging.message.created" && e.data.text === "Hello, is the shop open?");
		expect(created).toMatchObject({ tenantId, data: { direction: "in", conversationId: conv.id, status: "received" } });

		// the reply, twice with one Idempotency-Key: one message, one send
		const key = randomUUID();
		const reply = await api("POST", `/conversations/${conv.id}/messages`, { text: "Yes, until 6 pm." }, { "idempotency-key": key });
		expect(reply.status).toBe(202);
		expect(reply.body).toMatchObject({ direction: "out", status: "queued", text: "Yes, until 6 pm." });
		const again = await api("POST", `/conversations/${conv.id}/messages`, { text: "Yes, until 6 pm." }, { "idempotency-key": key });
		expect(again.status).toBe(200);
		expect(again.body.id).toBe(reply.body.id);
		const sent = await waitFor(async () => (await messagesOf(conv.id)).find(m => m.id === reply.body.id && m.status === "sent"), {
			what: "the sent reply",
		});
		expect(graph.sends().filter(s => s.body.message?.text === "Yes, until 6 pm.")).toEqual([
			expect.objectContaining({
				path: `/${pageId}/messages`,
				token: PAGE_TOKEN,
				// our message id rides along, for Meta's echo to name it
				body: {
					recipient: { id: "PSID-1" },
					messaging_type: "RESPONSE",
					message: { text: "Yes, until 6 pm.", metadata: `valence:${reply.body.id}` },
				},
			}),
		]);

		// Meta's delivery receipt names our message id
		expect((await deliver(messengerDelivery(pageId, "PSID-1", [sent.externalId]))).status).toBe(200);
		await waitFor(async () => (await messagesOf(conv.id)).find(m => m.id === reply.body.id)?.status === "delivered", { what: "delivered" });
		expect(realtime.some(e => e.event === "messaging.message.updated" && e.data.id === reply.body.id && e.data.status === "delivered")).toBe(
			true,
		);
	});

	it("refuses a missing or wrong signature with 401 and stores nothing", async () => {
		const body = messengerText(pageId, "PSID-EVIL", "m_EVIL", "forged");
		expect((await deliver(body, { signature: null })).status).toBe(401);
		expect((await deliver(body, { secret: "not-the-secret" })).status).toBe(401);
		expect((await deliver(body, { signature: "sha256=" + "0".repeat(64) })).status).toBe(401);
		// signed over other bytes than were sent
		expect((await deliver(body, { raw: JSON.stringify(body) + " ", signature: signBody(JSON.stringify(body), APP_SECRET) })).status).toBe(401);
		expect((await deliver(body, { app: "nosuchapp" })).status).toBe(404);
		// over the webhook's 512 kB: 413 before anything is read or stored
		const huge = JSON.stringify({ ...body, padding: "x".repeat(600 * 1024) });
		expect((await deliver(undefined, { raw: huge })).status).toBe(413);
		// a valid delivery after them is processed: so by then the forged ones would have been too
		await deliver(messengerText(pageId, "PSID-2", "m_AFTER_FORGED", "after"));
		await waitFor(async () => (await conversations()).some(c => c.lastMessage?.text === "after"), { what: "the valid delivery" });
		expect((await conversations()).some(c => c.lastMessage?.text === "forged")).toBe(false);
		expect((await api("GET", "/customers?q=")).body.rows.some((c: any) => c.identities.some((i: any) => i.externalId === "PSID-EVIL"))).toBe(
			false,
		);
	});

	it("records a well-signed malformed payload as rejected for an operator, and answers 200", async () => {
		const notJson = await deliver(undefined, { raw: "{not json" });
		expect(notJson.status).toBe(200);
		const noEntry = await deliver({ object: "page" });
		expect(noEntry.status).toBe(200);
		const partly = await deliver({
			object: "page",
			entry: [{ id: pageId, messaging: [{ recipient: { id: pageId }, message: { mid: "m_NO_SENDER", text: "x" } }] }],
			extra: { unknown: true },
		});
		expect(partly.status).toBe(200);
		const rejections = (await api("GET", "/webhooks/rejections")).body;
		expect(rejections.rows.map((r: any) => r.problems[0])).toEqual(
			expect.arrayContaining([
				"the body is not JSON",
				"`entry` is missing or not an array",
				"entry[0].messaging[0] has no sender.id or recipient.id",
			]),
		);
		expect(rejections.rows.find((r: any) => r.problems[0] === "the body is not JSON").excerpt).toBe("{not json");
		// members are not operators
		expect(
			(await p.http("GET", "/api/messaging/webhooks/rejections", { token: p.token({ sub: "m", tid: tenantId, roles: ["member"] }) })).status,
		).toBe(403);
	});

	it("processes a redelivered message once", async () => {
		const body = messengerText(pageId, "PSID-3", "m_DUP_1", "only once");
		const answers = await Promise.all([deliver(body), deliver(body), deliver(body)]);
		expect(answers.map(a => a.status)).toEqual([200, 200, 200]);
		expect((await deliver(body)).body.duplicates).toBe(1);
		const conv = await waitFor(async () => (await conversations()).find(c => c.lastMessage?.text === "only once"), { what: "the message" });
		// a later message of the same customer is processed after; the duplicates would be before it
		await deliver(messengerText(pageId, "PSID-3", "m_DUP_2", "second"));
		await waitFor(async () => (await messagesOf(conv.id)).some(m => m.text === "second"), { what: "the second message" });
		expect((await messagesOf(conv.id)).filter(m => m.text === "only once")).toHaveLength(1);
		expect((await api("GET", `/conversations/${conv.id}`)).body.unreadCount).toBe(2);
	});

	it("rides out Graph 5xx, rate limits and timeouts: intake answers at once, the profile fills in later", async () => {
		graph.profiles.set("PSID-4", { first_name: "Grace", last_name: "Hopper", profile_pic: "https://cdn.example/grace.jpg" });
		// more failures than one call's attempts: the channel retries the whole fetch later
		graph.fail("500", 2, /^\/PSID-4$/);
		graph.fail("ratelimit", 2, /^\/PSID-4$/);
		graph.fail("timeout", 2, /^\/PSID-4$/);
		const started = Date.now();
		expect((await deliver(messengerText(pageId, "PSID-4", "m_FLAKY", "are you there?"))).status).toBe(200);
		expect(Date.now() - started).toBeLessThan(2000);
		const conv = await waitFor(async () => (await conversations()).find(c => c.lastMessage?.text === "are you there?"), {
			what: "the message despite Graph",
		});
		const pending = (await api("GET", `/customers/${conv.customerId}`)).body;
		expect(["pending", "fetched"]).toContain(pending.profileStatus);
		const customer = await waitFor(
			async () => {
				const c = (await api("GET", `/customers/${conv.customerId}`)).body;
				return c.profileStatus === "fetched" && c;
			},
			{ what: "the profile after Graph recovered", timeoutMs: 20_000 },
		);
		expect(customer.name).toBe("Grace Hopper");
		expect(graph.calls.filter(c => c.path === "/PSID-4").length).toBe(7);
	});

	it("a send refused by Meta is marked failed with its error; a send during an outage is retried", async () => {
		await deliver(messengerText(pageId, "PSID-5", "m_SEND_FAULTS", "send me things"));
		const conv = await waitFor(async () => (await conversations()).find(c => c.lastMessage?.text === "send me things"), {
			what: "the conversation",
		});
		graph.fail("reject", 1, new RegExp(`^/${pageId}/messages$`));
		const refused = (await api("POST", `/conversations/${conv.id}/messages`, { text: "refused" })).body;
		const failed = await waitFor(async () => (await messagesOf(conv.id)).find(m => m.id === refused.id && m.status === "failed"), {
			what: "failed",
		});
		expect(failed.error.message).toMatch(/recipient is invalid/);
		graph.fail("503", 4, new RegExp(`^/${pageId}/messages$`));
		const later = (await api("POST", `/conversations/${conv.id}/messages`, { text: "after the outage" })).body;
		const ok = await waitFor(async () => (await messagesOf(conv.id)).find(m => m.id === later.id && m.status === "sent"), {
			what: "sent after retries",
			timeoutMs: 20_000,
		});
		expect(ok.externalId).toMatch(/^m_OUT/);
	});

	it("WhatsApp: the name from the payload, a template outside the 24-hour window, statuses forward only", async () => {
		const dayAgo = Math.floor(Date.now() / 1000) - 25 * 3600;
		await deliver(whatsappText(phoneId, "15551234567", "Alan Turing", "wamid.OLD1", "hi from yesterday", dayAgo));
		const conv = await waitFor(async () => (await conversations()).find(c => c.lastMessage?.text === "hi from yesterday"), {
			what: "the WhatsApp conversation",
		});
		expect((await api("GET", `/customers/${conv.customerId}`)).body).toMatchObject({ name: "Alan Turing", profileStatus: "fetched" });
		const text = await api("POST", `/conversations/${conv.id}/messages`, { text: "free text" });
		expect(text.status).toBe(422);
		expect(text.body.detail).toMatch(/24 hours.*only a template/);
		expect(text.body.errors).toEqual([{ field: "text", message: expect.stringMatching(/template/) }]);
		const tpl = await api("POST", `/conversations/${conv.id}/messages`, { template: { name: "order_update", language: "en_US" } });
		expect(tpl.status).toBe(202);
		const sent = await waitFor(async () => (await messagesOf(conv.id)).find(m => m.id === tpl.body.id && m.status === "sent"), {
			what: "the template sent",
		});
		expect(graph.sends().find(s => s.body.to === "15551234567")!.body).toEqual({
			messaging_product: "whatsapp",
			recipient_type: "individual",
			to: "15551234567",
			type: "template",
			template: { name: "order_update", language: { code: "en_US" } },
			biz_opaque_callback_data: `valence:${tpl.body.id}`,
		});
		await deliver(whatsappStatus(phoneId, "15551234567", sent.externalId, "read"));
		await waitFor(async () => (await messagesOf(conv.id)).find(m => m.id === tpl.body.id)?.status === "read", { what: "read" });
		// a late "delivered" does not undo "read"
		await deliver(whatsappStatus(phoneId, "15551234567", sent.externalId, "delivered"));
		await deliver(whatsappText(phoneId, "15551234567", "Alan Turing", "wamid.NEW1", "thanks"));
		await waitFor(async () => (await messagesOf(conv.id)).some(m => m.text === "thanks"), { what: "the next message" });
		expect((await messagesOf(conv.id)).find(m => m.id === tpl.body.id)?.status).toBe("read");
		// the customer wrote again: free text is allowed now
		expect((await api("POST", `/conversations/${conv.id}/messages`, { text: "you're welcome" })).status).toBe(202);
	});

	it("templates: checked when saved, rendered with the customer and the sender's variables when sent", async () => {
		const bad = await api("POST", "/templates", {
			appId,
			name: "broken",
			text: "Hi {{ customer.name }}, {{ secret.password }} {% if %}",
			variables: [],
		});
		expect(bad.status).toBe(422);
		expect(bad.body.errors[0]).toMatchObject({ field: "text" });
		const unknownVar = await api("POST", "/templates", { appId, name: "unknown", text: "Order {{ order.id }}" });
		expect(unknownVar.status).toBe(422);
		expect(unknownVar.body.errors[0].message).toMatch(/unknown variable 'order.id'/);
		expect((await api("POST", "/templates", { appId: "nosuchapp", name: "x", text: "x" })).status).toBe(404);

		const tpl = await api("POST", "/templates", {
			appId,
			name: "order-ready",
			variables: ["order.id"],
			text: "Hi {{ customer.name }}, order {{ order.id }} is ready.",
			quickReplies: [{ title: "Thanks", payload: "THANKS" }],
			whatsapp: { name: "order_ready", language: "en_US", parameters: ["{{ order.id }}"] },
		});
		expect(tpl.status).toBe(201);
		expect((await api("POST", "/templates", { appId, name: "order-ready", text: "again" })).status).toBe(409);

		graph.profiles.set("PSID-6", { first_name: "Edsger", last_name: "Dijkstra" });
		await deliver(messengerText(pageId, "PSID-6", "m_TPL", "where is my order?"));
		const conv = await waitFor(async () => (await conversations()).find(c => c.lastMessage?.text === "where is my order?"), {
			what: "the conversation",
		});
		await waitFor(async () => (await api("GET", `/customers/${conv.customerId}`)).body.profileStatus === "fetched", { what: "the profile" });
		const missing = await api("POST", `/conversations/${conv.id}/messages`, { templateId: tpl.body.id });
		expect(missing.status).toBe(422);
		expect(missing.body.errors).toEqual([{ field: "vars.order.id", message: "is required by the template" }]);
		const sent = await api("POST", `/conversations/${conv.id}/messages`, { templateId: tpl.body.id, vars: { order: { id: "A-17" } } });
		expect(sent.status).toBe(202);
		await waitFor(async () => (await messagesOf(conv.id)).find(m => m.id === sent.body.id)?.status === "sent", { what: "the template sent" });
		expect(graph.sends().find(s => s.body.recipient?.id === "PSID-6")!.body.message).toEqual({
			text: "Hi Edsger Dijkstra, order A-17 is ready.",
			quick_replies: [{ content_type: "text", title: "Thanks", payload: "THANKS" }],
			metadata: `valence:${sent.body.id}`,
		});

		// on WhatsApp, the approved template it maps to, with its body parameters (allowed outside the window)
		await deliver(whatsappText(phoneId, "15559990000", "Barbara Liskov", "wamid.TPL1", "old", Math.floor(Date.now() / 1000) - 30 * 3600));
		const wa = await waitFor(async () => (await conversations()).find(c => c.lastMessage?.text === "old"), { what: "the WhatsApp conversation" });
		const waSent = await api("POST", `/conversations/${wa.id}/messages`, { templateId: tpl.body.id, vars: { order: { id: "B-2" } } });
		expect(waSent.status).toBe(202);
		await waitFor(async () => (await messagesOf(wa.id)).find(m => m.id === waSent.body.id)?.status === "sent", {
			what: "the WhatsApp template sent",
		});
		expect(graph.sends().find(s => s.body.to === "15559990000")!.body.template).toEqual({
			name: "order_ready",
			language: { code: "en_US" },
			components: [{ type: "body", parameters: [{ type: "text", text: "B-2" }] }],
		});
	});

	it("customers: search, tags, attributes, and a merge that keeps the history", async () => {
		const list = (await api("GET", "/customers?q=ada")).body.rows;
		expect(list.map((c: any) => c.name)).toEqual(["Ada Lovelace"]);
		const ada = list[0];
		expect((await api("POST", `/customers/${ada.id}/tags`, { tags: ["VIP", "returning"] })).body.tags).toEqual(["vip", "returning"]);
		expect((await api("GET", "/customers?tag=vip")).body.rows.map((c: any) => c.id)).toEqual([ada.id]);
		expect((await api("DELETE", `/customers/${ada.id}/tags/returning`)).body.tags).toEqual(["vip"]);
		expect((await api("PATCH", `/customers/${ada.id}`, { attributes: { city: "London", plan: "gold" } })).body.attributes).toEqual({
			city: "London",
			plan: "gold",
		});
		expect((await api("PATCH", `/customers/${ada.id}`, { attributes: { plan: null } })).body.attributes).toEqual({ city: "London" });

		const grace = (await api("GET", "/customers?q=grace")).body.rows[0];
		const graceConvs = (await conversations()).filter(c => c.customerId === grace.id);
		expect(graceConvs.length).toBe(1);
		const merged = await api("POST", `/customers/${ada.id}/merge`, { from: grace.id });
		expect(merged.status).toBe(200);
		expect(merged.body.identities.map((i: any) => i.externalId).sort()).toEqual(["PSID-1", "PSID-4"]);
		expect((await api("GET", `/customers/${grace.id}`)).body.mergedInto).toBe(ada.id);
		expect((await api("GET", `/conversations/${graceConvs[0].id}`)).body.customerId).toBe(ada.id);
		expect((await messagesOf(graceConvs[0].id)).some(m => m.text === "are you there?")).toBe(true);
		// the merged identity's next message lands with the customer kept
		await deliver(messengerText(pageId, "PSID-4", "m_AFTER_MERGE", "after the merge"));
		await waitFor(async () => (await conversations()).find(c => c.lastMessage?.text === "after the merge")?.customerId === ada.id, {
			what: "the merged identity",
		});
		expect((await api("GET", "/customers?q=grace")).body.rows).toEqual([]);
	});

	it("conversations: pending, close, reopen, assign, read, filters and the cursor", async () => {
		const all = await conversations();
		const conv = all[0];
		expect((await api("POST", `/conversations/${conv.id}/pending`)).body.status).toBe("pending");
		expect((await api("GET", "/conversations?status=pending")).body.items.map((c: any) => c.id)).toEqual([conv.id]);
		expect((await api("POST", `/conversations/${conv.id}/close`)).body.status).toBe("closed");
		expect((await api("POST", `/conversations/${conv.id}/reopen`)).body.status).toBe("open");
		expect((await api("POST", `/conversations/${conv.id}/assign`, { assigneeId: "owner-1" })).body.assigneeId).toBe("owner-1");
		expect((await api("GET", "/conversations?assigneeId=me")).body.items.map((c: any) => c.id)).toEqual([conv.id]);
		expect((await api("POST", `/conversations/${conv.id}/read`)).body.unreadCount).toBe(0);
		expect(realtime.some(e => e.event === "messaging.conversation.updated" && e.data.id === conv.id && e.data.status === "pending")).toBe(true);
		// pages of 2 cover every conversation once, newest activity first
		const seen: string[] = [];
		let cursor: string | null = null;
		do {
			const page: any = (await api("GET", `/conversations?limit=2${cursor ? `&cursor=${cursor}` : ""}`)).body;
			seen.push(...page.items.map((c: any) => c.id));
			cursor = page.nextCursor;
		} while (cursor);
		expect(seen).toEqual(all.map(c => c.id));
		expect((await api("GET", "/conversations?cursor=not-a-cursor")).status).toBe(400);
	});

	it("another tenant sees none of it", async () => {
		const other = p.token({ sub: "x", tid: "other-tenant", roles: ["admin"] });
		expect((await p.http("GET", "/api/messaging/conversations", { token: other })).body.items).toEqual([]);
		expect((await p.http("GET", `/api/messaging/apps/${appId}`, { token: other })).status).toBe(404);
	});
});
