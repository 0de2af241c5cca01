/**
 * Webhook payloads shaped like Meta's documented examples (Messenger Platform webhook events, WhatsApp
 * Cloud API notification payloads), and their `X-Hub-Signature-256`, for the messaging tests.
 */
import { createHmac } from "node:crypto";

export const signBody = (body: string, secret: string) => `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`;

export function messengerText(pageId: string, psid: string, mid: string, text: string, timestamp = Date.now()) {
	return {
		object: "page",
		entry: [{ id: pageId, time: timestamp, messaging: [{ sender: { id: psid }, recipient: { id: pageId }, timestamp, message: { mid, text } }] }],
	};
}

export function messengerDelivery(pageId: string, psid: string, mids: string[], timestamp = Date.now()) {
	return {
		object: "page",
		entry: [
			{
				id: pageId,
				time: timestamp,
				messaging: [{ sender: { id: psid }, recipient: { id: pageId }, timestamp, delivery: { mids, watermark: timestamp } }],
			},
		],
	};
}

export function whatsappText(
	phoneNumberId: string,
	waId: string,
	name: string,
	id: string,
	text: string,
	timestampS = Math.floor(Date.now() / 1000),
) {
	return {
		object: "whatsapp_business_account",
		entry: [
			{
				id: "WHATSAPP_BUSINESS_ACCOUNT_ID",
				changes: [
					{
						field: "messages",
						value: {
							messaging_product: "whatsapp",
							metadata: { display_phone_number: "15550000000", phone_number_id: phoneNumberId },
							contacts: [{ profile: { name }, wa_id: waId }],
							messages: [{ from: waId, id, timestamp: String(timestampS), text: { body: text }, type: "text" }],
						},
					},
				],
			},
		],
	};
}

/** Messenger's echo of a message the page sent (message_echoes): `metadata` is what the send carried. */
export function messengerEcho(pageId: string, psid: string, mid: string, text: string, metadata?: string, timestamp = Date.now()) {
	return {
		object: "page",
		entry: [
			{
				id: pageId,
				time: timestamp,
				messaging: [
					{
						sender: { id: pageId },
						recipient: { id: psid },
						timestamp,
						message: { is_echo: true, app_id: 123456789, mid, text, ...(metadata && { metadata }) },
					},
				],
			},
		],
	};
}

/** A Messenger read (or delivery) receipt with only a watermark: everything sent up to `watermark` (ms). */
export function messengerReceipt(pageId: string, psid: string, kind: "read" | "delivery", watermark: number) {
	return {
		object: "page",
		entry: [
			{
				id: pageId,
				time: Date.now(),
				messaging: [{ sender: { id: psid }, recipient: { id: pageId }, timestamp: Date.now(), [kind]: { watermark } }],
			},
		],
	};
}

export function whatsappStatus(
	phoneNumberId: string,
	waId: string,
	id: string,
	status: "sent" | "delivered" | "read" | "failed",
	errors?: unknown[],
	bizOpaqueCallbackData?: string,
) {
	return {
		object: "whatsapp_business_account",
		entry: [
			{
				id: "WHATSAPP_BUSINESS_ACCOUNT_ID",
				changes: [
					{
						field: "messages",
						value: {
							messaging_product: "whatsapp",
							metadata: { display_phone_number: "15550000000", phone_number_id: phoneNumberId },
							statuses: [
								{
									id,
									status,
									timestamp: String(Math.floor(Date.now() / 1000)),
									recipient_id: waId,
									...(errors && { errors }),
									...(bizOpaqueCallbackData && { biz_opaque_callback_data: bizOpaqueCallbackData }),
								},
							],
						},
					},
				],
			},
		],
	};
}
