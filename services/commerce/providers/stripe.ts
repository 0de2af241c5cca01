/**
 * Stripe: PaymentIntents (confirmed at creation with the customer's payment method token), capture,
 * cancel, Refunds, Transfers to connected accounts as payouts, and webhooks signed with
 * `Stripe-Signature` (checked within WEBHOOK_TOLERANCE_S). Every POST sends Stripe's `Idempotency-Key`,
 * so the client may retry it. Amounts are Stripe's "smallest unit": ISO's, except ISK and UGX, which
 * Stripe still counts in hundredths.
 */
import { ProviderRejectedError, InvalidSignatureError } from "../../../lib/errors";
import { ProviderHttp, type HttpOptions } from "./http";
import type { CreatePaymentInput, PaymentProvider, ProviderPayment, ProviderPaymentStatus, ProviderRefund, WebhookEvent } from "./provider";
import { verifySignature } from "./signature";

const HUNDREDTHS = new Set(["ISK", "UGX"]);
const toStripe = (amount: number, currency: string) => (HUNDREDTHS.has(currency) ? amount * 100 : amount);

interface Intent {
	id: string;
	status: string;
	next_action?: { type?: string; redirect_to_url?: { url?: string } };
	last_payment_error?: { code?: string; decline_code?: string };
}

const STATUS: Record<string, ProviderPaymentStatus> = {
	requires_payment_method: "failed",
	requires_confirmation: "pending",
	requires_action: "requires_action",
	processing: "pending",
	requires_capture: "authorized",
	succeeded: "captured",
	canceled: "cancelled",
};

function toPayment(intent: Intent): ProviderPayment {
	const status = STATUS[intent.status] ?? "pending";
	const declineCode = intent.last_payment_error?.decline_code ?? intent.last_payment_error?.code;
	return {
		providerRef: intent.id,
		status,
		...(status === "failed" && { declineCode: declineCode ?? "declined" }),
		...(status === "requires_action" && {
			nextAction: { type: intent.next_action?.type ?? "use_stripe_sdk", url: intent.next_action?.redirect_to_url?.url },
		}),
	};
}

const form = (fields: Record<string, string | number | undefined>) =>
	Object.entries(fields)
		.filter(([, v]) => v !== undefined)
		.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
		.join("&");

const EVENTS: Record<string, WebhookEvent["type"]> = {
	"payment_intent.succeeded": "payment.succeeded",
	"payment_intent.amount_capturable_updated": "payment.authorized",
	"payment_intent.payment_failed": "payment.failed",
	"payment_intent.requires_action": "payment.requires_action",
	"payment_intent.canceled": "payment.cancelled",
};

export class StripeProvider implements PaymentProvider {
	readonly name = "stripe";
	private readonly http: ProviderHttp;

	constructor(
		http: Omit<HttpOptions, "name">,
		private readonly secretKey: string,
		private readonly webhookSecret: string | undefined,
		private readonly toleranceS: number,
	) {
		this.http = new ProviderHttp({ ...http, name: "Stripe" });
	}

	private async post<T>(path: string, fields: Record<string, string | number | undefined>, idempotencyKey: string) {
		return this.http.request<T & { error?: { type?: string; code?: string; decline_code?: string; message?: string; payment_intent?: Intent } }>(
			"POST",
			path,
			{
				headers: {
					authorization: `Bearer ${this.secretKey}`,
					"content-type": "application/x-www-form-urlencoded",
					"idempotency-key": idempotencyKey,
				},
				body: form(fields),
				retryable: true,
			},
		);
	}

	private refused(answer: { status: number; body: { error?: { message?: string; code?: string } } }): never {
		throw new ProviderRejectedError("Stripe", answer.body?.error?.code ?? answer.body?.error?.message ?? `HTTP ${answer.status}`);
	}

