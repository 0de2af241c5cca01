/**
 * The offline sandbox provider, the embedded default: no network, deterministic test tokens, ids
 * derived from the idempotency key (the same key answers the same id, as a real provider would).
 *
 * | token | outcome |
 * |---|---|
 * | `pm_sandbox_visa` (any other `pm_sandbox_*`) | succeeds (authorised, or captured with automatic capture) |
 * | `pm_sandbox_declined` | declined: `card_declined` |
 * | `pm_sandbox_insufficient_funds` | declined: `insufficient_funds` |
 * | `pm_sandbox_3ds` | `requires_action` (3-D Secure); a `payment.succeeded` webhook completes it |
 * | `pm_sandbox_delayed` | `pending` (delayed settlement); a webhook settles it |
 *
 * Payout destinations: `acct_sandbox_fail` fails, anything else is paid at once.
 */
import { createHash } from "node:crypto";
import { InvalidSignatureError } from "../../../lib/errors";
import type { CreatePaymentInput, PaymentProvider, ProviderPayment, WebhookEvent } from "./provider";
import { verifySignature } from "./signature";

const ref = (prefix: string, key: string) => `${prefix}_sb_${createHash("sha256").update(key).digest("hex").slice(0, 24)}`;

const DECLINES: Record<string, string> = { pm_sandbox_declined: "card_declined", pm_sandbox_insufficient_funds: "insufficient_funds" };

const EVENT_TYPES = new Set<WebhookEvent["type"]>([
	"payment.succeeded",
	"payment.authorized",
	"payment.failed",
	"payment.requires_action",
	"payment.cancelled",
	"refund.succeeded",
	"refund.failed",
	"payout.paid",
	"payout.failed",
]);

export class SandboxProvider implements PaymentProvider {
	readonly name = "sandbox";
	constructor(
		private readonly webhookSecret: string,
		private readonly toleranceS: number,
	) {}

	async createPayment(input: CreatePaymentInput): Promise<ProviderPayment> {
		const providerRef = ref("pay", input.idempotencyKey);
		const decline = DECLINES[input.paymentMethod];
		if (decline) return { providerRef, status: "failed", declineCode: decline };
		if (input.paymentMethod === "pm_sandbox_3ds")
			return {
				providerRef,
				status: "requires_action",
				nextAction: { type: "3ds_redirect", url: `https://sandbox.invalid/3ds/${providerRef}` },
			};
		if (input.paymentMethod === "pm_sandbox_delayed") return { providerRef, status: "pending" };
		return { providerRef, status: input.captureMethod === "automatic" ? "captured" : "authorized" };
	}

	async capture(payment: { providerRef: string }): Promise<ProviderPayment> {
		return { providerRef: payment.providerRef, status: "captured" };
	}

	async cancel(payment: { providerRef: string }): Promise<ProviderPayment> {
		return { providerRef: payment.providerRef, status: "cancelled" };
	}

	async refund(_payment: unknown, _amount: number, idempotencyKey: string) {
		return { providerRef: ref("re", idempotencyKey), status: "succeeded" as const };
	}

	async createPayout(input: { destination: string; idempotencyKey: string }) {
		return {
			providerRef: ref("po", input.idempotencyKey),
			status: input.destination === "acct_sandbox_fail" ? ("failed" as const) : ("paid" as const),
		};
	}

	/** `Sandbox-Signature: t=…,v1=…` over the body, like Stripe's; the body is `{ id, type, objectRef, declineCode? }`. */
	async verifyWebhook(rawBody: string, headers: Record<string, string | undefined>): Promise<WebhookEvent> {
		verifySignature(rawBody, headers["sandbox-signature"], this.webhookSecret, this.toleranceS);
		const event = JSON.parse(rawBody) as { id?: unknown; type?: unknown; objectRef?: unknown; declineCode?: unknown };
		if (typeof event.id !== "string" || typeof event.objectRef !== "string" || typeof event.type !== "string")
			throw new InvalidSignatureError("the event has no id, type or objectRef");
		const type = EVENT_TYPES.has(event.type as WebhookEvent["type"]) ? (event.type as WebhookEvent["type"]) : "other";
		return {
			eventId: event.id,
			type,
			objectRef: event.objectRef,
			...(typeof event.declineCode === "string" && { declineCode: event.declineCode }),
		};
	}
}
