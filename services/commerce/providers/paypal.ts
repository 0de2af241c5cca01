/**
 * PayPal: OAuth2 client credentials (the token cached until shortly before it expires, fetched again
 * on a 401), Orders v2 (create with a vaulted payment source, or with approval by the buyer; capture),
 * manual capture (`intent: AUTHORIZE`: the order is authorised, then its authorization captured, or
 * voided on cancel), refunds of a capture, Payouts, and webhook verification through PayPal's own
 * verify-webhook-signature API. Every POST that moves money sends `PayPal-Request-Id`, PayPal's idempotency key.
 */
import { InvalidSignatureError, ProviderRefusedError, ProviderRejectedError } from "../../../lib/errors";
import { formatAmount } from "../money";
import { ProviderHttp, type HttpOptions } from "./http";
import type { CapturablePayment, CreatePaymentInput, PaymentProvider, ProviderPayment, ProviderRefund, WebhookEvent } from "./provider";

interface Order {
	id: string;
	status: string;
	links?: { rel: string; href: string }[];
	purchase_units?: { payments?: { captures?: { id: string; status: string }[]; authorizations?: { id: string; status: string }[] } }[];
}

/** A PayPal error's first issue (`INSTRUMENT_DECLINED`, `AUTHORIZATION_VOIDED` …), else its name. */
const issueOf = (body: any): string => body?.details?.[0]?.issue ?? body?.name ?? "UNPROCESSABLE_ENTITY";

function toPayment(order: Order): ProviderPayment {
	const payments = order.purchase_units?.[0]?.payments;
	const capture = payments?.captures?.[0];
	if (capture?.status === "DECLINED" || capture?.status === "FAILED")
		return { providerRef: order.id, status: "failed", declineCode: "capture_declined" };
	// an AUTHORIZE order: COMPLETED means authorised (its authorization is what gets captured or voided)
	const authorization = payments?.authorizations?.[0];
	if (authorization && !capture) {
		const authorizationRef = authorization.id;
		if (authorization.status === "DENIED")
			return { providerRef: order.id, status: "failed", declineCode: "authorization_denied", authorizationRef };
		if (authorization.status === "VOIDED" || authorization.status === "EXPIRED")
			return { providerRef: order.id, status: "cancelled", authorizationRef };
		return { providerRef: order.id, status: "authorized", authorizationRef };
	}
	switch (order.status) {
		case "COMPLETED":
			return { providerRef: order.id, status: "captured", ...(capture && { captureRef: capture.id }) };
		case "APPROVED":
			return { providerRef: order.id, status: "authorized" };
		case "VOIDED":
			return { providerRef: order.id, status: "cancelled" };
		case "CREATED":
		case "PAYER_ACTION_REQUIRED":
			return {
				providerRef: order.id,
				status: "requires_action",
				nextAction: { type: "paypal_approval", url: order.links?.find(l => l.rel === "approve" || l.rel === "payer-action")?.href },
			};
		default:
			return { providerRef: order.id, status: "pending" };
	}
}

const EVENTS: Record<string, WebhookEvent["type"]> = {
	"CHECKOUT.ORDER.APPROVED": "payment.authorized",
	"PAYMENT.CAPTURE.COMPLETED": "payment.succeeded",
	"PAYMENT.CAPTURE.DECLINED": "payment.failed",
	"CHECKOUT.ORDER.VOIDED": "payment.cancelled",
	"PAYMENT.AUTHORIZATION.CREATED": "payment.authorized",
	"PAYMENT.AUTHORIZATION.VOIDED": "payment.cancelled",
	"PAYMENT.PAYOUTSBATCH.SUCCESS": "payout.paid",
	"PAYMENT.PAYOUTSBATCH.DENIED": "payout.failed",
};

export class PayPalProvider implements PaymentProvider {
	readonly name = "paypal";
	private readonly http: ProviderHttp;
	private token?: { value: string; expiresAt: number };

	constructor(
		http: Omit<HttpOptions, "name">,
		private readonly clientId: string,
		private readonly clientSecret: string,
		private readonly webhookId: string | undefined,
	) {
		this.http = new ProviderHttp({ ...http, name: "PayPal" });
	}

	private async accessToken(): Promise<string> {
		if (this.token && this.token.expiresAt > Date.now()) return this.token.value;
		const basic = Buffer.from(`${this.clientId}:${this.clientSecret}`).toString("base64");
		const answer = await this.http.request<{ access_token?: string; expires_in?: number }>("POST", "/v1/oauth2/token", {
			headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
			body: "grant_type=client_credentials",
			retryable: true, // asking for a token twice costs nothing
		});
		if (answer.status !== 200 || !answer.body.access_token)
			throw new ProviderRejectedError("PayPal", `OAuth2 token refused (HTTP ${answer.status})`);
		this.token = { value: answer.body.access_token, expiresAt: Date.now() + Math.max(0, (answer.body.expires_in ?? 300) - 60) * 1000 };
		return this.token.value;
	}

