/** Meta's webhook payloads normalised into events (services/messaging/payloads.ts), and the signature check. */
import { eventKey, parsePayload } from "../../services/messaging/payloads";
import { sign, signatureMatches } from "../../services/messaging/signature";

const entry = (messaging: unknown[]) => ({ object: "instagram", entry: [{ id: "IG1", time: 1700000000000, messaging }] });
const from = { sender: { id: "IGSID-1" }, recipient: { id: "IG1" }, timestamp: 1700000000000 };

describe("Meta webhook payloads", () => {
	it("reads Instagram messages with attachments, postbacks, quick replies and reactions, and skips echoes", () => {
		const parsed = parsePayload(
			entry([
				{ ...from, message: { mid: "m1", text: "hi", attachments: [{ type: "image", payload: { url: "https://x/y.jpg" } }] } },
				{ ...from, message: { mid: "m2", text: "Yes", quick_reply: { payload: "YES" } } },
				{ ...from, postback: { mid: "m3", title: "Start", payload: "GET_STARTED" } },
				{ ...from, reaction: { mid: "m1", action: "react", emoji: "❤" } },
				{ ...from, message: { mid: "m4", text: "ours", is_echo: true } },
				{ ...from, referral: { ref: "ad" } },
			]),
		);
		expect(parsed.problems).toEqual([]);
		expect(parsed.events).toEqual([
			expect.objectContaining({
				type: "message",
				kind: "instagram",
				accountId: "IG1",
				from: "IGSID-1",
				externalId: "m1",
				text: "hi",
				attachments: [{ type: "image", url: "https://x/y.jpg" }],
				at: "2023-11-14T22:13:20.000Z",
			}),
			expect.objectContaining({ externalId: "m2", postback: { title: null, payload: "YES" } }),
			expect.objectContaining({ externalId: "m3", text: "Start", postback: { title: "Start", payload: "GET_STARTED" } }),
			expect.objectContaining({
				externalId: "reaction:IGSID-1:m1:react:1700000000000",
				reaction: { emoji: "❤", action: "react", messageId: "m1" },
			}),
		]);
	});

	it("reads WhatsApp text, buttons, media and failed statuses with Meta's error", () => {
		const value = {
			messaging_product: "whatsapp",
			metadata: { phone_number_id: "PN1" },
			contacts: [{ wa_id: "155", profile: { name: "Kim" } }],
			messages: [
				{
					from: "155",
					id: "wamid.1",
					timestamp: "1700000000",
					type: "interactive",
					interactive: { type: "button_reply", button_reply: { id: "B1", title: "Track" } },
				},
				{ from: "155", id: "wamid.2", timestamp: "1700000000", type: "image", image: { id: "MEDIA1", caption: "look" } },
			],
			statuses: [
				{
					id: "wamid.OUT",
					status: "failed",
					timestamp: "1700000000",
					recipient_id: "155",
					errors: [{ code: 131047, title: "Re-engagement message" }],
				},
			],
		};
		const parsed = parsePayload({ object: "whatsapp_business_account", entry: [{ id: "W", changes: [{ field: "messages", value }] }] });
		expect(parsed.problems).toEqual([]);
		expect(parsed.events).toEqual([
			expect.objectContaining({
				kind: "whatsapp",
				accountId: "PN1",
				from: "155",
				externalId: "wamid.1",
				text: "Track",
				postback: { title: "Track", payload: "B1" },
				profileName: "Kim",
			}),
			expect.objectContaining({ externalId: "wamid.2", text: "look", attachments: [{ type: "image", url: "whatsapp-media:MEDIA1" }] }),
			expect.objectContaining({
				type: "status",
				status: "failed",
				externalIds: ["wamid.OUT"],
				error: { code: 131047, title: "Re-engagement message", message: null },
			}),
		]);
		// a status is its own event per status: delivered and read of one message are two
		expect(eventKey(parsed.events[2])).toBe("status:wamid.OUT:failed");
	});

	it("reports what is malformed and keeps what is not", () => {
		expect(parsePayload([]).problems).toEqual(["the body is not a JSON object"]);
		expect(parsePayload({ object: "page", entry: {} }).problems).toEqual(["`entry` is missing or not an array"]);
		expect(parsePayload({ object: "user", entry: [] }).problems).toEqual(["unknown object 'user'"]);
		const partly = parsePayload(entry([{ ...from, message: { text: "no mid" } }, { ...from, message: { mid: "ok", text: "fine" } }, "junk"]));
		expect(partly.problems).toEqual(["entry[0].messaging[0].message has no mid", "entry[0].messaging[2] is not an object"]);
		expect(partly.events.map(e => e.type === "message" && e.externalId)).toEqual(["ok"]);
		expect(parsePayload({ object: "whatsapp_business_account", entry: [{ changes: [{ value: { metadata: {} } }] }] }).problems).toEqual([
			"entry[0].changes[0].value.metadata.phone_number_id is missing",
		]);
		// entries without messaging (standby, feed changes) are not ours, not malformed
		expect(parsePayload({ object: "page", entry: [{ id: "P", standby: [] }] })).toEqual({ object: "page", events: [], problems: [] });
	});

	it("checks X-Hub-Signature-256 over the exact bytes", () => {
		const body = Buffer.from('{"object":"page"}');
		expect(signatureMatches(body, sign(body, "s3cret"), "s3cret")).toBe(true);
		expect(signatureMatches(body, sign(body, "s3cret").toUpperCase().replace("SHA256=", "sha256="), "s3cret")).toBe(true);
		expect(signatureMatches(Buffer.from('{"object":"page"} '), sign(body, "s3cret"), "s3cret")).toBe(false);
		expect(signatureMatches(body, sign(body, "other"), "s3cret")).toBe(false);
		expect(signatureMatches(body, undefined, "s3cret")).toBe(false);
		expect(signatureMatches(body, "sha1=abc", "s3cret")).toBe(false);
	});
});
