/**
 * Meta's webhook payloads, normalised into InboundEvents (README, "Messaging domain" → "Webhooks"):
 * - Messenger and Instagram: `object: page | instagram`, `entry[].messaging[]` with `message` (text,
 *   attachments, quick replies; an echo of our own send becomes a `sent` status naming our message),
 *   `postback`, `reaction`, `delivery` and `read`;
 * - WhatsApp Cloud API: `object: whatsapp_business_account`, `entry[].changes[].value` with `messages[]`,
 *   `statuses[]` and `contacts[]` (the profile name).
 * Unknown fields and kinds of entries are ignored. What is malformed (no `entry` array, an item without
 * the ids it needs) is reported as a problem: the caller records it for an operator; the items that are
 * well-formed still go through.
 */
import { SEND_REF_PREFIX, type ChannelKind, type InboundEvent } from "./common";

export interface Parsed {
	object: string | null;
	events: InboundEvent[];
	problems: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const str = (v: unknown, max = 4096): string | null =>
	typeof v === "string" && v.length > 0 ? v.slice(0, max) : typeof v === "number" ? String(v) : null;
const arr = (v: unknown): unknown[] | null => (Array.isArray(v) ? v : null);

/** Meta's times: Messenger in milliseconds, WhatsApp in seconds (as a string). */
function isoTime(v: unknown, unit: "ms" | "s"): string {
	const n = typeof v === "string" ? Number(v) : typeof v === "number" ? v : NaN;
	const ms = unit === "s" ? n * 1000 : n;
	return Number.isFinite(ms) && ms > 0 && ms < 8.64e15 ? new Date(ms).toISOString() : new Date().toISOString();
}

/** Our message id from what a send carried (messaginggraph's SEND_REF_PREFIX), when Meta hands it back. */
function sendRef(v: unknown): string | null {
	const s = str(v, 200);
	return s?.startsWith(SEND_REF_PREFIX) ? s.slice(SEND_REF_PREFIX.length, SEND_REF_PREFIX.length + 64) || null : null;
}

/** The key an event is processed once by: Meta's message id, or what identifies a status. */
export function eventKey(e: InboundEvent): string {
	if (e.type === "message") return `msg:${e.externalId}`;
	if (e.externalIds.length && !e.watermark) return `status:${e.externalIds.join(",")}:${e.status}`;
	return `status:${e.accountId}:${e.recipient}:${e.status}:${e.watermark ?? e.externalIds.join(",")}`;
}

export function parsePayload(body: unknown): Parsed {
	if (!isObj(body)) return { object: null, events: [], problems: ["the body is not a JSON object"] };
	const object = str(body.object, 64);
	const entries = arr(body.entry);
	if (!entries) return { object, events: [], problems: ["`entry` is missing or not an array"] };
	const out: Parsed = { object, events: [], problems: [] };
	if (object === "page" || object === "instagram") {
		const kind: ChannelKind = object === "page" ? "messenger" : "instagram";
		entries.forEach((entry, i) => messagingEntry(kind, entry, `entry[${i}]`, out));
	} else if (object === "whatsapp_business_account") {
		entries.forEach((entry, i) => whatsappEntry(entry, `entry[${i}]`, out));
	} else out.problems.push(`unknown object '${object ?? ""}'`);
	return out;
}

function messagingEntry(kind: ChannelKind, entry: unknown, at: string, out: Parsed) {
	if (!isObj(entry)) return void out.problems.push(`${at} is not an object`);
	if (entry.messaging === undefined) return; // standby, changes (feed) …: not ours
	const items = arr(entry.messaging);
	if (!items) return void out.problems.push(`${at}.messaging is not an array`);
	items.forEach((item, j) => {
		const where = `${at}.messaging[${j}]`;
		if (!isObj(item)) return void out.problems.push(`${where} is not an object`);
		const sender = str(isObj(item.sender) ? item.sender.id : undefined, 256);
		const recipient = str(isObj(item.recipient) ? item.recipient.id : undefined, 256);
		if (!sender || !recipient) return void out.problems.push(`${where} has no sender.id or recipient.id`);
		const time = isoTime(item.timestamp, "ms");
		if (isObj(item.message)) {
			const m = item.message;
			const mid = str(m.mid, 256);
			if (m.is_echo === true) {
				// A send of ours, echoed back: it confirms a send whose own answer was lost. Other echoes
				// (what the page sent from Meta's inbox) are not ours to record.
				const ref = sendRef(m.metadata);
				if (ref && mid)
					out.events.push({
						type: "status",
						kind,
						accountId: sender,
						recipient,
						externalIds: [mid],
						watermark: null,
						status: "sent",
						at: time,
						ref,
					});
				return;
			}
			if (!mid) return void out.problems.push(`${where}.message has no mid`);
			const attachments = (arr(m.attachments) ?? [])
				.filter(isObj)
				.map(a => ({ type: str(a.type, 32) ?? "file", url: str(isObj(a.payload) ? a.payload.url : undefined) }));
			const quick = isObj(m.quick_reply) ? str(m.quick_reply.payload, 1000) : null;
			out.events.push({
				type: "message",
				kind,
				accountId: recipient,
				from: sender,
				externalId: mid,
				at: time,
				text: str(m.text),
				attachments,
				postback: quick ? { title: null, payload: quick } : null,
			});
		} else if (isObj(item.postback)) {
			const p = item.postback;
			const payload = str(p.payload, 1000) ?? "";
			const externalId = str(p.mid, 256) ?? `postback:${sender}:${String(item.timestamp)}`;
			out.events.push({
				type: "message",
				kind,
				accountId: recipient,
				from: sender,
				externalId,
				at: time,
				text: str(p.title),
				attachments: [],
				postback: { title: str(p.title, 256), payload },
			});
		} else if (isObj(item.reaction)) {
			const r = item.reaction;
			const target = str(r.mid, 256);
			if (!target) return void out.problems.push(`${where}.reaction has no mid`);
			const action = str(r.action, 16) ?? "react";
			out.events.push({
				type: "message",
				kind,
				accountId: recipient,
				from: sender,
				externalId: `reaction:${sender}:${target}:${action}:${String(item.timestamp)}`,
				at: time,
				text: null,
				attachments: [],
				reaction: { emoji: str(r.emoji, 16), action, messageId: target },
			});
		} else if (isObj(item.delivery) || isObj(item.read)) {
			const d = (item.delivery ?? item.read) as Obj;
			const mids = (arr(d.mids) ?? (d.mid !== undefined ? [d.mid] : [])).map(x => str(x, 256)).filter((x): x is string => !!x);
			const watermark = d.watermark !== undefined ? isoTime(d.watermark, "ms") : null;
			if (!mids.length && !watermark) return void out.problems.push(`${where} has neither mids nor a watermark`);
			// the customer is the sender of a delivery or read receipt; our page is its recipient
			out.events.push({
				type: "status",
				kind,
				accountId: recipient,
				recipient: sender,
				externalIds: mids,
				watermark,
				status: item.delivery ? "delivered" : "read",
				at: time,
			});
		}
		// anything else (referral, optin, handover …) is not handled and ignored
	});
}

const WA_STATUSES = new Set(["sent", "delivered", "read", "failed"]);

function whatsappEntry(entry: unknown, at: string, out: Parsed) {
	if (!isObj(entry)) return void out.problems.push(`${at} is not an object`);
	const changes = arr(entry.changes);
	if (!changes) return void out.problems.push(`${at}.changes is missing or not an array`);
	changes.forEach((change, j) => {
		const where = `${at}.changes[${j}]`;
		if (!isObj(change) || !isObj(change.value)) return void out.problems.push(`${where} has no value object`);
		if (change.field !== undefined && change.field !== "messages") return;
		const value = change.value;
		const phoneNumberId = str(isObj(value.metadata) ? value.metadata.phone_number_id : undefined, 256);
		if (!phoneNumberId) return void out.problems.push(`${where}.value.metadata.phone_number_id is missing`);
		const names = new Map<string, string>();
		for (const c of arr(value.contacts) ?? [])
			if (isObj(c) && str(c.wa_id) && isObj(c.profile) && str(c.profile.name)) names.set(str(c.wa_id)!, str(c.profile.name, 256)!);
		for (const [k, m] of (arr(value.messages) ?? []).entries()) {
			if (!isObj(m) || !str(m.id, 256) || !str(m.from, 64)) {
				out.problems.push(`${where}.value.messages[${k}] has no id or from`);
				continue;
			}
			out.events.push(whatsappMessage(m, phoneNumberId, names.get(str(m.from)!) ?? null));
		}
		for (const [k, s] of (arr(value.statuses) ?? []).entries()) {
			if (!isObj(s) || !str(s.id, 256) || !WA_STATUSES.has(String(s.status)) || !str(s.recipient_id, 64)) {
				out.problems.push(`${where}.value.statuses[${k}] has no id, recipient_id or known status`);
				continue;
			}
			const err = (arr(s.errors) ?? []).find(isObj);
			out.events.push({
				type: "status",
				kind: "whatsapp",
				accountId: phoneNumberId,
				recipient: str(s.recipient_id)!,
				externalIds: [str(s.id, 256)!],
				watermark: null,
				status: s.status as "sent" | "delivered" | "read" | "failed",
				at: isoTime(s.timestamp, "s"),
				ref: sendRef(s.biz_opaque_callback_data),
				error: err
					? {
							code: typeof err.code === "number" ? err.code : null,
							title: str(err.title, 256),
							message: str(err.message, 1000) ?? str(isObj(err.error_data) ? err.error_data.details : undefined, 1000),
						}
					: null,
			});
		}
	});
}

function whatsappMessage(m: Obj, phoneNumberId: string, profileName: string | null): InboundEvent {
	const type = str(m.type, 32) ?? "unknown";
	const media = isObj(m[type]) ? (m[type] as Obj) : null;
	const base = {
		type: "message" as const,
		kind: "whatsapp" as const,
		accountId: phoneNumberId,
		from: str(m.from, 64)!,
		externalId: str(m.id, 256)!,
		at: isoTime(m.timestamp, "s"),
		profileName,
		attachments: [] as { type: string; url: string | null }[],
	};
	if (type === "text") return { ...base, text: str(isObj(m.text) ? m.text.body : undefined) };
	if (type === "button" && media)
		return { ...base, text: str(media.text), postback: { title: str(media.text, 256), payload: str(media.payload, 1000) ?? "" } };
	if (type === "interactive" && media) {
		const reply = (isObj(media.button_reply) ? media.button_reply : isObj(media.list_reply) ? media.list_reply : {}) as Obj;
		return { ...base, text: str(reply.title), postback: { title: str(reply.title, 256), payload: str(reply.id, 1000) ?? "" } };
	}
	if (type === "reaction" && media)
		return {
			...base,
			text: null,
			reaction: { emoji: str(media.emoji, 16), action: media.emoji ? "react" : "unreact", messageId: str(media.message_id, 256) ?? "" },
		};
	// image, audio, video, document, sticker, location …: media by id (fetched through the Graph API when needed)
	return { ...base, text: str(media?.caption), attachments: [{ type, url: str(media?.id, 256) ? `whatsapp-media:${str(media!.id, 256)}` : null }] };
}