	private post<T = any>(path: string, body: unknown, requestId: string | undefined) {
		return this.call<T>("POST", path, body, requestId);
	}

	/** The order as PayPal has it now (a read: retried freely). */
	private async order(id: string): Promise<Order> {
		const answer = await this.call<Order>("GET", `/v2/checkout/orders/${encodeURIComponent(id)}`, undefined, undefined);
		if (answer.status !== 200) this.refused(answer);
		return answer.body;
	}

	private async call<T = any>(method: "GET" | "POST", path: string, body: unknown, requestId: string | undefined) {
		for (let attempt = 0; ; attempt++) {
			const answer = await this.http.request<T>(method, path, {
				headers: {
					authorization: `Bearer ${await this.accessToken()}`,
					...(method === "POST" && { "content-type": "application/json" }),
					...(requestId && { "paypal-request-id": requestId }),
				},
				...(method === "POST" && { body: JSON.stringify(body) }),
				retryable: method === "GET" || requestId !== undefined,
			});
			// an expired or revoked token: fetch a new one, once
			if (answer.status === 401 && attempt === 0) {
				this.token = undefined;
				continue;
			}
			return answer;
		}
	}

	private refusedFor(operation: string, body: unknown): never {
		throw new ProviderRefusedError("PayPal", operation, issueOf(body));
	}

	private refused(answer: { status: number; body: any }): never {
		throw new ProviderRejectedError("PayPal", answer.body?.name ?? answer.body?.details?.[0]?.issue ?? `HTTP ${answer.status}`);
	}

	async createPayment(input: CreatePaymentInput): Promise<ProviderPayment> {
		// `paypal` alone: the buyer approves on PayPal; anything else is a vaulted payment source (charged at once)
		const vaulted = input.paymentMethod !== "paypal";
		const answer = await this.post<Order>(
			"/v2/checkout/orders",
			{
				intent: input.captureMethod === "manual" ? "AUTHORIZE" : "CAPTURE",
				purchase_units: [
					{ amount: { currency_code: input.currency, value: formatAmount(input.amount, input.currency) }, description: input.description },
				],
				...(vaulted && { payment_source: { paypal: { vault_id: input.paymentMethod } } }),
			},
			input.idempotencyKey,
		);
		if (answer.status === 422)
			return {
				providerRef: `declined:${input.idempotencyKey}`,
				status: "failed",
				declineCode: (answer.body as any)?.details?.[0]?.issue?.toLowerCase() ?? "declined",
			};
		if (answer.status !== 200 && answer.status !== 201) this.refused(answer);
		return toPayment(answer.body);
	}

	async capture(payment: CapturablePayment, idempotencyKey: string): Promise<ProviderPayment> {
		if (payment.captureMethod === "manual") return this.captureAuthorization(payment, idempotencyKey);
		const answer = await this.post<Order>(`/v2/checkout/orders/${encodeURIComponent(payment.providerRef)}/capture`, {}, idempotencyKey);
		if (answer.status === 422) return { providerRef: payment.providerRef, status: "failed", declineCode: "capture_declined" };
		if (answer.status !== 200 && answer.status !== 201) this.refused(answer);
		return toPayment(answer.body);
	}

	/**
	 * Manual capture: an order the buyer approved is authorised first (`/authorize`; a vaulted one was at
	 * creation), then its authorization captured for `amount` (`final_capture`: the rest is released).
	 * PayPal's refusals for the state it is in there (voided, expired, already captured, more than
	 * authorised) are 409 PROVIDER_REFUSED and change nothing here.
	 */
	private async captureAuthorization(payment: CapturablePayment, idempotencyKey: string): Promise<ProviderPayment> {
		let authorizationRef = payment.authorizationRef;
		if (!authorizationRef) {
			const authorized = await this.post<Order>(
				`/v2/checkout/orders/${encodeURIComponent(payment.providerRef)}/authorize`,
				{},
				`${idempotencyKey}:authorize`,
			);
			// authorised by an earlier attempt (whose capture then failed): its authorization is on the order
			const order =
				authorized.status === 422 && issueOf(authorized.body) === "ORDER_ALREADY_AUTHORIZED"
					? await this.order(payment.providerRef)
					: authorized.status === 200 || authorized.status === 201
						? authorized.body
						: authorized.status === 422
							? this.refusedFor("authorization", authorized.body)
							: this.refused(authorized);
			const now = toPayment(order);
			if (now.status !== "authorized" || !now.authorizationRef)
				throw new ProviderRefusedError("PayPal", "authorization", `the order is ${order.status}`);
			authorizationRef = now.authorizationRef;
		}
		const answer = await this.post<{ id: string; status: string }>(
			`/v2/payments/authorizations/${encodeURIComponent(authorizationRef)}/capture`,
			{ amount: { currency_code: payment.currency, value: formatAmount(payment.amount, payment.currency) }, final_capture: true },
			idempotencyKey,
		);
		if (answer.status === 422) throw new ProviderRefusedError("PayPal", "capture", issueOf(answer.body));
		if (answer.status !== 200 && answer.status !== 201) this.refused(answer);
		if (answer.body.status === "DECLINED" || answer.body.status === "FAILED")
			return { providerRef: payment.providerRef, status: "failed", declineCode: "capture_declined", authorizationRef };
		// COMPLETED, or PENDING (PayPal still settling it): captured here, refundable through the capture
		return { providerRef: payment.providerRef, status: "captured", captureRef: answer.body.id, authorizationRef };
	}

