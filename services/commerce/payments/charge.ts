/** Charging: create (or resume, per Idempotency-Key) a payment with its provider, capture an authorised one, cancel one. */
import { randomUUID } from "node:crypto";
import { currentUser } from "../../../lib/context";
import {
	ConflictError,
	InvalidTransitionError,
	OrderPaymentExistsError,
	PaymentDeclinedError,
	RefundExceedsCapturedError,
} from "../../../lib/errors";
import { entityOf } from "../../../middlewares/entity.middleware";
import { idempotencyKeyOf } from "../../../middlewares/idempotency.middleware";
import { refuseCardData } from "../card-data";
import { checkAmount, checkCurrency } from "../money";
import { assertMove } from "../payment-states";
import { orderLiveKey, type PaymentRow, type PaymentsMethodsOf } from "./types";

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
		for (let attempt = 0; !row; attempt++) {
			// An order has at most one live payment: the unique `liveKey` (`order:<id>` while live) refuses a second, however many race.
			const liveKey = orderId ? orderLiveKey(orderId) : `free:${randomUUID()}`;
			let created: { id: string };
			try {
				created = await this._create<{ id: string }>(ctx, {
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
					liveKey,
				});
			} catch (err) {
				if (!(err instanceof ConflictError) || !orderId) throw err;
				// the same key raced in (the first request's row), or the order's live payment
				const same = await this.scopedFindOne<PaymentRow>(ctx, { idempotencyKey: key });
				if (same) {
					row = same;
					break;
				}
				const live = await this.scopedFindOne<PaymentRow>(ctx, { liveKey });
				if (live) throw new OrderPaymentExistsError(orderId, live._id, live.status);
				if (attempt >= 3) throw err;
				continue; // it ended meanwhile (failed, cancelled): try again
			}
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
		// the amount is part of the provider's key: a retry of this capture replays, another amount is another request
		const result = await this.providers.get(row.provider).capture(
			{
				providerRef: row.providerRef!,
				amount,
				currency: row.currency,
				captureMethod: row.captureMethod,
				authorizationRef: row.authorizationRef,
			},
			`capture:${row.idempotencyKey}:${amount}`,
		);
		return this.toEntity(await this.applyProvider(ctx, row._id, result, amount));
	},

	async cancelPayment(ctx) {
		const row = await this.scopedFindById<PaymentRow>(ctx, ctx.params.id);
		if (!row) return this._get(ctx, { id: ctx.params.id });
		assertMove(row.status, "cancelled");
		if (row.providerRef)
			await this.providers
				.get(row.provider)
				.cancel({ providerRef: row.providerRef, authorizationRef: row.authorizationRef }, `cancel:${row.idempotencyKey}`);
		return this.toEntity(await this.applyProvider(ctx, row._id, { providerRef: row.providerRef ?? "", status: "cancelled" }));
	},
};
