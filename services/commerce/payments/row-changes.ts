/**
 * Every change to a payment row: compare-and-set on its `version` (one conditional update: atomic on
 * MongoDB across nodes, and in NeDB within its process), and moves only along the edges of payment-states.ts.
 */
import { ConflictError } from "../../../lib/errors";
import { assertMove } from "../payment-states";
import type { PaymentRow, PaymentsMethodsOf } from "./types";

export const rowChangeMethods: PaymentsMethodsOf<"change" | "applyProvider"> = {
	async change(ctx, id, mutate) {
		for (let attempt = 0; attempt < 50; attempt++) {
			const row = await this.scopedFindById<PaymentRow>(ctx, id);
			if (!row) return this._get(ctx, { id }); // 404
			const set = mutate(row);
			if (!Object.keys(set).length) return row;
			// a payment that ended without money moving frees its order for another one (the unique liveKey)
			if ((set.status === "failed" || set.status === "cancelled") && !row.liveKey?.startsWith("ended:")) set.liveKey = `ended:${row._id}`;
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
				...(result.authorizationRef && { authorizationRef: result.authorizationRef }),
				...(result.status === "captured" && { capturedAmount: capturedAmount ?? row.amount }),
				...(result.declineCode && { declineCode: result.declineCode }),
				nextAction: result.nextAction ?? null,
			};
		});
	},
};
