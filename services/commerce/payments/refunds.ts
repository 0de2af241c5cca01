/** Refunds: the amount is reserved on the row (compare-and-set) before the provider is called, so refunds never add up to more than was captured. */
import { createHash, randomUUID } from "node:crypto";
import { RefundExceedsCapturedError } from "../../../lib/errors";
import { idempotencyKeyOf } from "../../../middlewares/idempotency.middleware";
import { checkAmount } from "../money";
import { assertMove, refundStatus } from "../payment-states";
import type { PaymentsMethodsOf, Refund } from "./types";

/** A refund remembers the request that made it by a hash of its Idempotency-Key (never the key itself). */
const keyHash = (key: string) => createHash("sha256").update(key).digest("hex").slice(0, 32);

export const refundMethods: PaymentsMethodsOf<"refundPayment" | "settleRefund"> = {
	async refundPayment(ctx) {
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
		// no GET of one refund: the payment, whose `refunds` list it
		ctx.meta.$location = `/api/commerce/payments/${row._id}`;
		const stored = row.refunds.find(r => r.id === refund.id)!;
		return { ...stored, paymentId: row._id, payment: this.toEntity(row) };
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
};