	async createPayment(input: CreatePaymentInput): Promise<ProviderPayment> {
		const answer = await this.post<Intent>(
			"/v1/payment_intents",
			{
				amount: toStripe(input.amount, input.currency),
				currency: input.currency.toLowerCase(),
				payment_method: input.paymentMethod,
				confirm: "true",
				capture_method: input.captureMethod,
				"payment_method_types[]": "card",
				description: input.description,
			},
			input.idempotencyKey,
		);
		// A decline is a 402 card_error carrying the intent (or none, when it never got that far).
		if (answer.status === 402 && answer.body.error) {
			const e = answer.body.error;
			return {
				providerRef: e.payment_intent?.id ?? `declined:${input.idempotencyKey}`,
				status: "failed",
				declineCode: e.decline_code ?? e.code ?? "card_declined",
			};
		}
		if (answer.status !== 200) this.refused(answer);
		return toPayment(answer.body);
	}

	async capture(payment: { providerRef: string; amount: number; currency: string }, idempotencyKey: string): Promise<ProviderPayment> {
		const answer = await this.post<Intent>(
			`/v1/payment_intents/${encodeURIComponent(payment.providerRef)}/capture`,
			{ amount_to_capture: toStripe(payment.amount, payment.currency) },
			idempotencyKey,
		);
		if (answer.status !== 200) this.refused(answer);
		return toPayment(answer.body);
	}

	async cancel(payment: { providerRef: string }, idempotencyKey: string): Promise<ProviderPayment> {
		const answer = await this.post<Intent>(`/v1/payment_intents/${encodeURIComponent(payment.providerRef)}/cancel`, {}, idempotencyKey);
		if (answer.status !== 200) this.refused(answer);
		return toPayment(answer.body);
	}

	async refund(payment: { providerRef: string; currency: string }, amount: number, idempotencyKey: string): Promise<ProviderRefund> {
		const answer = await this.post<{ id: string; status: string }>(
			"/v1/refunds",
			{ payment_intent: payment.providerRef, amount: toStripe(amount, payment.currency) },
			idempotencyKey,
		);
		if (answer.status !== 200) this.refused(answer);
		const status =
			answer.body.status === "succeeded"
				? "succeeded"
				: answer.body.status === "failed" || answer.body.status === "canceled"
					? "failed"
					: "pending";
		return { providerRef: answer.body.id, status };
	}

	async createPayout(input: { amount: number; currency: string; destination: string; idempotencyKey: string }) {
		const answer = await this.post<{ id: string }>(
			"/v1/transfers",
			{ amount: toStripe(input.amount, input.currency), currency: input.currency.toLowerCase(), destination: input.destination },
			input.idempotencyKey,
		);
		if (answer.status !== 200) return { providerRef: `failed:${input.idempotencyKey}`, status: "failed" as const };
		return { providerRef: answer.body.id, status: "paid" as const };
	}

	async verifyWebhook(rawBody: string, headers: Record<string, string | undefined>): Promise<WebhookEvent> {
		if (!this.webhookSecret) throw new InvalidSignatureError("STRIPE_WEBHOOK_SECRET is not set");
		verifySignature(rawBody, headers["stripe-signature"], this.webhookSecret, this.toleranceS);
		const event = JSON.parse(rawBody) as {
			id: string;
			type: string;
			data?: { object?: Intent & { object?: string; status?: string; payment_intent?: string } };
		};
		const object = event.data?.object;
		if (!event.id || !object?.id) throw new InvalidSignatureError("the event has no id or object");
		if (object.object === "refund" && event.type.startsWith("refund."))
			return {
				eventId: event.id,
				type: object.status === "succeeded" ? "refund.succeeded" : object.status === "failed" ? "refund.failed" : "other",
				objectRef: object.id,
			};
		const type = EVENTS[event.type] ?? "other";
		const declineCode = object.last_payment_error?.decline_code ?? object.last_payment_error?.code;
		return { eventId: event.id, type, objectRef: object.id, ...(type === "payment.failed" && { declineCode: declineCode ?? "declined" }) };
	}
}
