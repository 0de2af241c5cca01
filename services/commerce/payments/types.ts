/** What the payments service stores and calls: its rows, the methods its modules add, and `this`. */
import type { Ctx } from "../../../lib/context";
import type { DbSettings, ServiceThis } from "../../../lib/schema";
import type { Row, TenantDbMethods, TenantScope } from "../../../mixins/tenant.mixin";
import type { PaymentStatus } from "../payment-states";
import type { Providers } from "../providers";
import type { ProviderPayment } from "../providers/provider";

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
	/** PayPal's authorization id of a manual-capture order, once authorised */
	authorizationRef?: string;
	paymentMethod: string;
	captureMethod: "automatic" | "manual";
	idempotencyKey: string;
	refunds: Refund[];
	version: number;
	declineCode?: string;
	orderId?: string;
	/** unique: `order:<orderId>` while the payment is live (pending … captured, refunded), `ended:<id>` once failed or cancelled, `free:<uuid>` without an order */
	liveKey: string;
}

/** The liveKey an order's live payment holds (at most one at a time: a unique index). */
export const orderLiveKey = (orderId: string) => `order:${orderId}`;

export type CreatePaymentParams = {
	amount: unknown;
	currency: string;
	paymentMethod: string;
	provider?: string;
	captureMethod: "automatic" | "manual";
	customerId?: string;
	invoiceId?: string;
	orderId?: string;
	description?: string;
};
export type ProviderEventParams = { provider: string; providerRef: string; type: string; declineCode?: string };

export interface PaymentsMethods extends TenantDbMethods {
	// charge.ts
	createPayment(ctx: Ctx<CreatePaymentParams>): Promise<unknown>;
	capturePayment(ctx: Ctx<{ id: string; amount?: unknown }>): Promise<unknown>;
	cancelPayment(ctx: Ctx<{ id: string }>): Promise<unknown>;
	// refunds.ts
	refundPayment(ctx: Ctx<{ id: string; amount?: unknown; reason?: string }>): Promise<unknown>;
	settleRefund(ctx: TenantScope, id: string, refundId: string, outcome: "succeeded" | "failed", providerRef?: string): Promise<PaymentRow>;
	// provider-events.ts
	applyEvent(ctx: Ctx<ProviderEventParams>): Promise<{ applied: boolean; status?: PaymentStatus; payment?: unknown }>;
	// row-changes.ts
	/** Compare-and-set on `version`: `mutate` sees the current row and answers the fields to set (re-read on a lost race). */
	change(ctx: TenantScope, id: string, mutate: (row: PaymentRow) => Record<string, unknown>): Promise<PaymentRow>;
	/** Moves the payment where the provider says it is (along the edges only). */
	applyProvider(ctx: TenantScope, id: string, result: ProviderPayment, capturedAmount?: number): Promise<PaymentRow>;
	// the service
	loadPayment(ctx: Ctx<{ id: string }>, id: string): Promise<PaymentRow | null>;
}

export interface PaymentsVars {
	providers: Providers;
}

export type PaymentsThis = ServiceThis<DbSettings, PaymentsMethods, PaymentsVars>;

/** Some of the payments methods, written in a module beside the service (`this` is the service). */
export type PaymentsMethodsOf<K extends keyof PaymentsMethods> = Pick<PaymentsMethods, K> & ThisType<PaymentsThis>;
