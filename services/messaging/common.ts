/**
 * Shared pieces of the messaging domain (README, "Messaging domain"): the channel kinds, the durable
 * channels between intake and processing, validation fragments and the shapes crossing between services.
 */

export const CHANNEL_KINDS = ["messenger", "instagram", "whatsapp"] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

/** Durable channels (@moleculer/channels). */
export const INBOUND_CHANNEL = "messaging.inbound";
export const PROFILE_CHANNEL = "messaging.profile";
export const OUTBOUND_CHANNEL = "messaging.outbound";
/** What a send carries of ours, so Meta's echo (Messenger, Instagram) or status (WhatsApp) names the message it confirms. */
export const SEND_REF_PREFIX = "valence:";

/** Meta's customer-service window: after the customer's last message, free-form replies are allowed this long. */
export const CUSTOMER_WINDOW_MS = 24 * 3600 * 1000;

export { idParam } from "../../lib/validation";
export const kindParam = { type: "enum", values: [...CHANNEL_KINDS] } as const;
/** Meta's ids (page, IG user, phone number, PSID, wa_id, mid) are short; 256 is generous. */
export const externalIdParam = { type: "string", min: 1, max: 256 } as const;

/** One inbound fact of a webhook delivery, normalised (lib: ./payloads.ts). */
export type InboundEvent =
	| {
			type: "message";
			kind: ChannelKind;
			/** the page id, IG user id or phone-number id the customer wrote to */
			accountId: string;
			/** PSID, IGSID or wa_id */
			from: string;
			/** Meta's message id (mid / wamid) */
			externalId: string;
			at: string;
			text: string | null;
			attachments: { type: string; url: string | null }[];
			/** a postback's payload, a quick reply's payload, a reaction */
			postback?: { title: string | null; payload: string } | null;
			reaction?: { emoji: string | null; action: string; messageId: string } | null;
			/** WhatsApp hands the profile name in the payload itself */
			profileName?: string | null;
	  }
	| {
			type: "status";
			kind: ChannelKind;
			accountId: string;
			/** the customer */
			recipient: string;
			/** our outbound message's Meta id (Messenger delivery/read carry several, or only a watermark) */
			externalIds: string[];
			/** Messenger/Instagram read and delivery: everything sent up to this time */
			watermark: string | null;
			status: "sent" | "delivered" | "read" | "failed";
			at: string;
			/** our message id, when Meta hands back what the send carried (Messenger's echo metadata, WhatsApp's biz_opaque_callback_data) */
			ref?: string | null;
			error?: { code: number | null; title: string | null; message: string | null } | null;
	  };

/** The message of the inbound channel: one event of one app's delivery. */
export interface InboundJob {
	tenantId: string;
	appId: string;
	/** the key the event is deduplicated by (./payloads.ts: eventKey) */
	key: string;
	event: InboundEvent;
}

/** What the apps service hands other messaging services about one channel of an app (secrets decrypted). */
export interface ChannelCredentials {
	appId: string;
	kind: ChannelKind;
	accountId: string;
	accessToken: string;
}

/** Status order: a status only moves forward (a late "delivered" never undoes "read"). */
export const STATUS_RANK: Record<string, number> = { queued: 0, sending: 0, sent: 1, delivered: 2, read: 3, failed: 4 };
