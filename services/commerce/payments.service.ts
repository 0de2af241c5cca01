/**
 * Payments through a provider (sandbox, Stripe, PayPal), on the state machine of payment-states.ts.
 * Every POST needs an `Idempotency-Key` (middlewares/idempotency.middleware.ts); the provider gets its
 * own idempotency key derived from it, and the row is unique per key, so a retry after a crash resumes
 * the same payment instead of charging again. Refunds reserve their amount by compare-and-set on the
 * row's `version` before the provider is called: the sum of refunds never exceeds what was captured,
 * however many race (README, "Commerce domain").
 */
import { createHash, randomUUID } from "node:crypto";
import { config } from "../../lib/config";
import { asSystem, currentUser, type Ctx } from "../../lib/context";
import { ConflictError, InvalidTransitionError, PaymentDeclinedError, RefundExceedsCapturedError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { idempotencyKeyOf } from "../../middlewares/idempotency.middleware";
import { TenantDbMixin, type Row, type TenantDbMethods, type TenantScope } from "../../mixins/tenant.mixin";
import { refuseCardData } from "./card-data";
import { amountParam, currencyParam, idParam, textParam } from "./common";
import { checkAmount, checkCurrency } from "./money";
import { assertMove, canMove, PAYMENT_STATUSES, refundStatus, type PaymentStatus } from "./payment-states";
import { PROVIDER_NAMES, Providers } from "./providers";
import type { ProviderPayment } from "./providers/provider";

export interface Refund {
	id: string;
	amount: number;
	status: "pending" | "succeeded" | "failed";
	key: string;
	providerRef?: string;
	reason?: string;
	createdAt: string;
}

export interface PaymentRow extends Row {
	status: PaymentStatus;
	amount: number;
	currency: string;
	capturedAmount: number;
	refundedAmount: number;
	provider: string;
	providerRef?: string;
	captureRef?: string;
	paymentMethod: string;
	captureMethod: "automatic" | "manual";
	idempotencyKey: string;
	refunds: Refund[];
	version: number;
	declineCode?: string;
	orderId?: string;
}

interface Methods extends TenantDbMethods {
	/** Compare-and-set on `version`: `mutate` sees the current row and answers the fields to set (re-read on a lost race). */
	change(ctx: TenantScope, id: string, mutate: (row: PaymentRow) => Record<string, unknown>): Promise<PaymentRow>;
	/** Moves the payment where the provider says it is (along the edges only). */
	applyProvider(ctx: TenantScope, id: string, result: ProviderPayment, capturedAmount?: number): Promise<PaymentRow>;
	loadPayment(ctx: Ctx<{ id: string }>, id: string): Promise<PaymentRow | null>;
	settleRefund(ctx: TenantScope, id: string, refundId: string, outcome: "succeeded" | "failed", providerRef?: string): Promise<PaymentRow>;
}

interface Vars {
	providers: Providers;
}

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

/** A refund remembers the request that made it by a hash of its Idempotency-Key (never the key itself). */
const keyHash = (key: string) => createHash("sha256").update(key).digest("hex").slice(0, 32);

const PaymentsService: ServiceSchema<DbSettings, Methods, Vars> = {
	name: "payments",
	mixins: [
		TenantDbMixin({
			collection: "commerce_payments",
			indexes: [{ fields: ["tenantId", "idempotencyKey"], unique: true }, { fields: ["providerRef"] }],
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
			async handler(
				ctx: Ctx<{
					amount: unknown;
					currency: string;
					paymentMethod: string;
					provider?: string;
					captureMethod: "automatic" | "manual";
					customerId?: string;
					invoiceId?: string;
					orderId?: string;
					description?: string;
				}>,
			) {
				refuseCardData(ctx.params);
				const { currency, paymentMethod, captureMethod, customerId, invoiceId, orderId, description } = ctx.params;
				const amount = checkAmount(ctx.params.amount);
				checkCurrency(currency);
				const provider = this.providers.get(ctx.params.provider);
				const key = idempotencyKeyOf(ctx) ?? randomUUID();
				// A retry after a crash finds the row its first attempt made (unique per key) and resumes it.
				let row = await this.scopedFindOne<PaymentRow>(ctx, { idempotencyKey: key });
				if (!row) {
					const created = await this._create<{ id: string }>(ctx, {
						status: "pending",
						amount,
						currency,
						capturedAmount: 0,
						refundedAmount: 0,
						provider: provider.name,
						paymentMethod,
						captureMethod,
						idempotencyKey: key,
						refunds: [],
						version: 0,
						customerId,
						invoiceId,
						orderId,
						description,
						createdBy: currentUser(ctx).id,
					});
					row = (await this.scopedFindById<PaymentRow>(ctx, created.id))!;
				}
				if (row.status === "pending" && !row.providerRef) {
					const result = await provider.createPayment({
						amount,
						currency,
						paymentMethod,
						captureMethod,
						idempotencyKey: `pay:${key}`,
						description,
					});
					row = await this.applyProvider(ctx, row._id, result);
				}
				if (row.status === "failed") throw new PaymentDeclinedError(row.declineCode ?? "declined", row._id);
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/commerce/payments/${row._id}`;
				return this.toEntity(row);
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
			async handler(ctx: Ctx<{ id: string; amount?: unknown }>) {
				const row = entityOf<PaymentRow>(ctx);
				// only an authorised payment is captured by hand (3-D Secure or approval completes through the provider)
				if (row.status !== "authorized") throw new InvalidTransitionError("payment", row.status, "captured");
				const amount = ctx.params.amount === undefined ? row.amount : checkAmount(ctx.params.amount);
				if (amount > row.amount) throw new RefundExceedsCapturedError(row.amount);
				const result = await this.providers
					.get(row.provider)
					.capture({ providerRef: row.providerRef!, amount, currency: row.currency }, `capture:${row.idempotencyKey}`);
				return this.toEntity(await this.applyProvider(ctx, row._id, result, amount));
			},
		},
		cancelPayment: {
			rest: "POST /:id/cancel",
			roles: ["member"],
			idempotencyKey: "optional",
			params: { id: idParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const row = await this.scopedFindById<PaymentRow>(ctx, ctx.params.id);
				if (!row) return this._get(ctx, { id: ctx.params.id });
				assertMove(row.status, "cancelled");
				if (row.providerRef) await this.providers.get(row.provider).cancel({ providerRef: row.providerRef }, `cancel:${row.idempotencyKey}`);
				return this.toEntity(await this.applyProvider(ctx, row._id, { providerRef: row.providerRef ?? "", status: "cancelled" }));
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
			async handler(ctx: Ctx<{ provider: string; providerRef: string; type: string; declineCode?: string }>) {
				const { provider, providerRef, type, declineCode } = ctx.params;
				const refund = type.startsWith("refund.");
				// The deliberate cross-tenant lookup: a provider's event names its object, not our tenant.
				const found = await this.unscopedFindOne<PaymentRow>(
					refund ? { provider, "refunds.providerRef": providerRef } : { provider, providerRef },
				);
				if (!found) return { applied: false };
				const system = asSystem(found.tenantId);
				if (refund) {
					const r = found.refunds.find(x => x.providerRef === providerRef)!;
					return {
						applied: true,
						payment: this.toEntity(
							await this.settleRefund(system, found._id, r.id, type === "refund.succeeded" ? "succeeded" : "failed", providerRef),
						),
					};
				}
				const status = (
					{
						"payment.succeeded": "captured",
						"payment.authorized": "authorized",
						"payment.failed": "failed",
						"payment.requires_action": "requires_action",
						"payment.cancelled": "cancelled",
					} as const
				)[type as "payment.succeeded"];
				if (found.status !== status && !canMove(found.status, status)) return { applied: false, status: found.status };
				const moved = await this.applyProvider(system, found._id, { providerRef, status, ...(declineCode && { declineCode }) });
				// an order paid by a payment that completed later (3-D Secure, approval, delayed settlement)
				if (moved.status === "captured" && moved.orderId)
					await ctx.call("orders.paymentCaptured", { id: moved.orderId, paymentId: moved._id }, system);
				return { applied: true, payment: this.toEntity(moved) };
			},
		},
		refundPayment: {
			rest: "POST /:id/refunds",
			roles: ["admin"],
			idempotencyKey: "required",
			summary: "Refund all or part of what is captured; the refunds never add up to more.",
			params: { id: idParam, amount: { ...amountParam, optional: true }, reason: textParam(500), $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; amount?: unknown; reason?: string }>) {
				const key = keyHash(idempotencyKeyOf(ctx) ?? randomUUID());
				const requested = ctx.params.amount === undefined ? undefined : checkAmount(ctx.params.amount);
				const refundId = randomUUID();
				// Reserve the amount first (compare-and-set): two refunds racing cannot both take the last of it.
				const reserved = await this.change(ctx, ctx.params.id, row => {
					if (row.refunds.some(r => r.key === key)) return {};
					if (row.status !== "captured" && row.status !== "partially_refunded") assertMove(row.status, "refunded");
					const refundable = row.capturedAmount - row.refundedAmount;
					const amount = requested ?? refundable;
					if (amount <= 0 || amount > refundable) throw new RefundExceedsCapturedError(refundable);
					const refund: Refund = {
						id: refundId,
						amount,
						status: "pending",
						key,
						reason: ctx.params.reason,
						createdAt: new Date().toISOString(),
					};
					return { refundedAmount: row.refundedAmount + amount, refunds: [...row.refunds, refund] };
				});
				const refund = reserved.refunds.find(r => r.key === key)!;
				let row = reserved;
				if (refund.status === "pending" && !refund.providerRef) {
					try {
						const result = await this.providers
							.get(row.provider)
							.refund(
								{ providerRef: row.providerRef ?? "", captureRef: row.captureRef, currency: row.currency },
								refund.amount,
								`refund:${key}`,
							);
						if (result.status === "pending")
							row = await this.change(ctx, row._id, r => ({
								refunds: r.refunds.map(x => (x.id === refund.id ? { ...x, providerRef: result.providerRef } : x)),
							}));
						else row = await this.settleRefund(ctx, row._id, refund.id, result.status, result.providerRef);
					} catch (err) {
						await this.settleRefund(ctx, row._id, refund.id, "failed");
						throw err;
					}
				}
				ctx.meta.$statusCode = 201;
				const stored = row.refunds.find(r => r.id === refund.id)!;
				return { ...stored, paymentId: row._id, payment: this.toEntity(row) };
			},
		},
	},
	methods: {
		async loadPayment(ctx, id) {
			return this.scopedFindById<PaymentRow>(ctx, id);
		},
		async change(ctx, id, mutate) {
			for (let attempt = 0; attempt < 50; attempt++) {
				const row = await this.scopedFindById<PaymentRow>(ctx, id);
				if (!row) return this._get(ctx, { id }); // 404
				const set = mutate(row);
				if (!Object.keys(set).length) return row;
				const n = await this.scopedUpdateWhere(ctx, { _id: id, version: row.version }, { ...set, version: row.version + 1 });
				if (n === 1) return (await this.scopedFindById<PaymentRow>(ctx, id))!;
			}
			throw new ConflictError("The payment is changing too often; try again.", "BUSY");
		},
		async applyProvider(ctx, id, result, capturedAmount) {
			return this.change(ctx, id, row => {
				if (row.status === result.status) return row.providerRef ? {} : { providerRef: result.providerRef };
				assertMove(row.status, result.status);
				return {
					status: result.status,
					...(result.providerRef && { providerRef: result.providerRef }),
					...(result.captureRef && { captureRef: result.captureRef }),
					...(result.status === "captured" && { capturedAmount: capturedAmount ?? row.amount }),
					...(result.declineCode && { declineCode: result.declineCode }),
					nextAction: result.nextAction ?? null,
				};
			});
		},
		async settleRefund(ctx, id, refundId, outcome, providerRef) {
			return this.change(ctx, id, row => {
				const refund = row.refunds.find(r => r.id === refundId);
				if (!refund || refund.status !== "pending") return {};
				// A failed refund gives its reservation back; a succeeded one moves the payment's status.
				const refundedAmount = outcome === "failed" ? row.refundedAmount - refund.amount : row.refundedAmount;
				const refunds = row.refunds.map(r => (r.id === refundId ? { ...r, status: outcome, ...(providerRef && { providerRef }) } : r));
				const settled = refunds.filter(r => r.status === "succeeded").reduce((sum, r) => sum + r.amount, 0);
				const status = refundStatus(row.capturedAmount, settled);
				if (status !== row.status) assertMove(row.status, status);
				return { refundedAmount, refunds, status };
			});
		},
	},
};

export default PaymentsService;
