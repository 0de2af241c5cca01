/**
 * Outbound sends against the fake Graph API, where Meta's Send API makes them hard: it takes no
 * idempotency key, so a send whose answer is lost must not simply go again.
 * - a lost answer: the message waits (`sending`) and Meta's echo (Messenger's metadata, WhatsApp's
 *   biz_opaque_callback_data) confirms it: the customer got it once;
 * - no echo within GRAPH_SEND_CONFIRM_MS: sent again (the documented limit: at least once);
 * - Messenger receipts with only a watermark move every message sent up to then;
 * - an attachment by media-service id: the sender's own upload, sent by its public URL and kept for the
 *   message; someone else's is 404.
 */
import { randomUUID } from "node:crypto";
import sharp from "sharp";
import { startFakeGraph, type FakeGraph } from "../helpers/fake-graph";
import { messengerEcho, messengerReceipt, messengerText, signBody, whatsappStatus, whatsappText } from "../helpers/meta-payloads";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const APP_SECRET = "sends-app-secret-0123456789abcdef";
const CONFIRM_MS = 1500;

describe("messaging sends: lost answers, echoes, watermarks, media", () => {
	let p: Platform;
	let graph: FakeGraph;
	let admin: string;
	let appId: string;
	const tenantId = `t-${randomUUID().slice(0, 8)}`;
	const pageId = `PAGE-S${Date.now()}`;
	const phoneId = `PN-S${Date.now()}`;

	const deliver = (body: unknown) => {
		const raw = JSON.stringify(body);
		return p.http("POST", `/api/messaging/webhooks/${appId}`, { body: raw, headers: { "x-hub-signature-256": signBody(raw, APP_SECRET) } });
	};
	const api = (method: string, path: string, body?: unknown, token = admin) => p.http(method, `/api/messaging${path}`, { token, body });
	const messagesOf = async (id: string) => (await api("GET", `/conversations/${id}/messages?limit=100`)).body.items as any[];
	const messageIn = (conversationId: string, id: string) => messagesOf(conversationId).then(list => list.find(m => m.id === id));
	/** A conversation with a customer who just wrote (the 24-hour window is open). */
	async function conversationWith(psid: string) {
		expect((await deliver(messengerText(pageId, psid, `m_${psid}_in`, `hello from ${psid}`))).status).toBe(200);
		return conversationSaying(`hello from ${psid}`);
	}
	function conversationSaying(text: string) {
		return waitFor(async () => ((await api("GET", "/conversations?limit=100")).body.items as any[]).find(c => c.lastMessage?.text === text), {
			what: `the conversation where the customer said '${text}'`,
		});
	}
	const takenFor = (psid: string) => graph.taken.filter(t => (t.call.body.recipient?.id ?? t.call.body.to) === psid);

	beforeAll(async () => {
		graph = await startFakeGraph();
		p = await startPlatform({
			services: ["messaging", "media"],
			env: {
				GRAPH_API_URL: graph.baseUrl,
				GRAPH_TIMEOUT_MS: "300",
				GRAPH_RETRY_DELAY_MS: "20",
				GRAPH_BREAKER_THRESHOLD: "50",
				GRAPH_SEND_CONFIRM_MS: String(CONFIRM_MS),
				CHANNELS_RETRY_DELAY_MS: "50",
				APP_URL: "https://shop.example.com",
			},
		});
		admin = p.token({ sub: "owner-s", tid: tenantId, roles: ["admin"] });
		const app = await api("POST", "/apps", {
			name: "Sends",
			appId: "424242",
			appSecret: APP_SECRET,
			verifyToken: "sends-verify",
			channels: [
				{ kind: "messenger", pageId, accessToken: "sends-page-token" },
				{ kind: "whatsapp", phoneNumberId: phoneId, accessToken: "sends-wa-token" },
			],
		});
		expect(app.status).toBe(201);
		appId = app.body.id;
	}, 30_000);
	afterAll(async () => {
		await p?.stop();
		await graph?.close();
	});

	it("a send whose answer is lost waits for Meta's echo, which confirms it: the customer gets it once", async () => {
		const conv = await conversationWith("PSID-S1");
		graph.fail("lost", 1, new RegExp(`^/${pageId}/messages$`));
		const sent = await api("POST", `/conversations/${conv.id}/messages`, { text: "Your order shipped." });
		expect(sent.status).toBe(202);
		await waitFor(() => takenFor("PSID-S1").length === 1, { what: "Meta to take the send" });
		const waiting = await waitFor(
			async () => (await messageIn(conv.id, sent.body.id))?.status === "sending" && messageIn(conv.id, sent.body.id),
			{
				what: "the message waiting for confirmation",
			},
		);
		expect(waiting.externalId).toBeNull();

		// what Meta echoes carries what the send carried
		const [{ id: mid, call }] = takenFor("PSID-S1");
		expect(call.body.message.metadata).toBe(`valence:${sent.body.id}`);
		expect((await deliver(messengerEcho(pageId, "PSID-S1", mid, "Your order shipped.", call.body.message.metadata))).status).toBe(200);
		const confirmed = await waitFor(async () => (await messageIn(conv.id, sent.body.id))?.status === "sent" && messageIn(conv.id, sent.body.id), {
			what: "the echo to confirm the send",
		});
		expect(confirmed.externalId).toBe(mid);

		// the channel's later deliveries of this send find it sent: past the confirmation window, still one send
		const stats = () => p.broker.call("messagingprocessor.stats") as Promise<{ resends: number }>;
		const deadline = Date.parse(waiting.updatedAt) + CONFIRM_MS + 1000;
		await waitFor(() => Date.now() > deadline, { what: "the confirmation window to pass", timeoutMs: CONFIRM_MS + 5000 });
		expect(takenFor("PSID-S1")).toHaveLength(1);
		expect((await stats()).resends).toBe(0);
	});

	it("WhatsApp: the status webhook's biz_opaque_callback_data confirms a send whose answer was lost", async () => {
		expect((await deliver(whatsappText(phoneId, "15557654321", "Ada", "wamid.IN-S2", "hi on WhatsApp"))).status).toBe(200);
		const conv = await conversationSaying("hi on WhatsApp");
		graph.fail("lost", 1, new RegExp(`^/${phoneId}/messages$`));
		const sent = await api("POST", `/conversations/${conv.id}/messages`, { text: "On its way." });
		await waitFor(() => takenFor("15557654321").length === 1, { what: "Meta to take the send" });
		const [{ id: wamid, call }] = takenFor("15557654321");
		expect(call.body.biz_opaque_callback_data).toBe(`valence:${sent.body.id}`);
		await waitFor(async () => (await messageIn(conv.id, sent.body.id))?.status === "sending", { what: "sending" });
		expect(
			(await deliver(whatsappStatus(phoneId, "15557654321", wamid, "delivered", undefined, call.body.biz_opaque_callback_data))).status,
		).toBe(200);
		const done = await waitFor(async () => (await messageIn(conv.id, sent.body.id))?.status === "delivered" && messageIn(conv.id, sent.body.id), {
			what: "delivered",
		});
		expect(done.externalId).toBe(wamid);
		expect(takenFor("15557654321")).toHaveLength(1);
	});

	it("without an echo the send goes again after GRAPH_SEND_CONFIRM_MS (at least once), and is sent", async () => {
		const conv = await conversationWith("PSID-S3");
		const before = ((await p.broker.call("messagingprocessor.stats")) as { resends: number }).resends;
		graph.fail("lost", 1, new RegExp(`^/${pageId}/messages$`));
		const sent = await api("POST", `/conversations/${conv.id}/messages`, { text: "Are you there?" });
		const done = await waitFor(async () => (await messageIn(conv.id, sent.body.id))?.status === "sent" && messageIn(conv.id, sent.body.id), {
			what: "sent again",
			timeoutMs: CONFIRM_MS + 15_000,
		});
		const taken = takenFor("PSID-S3");
		expect(taken).toHaveLength(2);
		expect(done.externalId).toBe(taken[1].id);
		expect(((await p.broker.call("messagingprocessor.stats")) as { resends: number }).resends).toBe(before + 1);
	});

	it("a receipt with only a watermark moves every message sent up to its time, and none after", async () => {
		const conv = await conversationWith("PSID-S4");
		const first = (await api("POST", `/conversations/${conv.id}/messages`, { text: "one" })).body;
		const second = (await api("POST", `/conversations/${conv.id}/messages`, { text: "two" })).body;
		await waitFor(async () => (await messagesOf(conv.id)).filter(m => m.direction === "out" && m.status === "sent").length === 2, {
			what: "both sent",
		});
		const sentAt = Date.parse((await messageIn(conv.id, second.id)).sentAt);
		expect((await deliver(messengerReceipt(pageId, "PSID-S4", "delivery", sentAt))).status).toBe(200);
		await waitFor(async () => (await messagesOf(conv.id)).filter(m => m.direction === "out" && m.status === "delivered").length === 2, {
			what: "both delivered by the watermark",
		});
		const third = (await api("POST", `/conversations/${conv.id}/messages`, { text: "three" })).body;
		await waitFor(async () => (await messageIn(conv.id, third.id))?.status === "sent", { what: "the third sent" });
		expect((await deliver(messengerReceipt(pageId, "PSID-S4", "read", sentAt))).status).toBe(200);
		await waitFor(async () => (await messageIn(conv.id, first.id))?.status === "read", { what: "read by the watermark" });
		expect((await messageIn(conv.id, second.id)).status).toBe("read");
		// sent after the watermark: untouched
		expect((await messageIn(conv.id, third.id)).status).toBe("sent");
	});

	it("sends an upload of the sender's by media id (its public URL); someone else's is 404; the upload stays with the message", async () => {
		const conv = await conversationWith("PSID-S5");
		const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: { r: 10, g: 120, b: 200 } } })
			.png()
			.toBuffer();
		const form = new FormData();
		form.append("file", new Blob([new Uint8Array(png)], { type: "image/png" }), "photo.png");
		const upload = await fetch(`${p.baseUrl}/api/media`, { method: "POST", body: form, headers: { authorization: `Bearer ${admin}` } });
		expect(upload.status).toBe(201);
		const media = (await upload.json()) as { id: string };

		const other = p.token({ sub: "member-s", tid: tenantId, roles: ["member"] });
		const foreign = await api("POST", `/conversations/${conv.id}/messages`, { attachment: { mediaId: media.id } }, other);
		expect(foreign.status).toBe(404);
		const both = await api("POST", `/conversations/${conv.id}/messages`, { attachment: { mediaId: media.id, url: "https://x.example/a.png" } });
		expect(both.status).toBe(422);

		const sent = await api("POST", `/conversations/${conv.id}/messages`, { attachment: { mediaId: media.id } });
		expect(sent.status).toBe(202);
		await waitFor(async () => (await messageIn(conv.id, sent.body.id))?.status === "sent", { what: "the attachment sent" });
		const [{ call }] = takenFor("PSID-S5").filter(t => t.call.body.message.attachment);
		expect(call.body.message.attachment).toEqual({
			type: "image",
			payload: { url: `https://shop.example.com/media/${media.id}`, is_reusable: true },
		});
		// what Meta would fetch is served, publicly
		expect((await fetch(`${p.baseUrl}/media/${media.id}`)).status).toBe(200);
		// the upload belongs to the message now: no post can take it
		await expect(p.broker.call("media.claim", { ids: [media.id], userId: "owner-s", postId: "post-1" })).rejects.toMatchObject({ code: 409 });
	});
});
