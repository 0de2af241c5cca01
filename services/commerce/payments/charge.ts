/** Charging: create (or resume, per Idempotency-Key) a payment with its provider, capture an authorised one, cancel one. */
import { randomUUID } from "node:crypto";
import { currentUser } from "../../../lib/context";
import { InvalidTransitionError, PaymentDeclinedError, RefundExceedsCapturedError } from "../../../lib/errors";
import { entityOf } from "../../../middlewares/entity.middleware";
import { idempotencyKeyOf } from "../../../middlewares/idempotency.middleware";
import { refuseCardData } from "../card-data";
import { checkAmount, checkCurrency } from "../money";
import { assertMove } from "../payment-states";
import type { PaymentRow, PaymentsMethodsOf } from "./types";

export const chargeMethods: PaymentsMethodsOf<"createPayment" | "capturePayment" | "cancelPayment"> = {
	async createPayment(ctx) {
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

	async capturePayment(ctx) {
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

	async cancelPayment(ctx) {
		const row = await this.scopedFindById<PaymentRow>(ctx, ctx.params.id);
		if (!row) return this._get(ctx, { id: ctx.params.id });
		assertMove(row.status, "cancelled");
		if (row.providerRef) await this.providers.get(row.provider).cancel({ providerRef: row.providerRef }, `cancel:${row.idempotencyKey}`);
		return this.toEntity(await this.applyProvider(ctx, row._id, { providerRef: row.providerRef ?? "", status: "cancelled" }));
	},
};
