/**
 * The one interface every payment provider sits behind (sandbox, Stripe, PayPal). Amounts are minor
 * units; every call that creates or moves money carries the provider's idempotency key, so a retry
 * after a timeout never charges twice (README, "Commerce domain").
 */

/** Where a provider left a payment: the payment service maps it onto its state machine. */
export type ProviderPaymentStatus = "pending" | "requires_action" | "authorized" | "captured" | "failed" | "cancelled";

export interface ProviderPayment {
	/** the provider's id for it (PaymentIntent id, PayPal order id, sandbox id) */
	providerRef: string;
	status: ProviderPaymentStatus;
	/** why it failed (card_declined, insufficient_funds …), when it did */
	declineCode?: string;
	/** what the buyer must do next (3-D Secure, PayPal approval), when status is requires_action */
	nextAction?: { type: string; url?: string };
	/** PayPal refunds a capture, not an order: the capture id, once captured */
	captureRef?: string;
	/** PayPal captures (or voids) an authorization of a manual-capture order: its id, once authorised */
	authorizationRef?: string;
}

export interface ProviderRefund {
	providerRef: string;
	status: "pending" | "succeeded" | "failed";
}

export interface ProviderPayout {
	providerRef: string;
	status: "pending" | "paid" | "failed";
}

/** A verified provider notification, in provider-neutral terms. */
export interface WebhookEvent {
	/** the provider's event id: deliveries with the same id are one event */
	eventId: string;
	type:
		| "payment.succeeded"
		| "payment.authorized"
		| "payment.failed"
		| "payment.requires_action"
		| "payment.cancelled"
		| "refund.succeeded"
		| "refund.failed"
		| "payout.paid"
		| "payout.failed"
		| "other";
	/** the payment, refund or payout it is about (providerRef) */
	objectRef: string;
	declineCode?: string;
}

export interface CreatePaymentInput {
	amount: number;
	currency: string;
	/** a provider token (pm_…, a PayPal vault id, a sandbox test token): never card data */
	paymentMethod: string;
	/** capture at once (automatic) or authorise only and capture later (manual) */
	captureMethod: "automatic" | "manual";
	idempotencyKey: string;
	description?: string;
}

export interface CapturablePayment {
	providerRef: string;
	amount: number;
	currency: string;
	captureMethod?: "automatic" | "manual";
	authorizationRef?: string;
}

export interface PaymentProvider {
	readonly name: string;
	createPayment(input: CreatePaymentInput): Promise<ProviderPayment>;
	/** An authorised payment, all or `amount` of it; a refusal for the provider's state of it is ProviderRefusedError (nothing changes). */
	capture(payment: CapturablePayment, idempotencyKey: string): Promise<ProviderPayment>;
	cancel(payment: { providerRef: string; authorizationRef?: string }, idempotencyKey: string): Promise<ProviderPayment>;
	refund(payment: { providerRef: string; captureRef?: string; currency: string }, amount: number, idempotencyKey: string): Promise<ProviderRefund>;
	createPayout(input: { amount: number; currency: string; destination: string; idempotencyKey: string }): Promise<ProviderPayout>;
	/** The event in a delivery whose signature verifies, or InvalidSignatureError (401, with the reason). */
	verifyWebhook(rawBody: string, headers: Record<string, string | undefined>): Promise<WebhookEvent>;
}
