/**
 * Payments through a provider (sandbox, Stripe, PayPal), on the state machine of payment-states.ts.
 * Every POST needs an `Idempotency-Key` (middlewares/idempotency.middleware.ts); the provider gets its
 * own idempotency key derived from it, and the row is unique per key, so a retry after a crash resumes
 * the same payment instead of charging again. Refunds reserve their amount by compare-and-set on the
 * row's `version` before the provider is called: the sum of refunds never exceeds what was captured,
 * however many race (README, "Commerce domain").
 */
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { TenantDbMixin } from "../../mixins/tenant.mixin";
import { amountParam, currencyParam, idParam, textParam } from "./common";
import { PAYMENT_STATUSES } from "./payment-states";
import { chargeMethods } from "./payments/charge";
import { providerEventMethods } from "./payments/provider-events";
import { refundMethods } from "./payments/refunds";
import { rowChangeMethods } from "./payments/row-changes";
import type { CreatePaymentParams, PaymentRow, PaymentsMethods, PaymentsVars, ProviderEventParams } from "./payments/types";
import { PROVIDER_NAMES, Providers } from "./providers";

const FIELDS = [
	"id",
	"status",
	"amount",
	"currency",
	"capturedAmount",
	"refundedAmount",
	"provider",
	"providerRef",
	"paymentMethod",
	"captureMethod",
	"refunds",
	"declineCode",
	"nextAction",
	"customerId",
	"invoiceId",
	"orderId",
	"description",
	"createdBy",
	"createdAt",
	"updatedAt",
];

const PaymentsService: ServiceSchema<DbSettings, PaymentsMethods, PaymentsVars> = {
	name: "payments",
	mixins: [
		TenantDbMixin({
			collection: "commerce_payments",
			indexes: [
				{ fields: ["tenantId", "idempotencyKey"], unique: true },
				{ fields: ["providerRef"] },
				{ fields: ["liveKey"], unique: true, sparse: true },
			],
		}),
	],
	settings: { rest: "/commerce/payments", fields: FIELDS },
	created() {
		this.providers = new Providers(config());
	},
	actions: {
		createPayment: {
			rest: "POST /",
			roles: ["member"],
			idempotencyKey: "required",
			summary: "Charge (or authorise) an amount with a provider token; 402 when declined.",
			params: {
				amount: amountParam,
				currency: currencyParam,
				paymentMethod: { type: "string", min: 1, max: 255 },
				provider: { type: "enum", values: [...PROVIDER_NAMES], optional: true },
				captureMethod: { type: "enum", values: ["automatic", "manual"], default: "automatic" },
				customerId: { ...idParam, optional: true },
				invoiceId: { ...idParam, optional: true },
				orderId: { ...idParam, optional: true },
				description: textParam(500),
				$$strict: "remove",
			},
			handler(ctx: Ctx<CreatePaymentParams>) {
				return this.createPayment(ctx);
			},
		},
		listPayments: {
			rest: "GET /",
			roles: ["member"],
			params: { ...pageParams, status: { type: "enum", values: [...PAYMENT_STATUSES], optional: true }, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number; status?: string }>) {
				const { page, pageSize, status } = ctx.params;
				return this._list(ctx, { page, pageSize, sort: "-createdAt", query: status ? { status } : {} });
			},
		},
		getPayment: {
			rest: "GET /:id",
			roles: ["member"],
			entity: "loadPayment",
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.toEntity(entityOf<PaymentRow>(ctx));
			},
		},
		capturePayment: {
			rest: "POST /:id/capture",
			roles: ["member"],
			idempotencyKey: "required",
			entity: "loadPayment",
			summary: "Capture an authorised payment (all of it, or `amount` of it).",
			params: { id: idParam, amount: { ...amountParam, optional: true }, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string; amount?: unknown }>) {
				return this.capturePayment(ctx);
			},
		},
		cancelPayment: {
			rest: "POST /:id/cancel",
			roles: ["member"],
			idempotencyKey: "optional",
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.cancelPayment(ctx);
			},
		},
		/** A verified provider event about a payment or a refund (webhooks service); an event off the edges (late, out of order) changes nothing. */
		applyEvent: {
			visibility: "public",
			auth: "public",
			params: {
				provider: { type: "string", max: 20 },
				providerRef: { type: "string", min: 1, max: 255 },
				type: {
					type: "enum",
					values: [
						"payment.succeeded",
						"payment.authorized",
						"payment.failed",
						"payment.requires_action",
						"payment.cancelled",
						"refund.succeeded",
						"refund.failed",
					],
				},
				declineCode: { type: "string", max: 100, optional: true },
			},
			handler(ctx: Ctx<ProviderEventParams>) {
				return this.applyEvent(ctx);
			},
		},
		refundPayment: {
			rest: "POST /:id/refunds",
			roles: ["admin"],
			idempotencyKey: "required",
			summary: "Refund all or part of what is captured; the refunds never add up to more.",
			params: { id: idParam, amount: { ...amountParam, optional: true }, reason: textParam(500), $$strict: "remove" },
			handler(ctx: Ctx<{ id: string; amount?: unknown; reason?: string }>) {
				return this.refundPayment(ctx);
			},
		},
	},
	methods: {
		async loadPayment(ctx, id) {
			return this.scopedFindById<PaymentRow>(ctx, id);
		},
		...chargeMethods,
		...refundMethods,
		...providerEventMethods,
		...rowChangeMethods,
	},
};

export default PaymentsService;