	async cancel(payment: { providerRef: string; authorizationRef?: string }, idempotencyKey: string): Promise<ProviderPayment> {
		// An order not known to be authorised may have been by a capture that then failed: PayPal knows.
		let authorizationRef = payment.authorizationRef;
		if (!authorizationRef && !payment.providerRef.startsWith("declined:")) {
			const now = await this.call<Order>("GET", `/v2/checkout/orders/${encodeURIComponent(payment.providerRef)}`, undefined, undefined);
			if (now.status === 200) authorizationRef = toPayment(now.body).authorizationRef;
			else if (now.status !== 404) this.refused(now);
		}
		// An order that was never authorised or captured simply expires at PayPal: nothing to call.
		if (!authorizationRef) return { providerRef: payment.providerRef, status: "cancelled" };
		const answer = await this.post(`/v2/payments/authorizations/${encodeURIComponent(authorizationRef)}/void`, {}, idempotencyKey);
		if (answer.status === 422) throw new ProviderRefusedError("PayPal", "void", issueOf(answer.body));
		if (answer.status !== 204 && answer.status !== 200) this.refused(answer);
		return { providerRef: payment.providerRef, status: "cancelled", authorizationRef };
	}

	async refund(
		payment: { providerRef: string; captureRef?: string; currency: string },
		amount: number,
		idempotencyKey: string,
	): Promise<ProviderRefund> {
		if (!payment.captureRef) throw new ProviderRejectedError("PayPal", "the payment has no capture to refund");
		const answer = await this.post<{ id: string; status: string }>(
			`/v2/payments/captures/${encodeURIComponent(payment.captureRef)}/refund`,
			{ amount: { value: formatAmount(amount, payment.currency), currency_code: payment.currency } },
			idempotencyKey,
		);
		if (answer.status !== 200 && answer.status !== 201) this.refused(answer);
		const status = answer.body.status === "COMPLETED" ? "succeeded" : answer.body.status === "PENDING" ? "pending" : "failed";
		return { providerRef: answer.body.id, status };
	}

	async createPayout(input: { amount: number; currency: string; destination: string; idempotencyKey: string }) {
		const answer = await this.post<{ batch_header?: { payout_batch_id: string; batch_status: string } }>(
			"/v1/payments/payouts",
			{
				sender_batch_header: { sender_batch_id: input.idempotencyKey.slice(0, 127), email_subject: "You have a payout" },
				items: [
					{
						recipient_type: "PAYPAL_ID",
						amount: { value: formatAmount(input.amount, input.currency), currency: input.currency },
						receiver: input.destination,
						sender_item_id: input.idempotencyKey.slice(0, 63),
					},
				],
			},
			input.idempotencyKey,
		);
		if (answer.status !== 201 && answer.status !== 200) return { providerRef: `failed:${input.idempotencyKey}`, status: "failed" as const };
		const header = answer.body.batch_header!;
		return {
			providerRef: header.payout_batch_id,
			status:
				header.batch_status === "SUCCESS" ? ("paid" as const) : header.batch_status === "DENIED" ? ("failed" as const) : ("pending" as const),
		};
	}

	async verifyWebhook(rawBody: string, headers: Record<string, string | undefined>): Promise<WebhookEvent> {
		if (!this.webhookId) throw new InvalidSignatureError("PAYPAL_WEBHOOK_ID is not set");
		const event = JSON.parse(rawBody) as { id?: string; event_type?: string; resource?: any };
		const answer = await this.post<{ verification_status?: string }>(
			"/v1/notifications/verify-webhook-signature",
			{
				auth_algo: headers["paypal-auth-algo"],
				cert_url: headers["paypal-cert-url"],
				transmission_id: headers["paypal-transmission-id"],
				transmission_sig: headers["paypal-transmission-sig"],
				transmission_time: headers["paypal-transmission-time"],
				webhook_id: this.webhookId,
				webhook_event: event,
			},
			undefined,
		);
		if (answer.body?.verification_status !== "SUCCESS") throw new InvalidSignatureError("PayPal did not verify it");
		if (!event.id || !event.event_type) throw new InvalidSignatureError("the event has no id or type");
		const r = event.resource ?? {};
		const objectRef: string = r.supplementary_data?.related_ids?.order_id ?? r.batch_header?.payout_batch_id ?? r.id ?? "";
		return {
			eventId: event.id,
			type: EVENTS[event.event_type] ?? "other",
			objectRef,
			...(event.event_type === "PAYMENT.CAPTURE.DECLINED" && { declineCode: "capture_declined" }),
		};
	}
}
