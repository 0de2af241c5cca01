/**
 * The payment state machine: `pending -> requires_action -> authorized -> captured ->
 * (partially_)refunded`, plus `failed` and `cancelled`. A change off these edges is 409
 * INVALID_TRANSITION (README, "Commerce domain").
 */
import { InvalidTransitionError } from "../../lib/errors";

export const PAYMENT_STATUSES = [
	"pending",
	"requires_action",
	"authorized",
	"captured",
	"partially_refunded",
	"refunded",
	"failed",
	"cancelled",
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

const EDGES: Record<PaymentStatus, readonly PaymentStatus[]> = {
	pending: ["requires_action", "authorized", "captured", "failed", "cancelled"],
	requires_action: ["authorized", "captured", "failed", "cancelled"],
	authorized: ["captured", "cancelled", "failed"],
	captured: ["partially_refunded", "refunded"],
	partially_refunded: ["partially_refunded", "refunded"],
	refunded: [],
	failed: [],
	cancelled: [],
};

export function canMove(from: PaymentStatus, to: PaymentStatus): boolean {
	return EDGES[from].includes(to);
}

export function assertMove(from: PaymentStatus, to: PaymentStatus): void {
	if (!canMove(from, to)) throw new InvalidTransitionError("payment", from, to);
}

/** Where a refund total leaves a captured payment. */
export function refundStatus(captured: number, refunded: number): PaymentStatus {
	if (refunded <= 0) return "captured";
	return refunded >= captured ? "refunded" : "partially_refunded";
}
