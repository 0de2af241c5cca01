/** Verified provider events (the webhooks service): a payment or a refund moves along the edges; an event off them (late, out of order) changes nothing. */
import { asSystem } from "../../../lib/context";
import { canMove } from "../payment-states";
import type { PaymentRow, PaymentsMethodsOf } from "./types";

const PAYMENT_EVENT_STATUS = {
	"payment.succeeded": "captured",
	"payment.authorized": "authorized",
	"payment.failed": "failed",
	"payment.requires_action": "requires_action",
	"payment.cancelled": "cancelled",
} as const;

export const providerEventMethods: PaymentsMethodsOf<"applyEvent"> = {
	async applyEvent(ctx) {
		const { provider, providerRef, type, declineCode } = ctx.params;
		const refund = type.startsWith("refund.");
		// The deliberate cross-tenant lookup: a provider's event names its object, not our tenant.
		const found = await this.unscopedFindOne<PaymentRow>(refund ? { provider, "refunds.providerRef": providerRef } : { provider, providerRef });
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
		const status = PAYMENT_EVENT_STATUS[type as keyof typeof PAYMENT_EVENT_STATUS];
		if (found.status !== status && !canMove(found.status, status)) return { applied: false, status: found.status };
		const moved = await this.applyProvider(system, found._id, { providerRef, status, ...(declineCode && { declineCode }) });
		// an order paid by a payment that completed later (3-D Secure, approval, delayed settlement)
		if (moved.status === "captured" && moved.orderId)
			await ctx.call("orders.paymentCaptured", { id: moved.orderId, paymentId: moved._id }, system);
		return { applied: true, payment: this.toEntity(moved) };
	},
};
