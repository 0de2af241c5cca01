/**
 * Messaging: a WhatsApp Business app, a template, and customers writing in the way real messages arrive:
 * Meta-shaped deliveries signed with the app's secret (the demo secret the seed configured), posted to the
 * public webhook route. WhatsApp carries the customer's name in the payload, so nothing asks the Graph API
 * for a profile, and the seed sends no replies: no request leaves this machine.
 */
import { createHmac } from "node:crypto";
import { waitUntil } from "./client";
import { allPages, user, type SeedContext } from "./context";
import { CONVERSATIONS, derived, META_APP, MESSAGE_TEMPLATE, OWNER } from "./data";

export const messagingUnits = () => 2 + CONVERSATIONS.reduce((n, c) => n + c.messages.length + 1, 0) + 1;

const wamid = (c: number, m: number) => `wamid.SEED${derived(`message-${c}-${m}`, 24).toUpperCase()}`;

function delivery(waId: string, name: string, id: string, text: string, timestampS: number) {
	return {
		object: "whatsapp_business_account",
		entry: [
			{
				id: "SEED_WHATSAPP_BUSINESS_ACCOUNT",
				changes: [
					{
						field: "messages",
						value: {
							messaging_product: "whatsapp",
							metadata: { display_phone_number: "15550100001", phone_number_id: META_APP.phoneNumberId },
							contacts: [{ profile: { name }, wa_id: waId }],
							messages: [{ from: waId, id, timestamp: String(timestampS), text: { body: text }, type: "text" }],
						},
					},
				],
			},
		],
	};
}

interface Conversation {
	id: string;
	customerId: string;
	status: string;
	assigneeId: string | null;
	unreadCount: number;
}

export async function seedMessaging(ctx: SeedContext): Promise<void> {
	const { api, progress, tally } = ctx;
	const admin = user(ctx, OWNER.key).token;
	const secret = derived("meta-app-secret");

	progress.begin("messaging: app");
	const apps = (await api.get("/api/messaging/apps", admin)).rows as { id: string; name: string }[];
	let app = apps.find(a => a.name === META_APP.name);
	tally.add("messaging apps", !app);
	app ??= await api.post("/api/messaging/apps", admin, {
		name: META_APP.name,
		appId: META_APP.appId,
		appSecret: secret,
		verifyToken: derived("meta-verify-token"),
		channels: [{ kind: "whatsapp", phoneNumberId: META_APP.phoneNumberId, accessToken: `SEED-DEMO-${derived("whatsapp-token")}` }],
	});
	progress.tick();

	progress.begin("messaging: template");
	const templates = await allPages<{ name: string }>(ctx, `/api/messaging/templates?appId=${app!.id}`, admin);
	const hadTemplate = templates.some(t => t.name === MESSAGE_TEMPLATE.name);
	if (!hadTemplate) await api.post("/api/messaging/templates", admin, { appId: app!.id, ...MESSAGE_TEMPLATE });
	tally.add("message templates", !hadTemplate);
	progress.tick();

	// what is already stored: customers by wa_id, their conversations and the Meta ids of their messages
	const customers = await allPages<{ id: string; identities: { externalId: string }[] }>(ctx, "/api/messaging/customers", admin);
	const customerOf = (waId: string) => customers.find(c => c.identities?.some(i => i.externalId === waId))?.id;
	const conversationsNow = async () => (await api.get(`/api/messaging/conversations?appId=${app!.id}&limit=100`, admin)).items as Conversation[];
	const stored = new Set<string>();
	for (const conv of await conversationsNow())
		for (const m of (await api.get(`/api/messaging/conversations/${conv.id}/messages?limit=100`, admin)).items as { externalId?: string }[])
			if (m.externalId) stored.add(m.externalId);

	progress.begin("messaging: customers writing in");
	const now = Math.floor(Date.now() / 1000);
	const expected = new Map<string, number>();
	for (const [c, conv] of CONVERSATIONS.entries()) {
		expected.set(conv.waId, conv.messages.length);
		tally.add("messaging customers", !customerOf(conv.waId));
		for (const [m, msg] of conv.messages.entries()) {
			const id = wamid(c, m);
			const had = stored.has(id);
			if (!had) {
				const raw = JSON.stringify(delivery(conv.waId, conv.name, id, msg.text, now - msg.minutesAgo * 60));
				await api.call("POST", `/api/messaging/webhooks/${app!.id}`, {
					raw,
					headers: {
						"content-type": "application/json",
						"x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(raw).digest("hex")}`,
					},
				});
			}
			tally.add("messages", !had);
			progress.tick();
		}
	}

	// the processor turns deliveries into customers, conversations and messages through a channel: wait for them
	const convs = await waitUntil("every delivered message in its conversation", async () => {
		const list = await allPages<{ id: string; identities: { externalId: string }[] }>(ctx, "/api/messaging/customers", admin);
		const byCustomer = new Map((await conversationsNow()).map(c => [c.customerId, c]));
		const out = new Map<string, Conversation>();
		for (const [waId, count] of expected) {
			const customer = list.find(c => c.identities?.some(i => i.externalId === waId));
			const conv = customer && byCustomer.get(customer.id);
			if (!conv) return false;
			const messages = (await api.get(`/api/messaging/conversations/${conv.id}/messages?limit=100`, admin)).items as unknown[];
			if (messages.length < count) return false;
			out.set(waId, conv);
		}
		return out;
	});
	progress.tick();

	progress.begin("messaging: inbox");
	for (const conv of CONVERSATIONS) {
		const c = convs.get(conv.waId)!;
		const then = conv.then ?? {};
		if (then.assign && c.assigneeId !== user(ctx, then.assign).id) {
			await api.post(`/api/messaging/conversations/${c.id}/assign`, admin, { assigneeId: user(ctx, then.assign).id });
			tally.add("conversation changes", true);
		}
		if (then.status === "pending" && c.status !== "pending") {
			await api.post(`/api/messaging/conversations/${c.id}/pending`, admin);
			tally.add("conversation changes", true);
		}
		if (then.status === "closed" && c.status !== "closed") {
			await api.post(`/api/messaging/conversations/${c.id}/close`, admin);
			tally.add("conversation changes", true);
		}
		if (then.read && c.unreadCount > 0) {
			await api.post(`/api/messaging/conversations/${c.id}/read`, admin);
			tally.add("conversation changes", true);
		}
		progress.tick();
	}
}
