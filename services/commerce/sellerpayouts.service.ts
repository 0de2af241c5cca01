/**
 * Payouts through the provider's payouts API: a seller's balance (debited in the ledger first, given
 * back when the provider fails it) and the CRM's approved commission payouts (marked `paid` in the CRM
 * when the provider confirms every currency of it). One row per Idempotency-Key (and currency), and
 * the provider gets a key derived from the row, so a retry never pays twice (README, "Commerce domain").
 */
import { randomUUID } from "node:crypto";
import { config } from "../../lib/config";
import { asSystem, currentUser, systemUser, type Ctx } from "../../lib/context";
import { InsufficientBalanceError, InvalidInputError, InvalidTransitionError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { idempotencyKeyOf } from "../../middlewares/idempotency.middleware";
import { TenantDbMixin, tenantOf, type Row, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { refuseCardData } from "./card-data";
import { amountParam, currencyParam, idParam } from "./common";
import { checkAmount, checkCurrency } from "./money";
import { PROVIDER_NAMES, Providers } from "./providers";
import type { ProviderPayout } from "./providers/provider";

type PayoutStatus = "pending" | "paid" | "failed";

export interface PayoutRow extends Row {
	kind: "balance" | "commission";
	ownerId: string;
	amount: number;
	currency: string;
	destination: string;
	provider: string;
	providerRef?: string;
	status: PayoutStatus;
	debited: boolean;
	idempotencyKey: string;
	commissionPayoutId?: string;
}

interface Methods extends TenantDbMethods {
	/** Runs a pending row through the provider (the ledger debit first for a balance payout). */
	send(ctx: Ctx<object>, row: PayoutRow): Promise<PayoutRow>;
	/** pending → paid | failed (compare-and-set); a failed balance payout gives the amount back. */
	settle(ctx: Ctx<object>, row: PayoutRow, result: ProviderPayout): Promise<PayoutRow>;
	/** Marks the CRM payout paid once every currency of it is paid. */
	completeCommission(ctx: Ctx<object>, commissionPayoutId: string): Promise<void>;
}

interface Vars {
	providers: Providers;
}

const destination = { type: "string", min: 1, max: 255 } as const;

const SellerPayoutsService: ServiceSchema<DbSettings, Methods, Vars> = {
	name: "sellerpayouts",
	mixins: [
		TenantDbMixin({
			collection: "commerce_payouts",
			indexes: [{ fields: ["tenantId", "idempotencyKey"], unique: true }, { fields: ["providerRef"] }],
		}),
	],
	settings: {
		rest: "/commerce/payouts",
		fields: [
			"id",
			"kind",
			"ownerId",
			"amount",
			"currency",
			"destination",
			"provider",
			"providerRef",
			"status",
			"commissionPayoutId",
			"failureReason",
			"createdBy",
			"createdAt",
			"updatedAt",
		],
	},
	created() {
		this.providers = new Providers(config());
	},
	actions: {
		createPayout: {
			rest: "POST /",
			roles: ["admin"],
			idempotencyKey: "required",
			summary: "Pay out part of an owner's available balance to their payout destination.",
			params: {
				ownerId: idParam,
				amount: amountParam,
				currency: currencyParam,
				destination,
				provider: { type: "enum", values: [...PROVIDER_NAMES], optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ ownerId: string; amount: unknown; currency: string; destination: string; provider?: string }>) {
				refuseCardData(ctx.params);
				const { ownerId, currency, destination } = ctx.params;
				const amount = checkAmount(ctx.params.amount);
				checkCurrency(currency);
				const provider = this.providers.get(ctx.params.provider);
				const key = idempotencyKeyOf(ctx) ?? randomUUID();
				const row =
					(await this.scopedFindOne<PayoutRow>(ctx, { idempotencyKey: key })) ??
					(await this.scopedFindById<PayoutRow>(
						ctx,
						(
							await this._create<{ id: string }>(ctx, {
								kind: "balance",
								ownerId,
								amount,
								currency,
								destination,
								provider: provider.name,
								status: "pending",
								debited: false,
								idempotencyKey: key,
								createdBy: currentUser(ctx).id,
							})
						).id,
					))!;
				const sent = await this.send(ctx, row);
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/commerce/payouts/${sent._id}`;
				return this.toEntity(sent);
			},
		},
		payCommission: {
			rest: "POST /commission/:commissionPayoutId",
			roles: ["admin"],
			idempotencyKey: "required",
			summary: "Pay an approved CRM commission payout (each currency of it) through the provider; the CRM marks it paid when all are.",
			params: {
				commissionPayoutId: idParam,
				destination,
				provider: { type: "enum", values: [...PROVIDER_NAMES], optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ commissionPayoutId: string; destination: string; provider?: string }>) {
				const { commissionPayoutId: payoutId, destination: to } = ctx.params;
				const commission = (await ctx.call("payouts.getPayout", { id: payoutId })) as {
					status: string;
					userId: string;
					totals: { currency: string; amount: number }[];
				};
				if (commission.status !== "approved") throw new InvalidTransitionError("commission payout", commission.status, "paid");
				const provider = this.providers.get(ctx.params.provider);
				const key = idempotencyKeyOf(ctx) ?? randomUUID();
				const rows: PayoutRow[] = [];
				for (const { currency, amount } of commission.totals.filter(t => t.amount > 0)) {
					const rowKey = `${key}:${currency}`;
					const row =
						(await this.scopedFindOne<PayoutRow>(ctx, { idempotencyKey: rowKey })) ??
						(await this.scopedFindById<PayoutRow>(
							ctx,
							(
								await this._create<{ id: string }>(ctx, {
									kind: "commission",
									ownerId: commission.userId,
									amount,
									currency,
									destination: to,
									provider: provider.name,
									status: "pending",
									debited: false,
									idempotencyKey: rowKey,
									commissionPayoutId: payoutId,
									createdBy: currentUser(ctx).id,
								})
							).id,
						))!;
					rows.push(await this.send(ctx, row));
				}
				if (!rows.length)
					throw new InvalidInputError("The commission payout has nothing to pay.", [
						{ field: "payoutId", message: "has no positive total" },
					]);
				await this.completeCommission(ctx, payoutId);
				ctx.meta.$statusCode = 201;
				// one payout per currency: the one, or the payee's payouts that list them all
				ctx.meta.$location =
					rows.length === 1
						? `/api/commerce/payouts/${rows[0]._id}`
						: `/api/commerce/payouts?ownerId=${encodeURIComponent(commission.userId)}`;
				return { commissionPayoutId: payoutId, payouts: rows.map(r => this.toEntity(r)) };
			},
		},
		listPayouts: {
			rest: "GET /",
			roles: ["admin"],
			params: { ...pageParams, ownerId: { ...idParam, optional: true }, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number; ownerId?: string }>) {
				const { page, pageSize, ownerId } = ctx.params;
				return this._list(ctx, { page, pageSize, sort: "-createdAt", query: ownerId ? { ownerId } : {} });
			},
		},
		getPayout: {
			rest: "GET /:id",
			roles: ["admin"],
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},
		/** A verified provider event about a payout (webhooks service). */
		applyPayoutEvent: {
			visibility: "public",
			auth: "public",
			params: {
				provider: { type: "string", max: 20 },
				providerRef: { type: "string", min: 1, max: 255 },
				outcome: { type: "enum", values: ["paid", "failed"] },
			},
			async handler(ctx: Ctx<{ provider: string; providerRef: string; outcome: "paid" | "failed" }>) {
				// The deliberate cross-tenant lookup: a provider's event names its payout, not our tenant.
				const row = await this.unscopedFindOne<PayoutRow>({ provider: ctx.params.provider, providerRef: ctx.params.providerRef });
				if (!row) return { applied: false };
				// this internal call has no user: it acts as the payout's tenant from here on
				ctx.meta.user = systemUser(row.tenantId);
				return {
					applied: true,
					payout: this.toEntity(await this.settle(ctx, row, { providerRef: row.providerRef ?? "", status: ctx.params.outcome })),
				};
			},
		},
	},
	methods: {
		async send(ctx, row) {
			if (row.status !== "pending" || row.providerRef) return row;
			if (row.kind === "balance" && !row.debited) {
				try {
					await ctx.call(
						"ledger.append",
						{ ownerId: row.ownerId, currency: row.currency, amount: -row.amount, kind: "payout", sourceKey: `payout:${row._id}` },
						asSystem(tenantOf(ctx)),
					);
				} catch (err) {
					if (err instanceof InsufficientBalanceError)
						await this.scopedUpdateWhere(
							ctx,
							{ _id: row._id, status: "pending" },
							{ status: "failed", failureReason: "insufficient_balance" },
						);
					throw err;
				}
				await this.scopedUpdateWhere(ctx, { _id: row._id }, { debited: true });
				row = { ...row, debited: true };
			}
			const result = await this.providers
				.get(row.provider)
				.createPayout({ amount: row.amount, currency: row.currency, destination: row.destination, idempotencyKey: `payout:${row._id}` });
			await this.scopedUpdateWhere(ctx, { _id: row._id }, { providerRef: result.providerRef });
			return this.settle(ctx, { ...row, providerRef: result.providerRef }, result);
		},
		async settle(ctx, row, result) {
			if (result.status !== "pending" && row.status === "pending") {
				const n = await this.scopedUpdateWhere(
					ctx,
					{ _id: row._id, status: "pending" },
					{ status: result.status, ...(result.status === "failed" && { failureReason: "provider_failed" }) },
				);
				// only the one that moved it books the reversal
				if (n === 1 && result.status === "failed" && row.kind === "balance" && row.debited)
					await ctx.call(
						"ledger.append",
						{
							ownerId: row.ownerId,
							currency: row.currency,
							amount: row.amount,
							kind: "payout_reversal",
							sourceKey: `payout-reversal:${row._id}`,
						},
						asSystem(tenantOf(ctx)),
					);
				if (n === 1 && result.status === "paid" && row.commissionPayoutId) await this.completeCommission(ctx, row.commissionPayoutId);
			}
			return (await this.scopedFindById<PayoutRow>(ctx, row._id))!;
		},
		async completeCommission(ctx, commissionPayoutId) {
			const rows = await this._find<{ status: string }>(ctx, { query: { commissionPayoutId } });
			if (!rows.length || !rows.every(r => r.status === "paid")) return;
			const system = asSystem(tenantOf(ctx));
			const isPaid = async () =>
				((await ctx.call("payouts.getPayout", { id: commissionPayoutId }, system)) as { status: string }).status === "paid";
			if (await isPaid()) return;
			try {
				await ctx.call("payouts.payPayout", { id: commissionPayoutId }, system);
			} catch (err) {
				// already paid meanwhile (a retry, or the last two currencies confirmed at once): nothing to do
				if (!(await isPaid())) throw err;
			}
		},
	},
};

export default SellerPayoutsService;
