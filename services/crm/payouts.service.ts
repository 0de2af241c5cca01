/**
 * Commission payouts: one per member and period (`YYYY-MM`), built from that period's calculations
 * (wins and reversals), with exact integer totals per currency. `pending → approved → paid` (admin);
 * once approved a payout cannot change or be deleted (409 PAYOUT_IMMUTABLE). State changes are
 * compare-and-set on the current status, so two admins cannot both approve or pay.
 */
import { hasRole } from "../../lib/access";
import { currentTenantUser, type Ctx } from "../../lib/context";
import { InvalidTransitionError, PayoutImmutableError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { idParam, periodParam, userIdParam } from "./common";

const STATUSES = ["pending", "approved", "paid"] as const;
type Status = (typeof STATUSES)[number];

interface Payout {
	id: string;
	userId: string;
	period: string;
	status: Status;
	totals: { currency: string; amount: number }[];
	calculationIds: string[];
	count: number;
	createdBy: string;
}

interface PayoutsMethods extends TenantDbMethods {
	move(ctx: Ctx<unknown>, id: string, from: Status, to: Status, stamp: string): Promise<Payout>;
	/** The caller's tenant's payout if the caller may see it (an admin: any; a member: their own), or null. */
	visiblePayout(ctx: Ctx<unknown>, id: string): Promise<Payout | null>;
}

const PayoutsService: ServiceSchema<DbSettings, PayoutsMethods> = {
	name: "payouts",
	mixins: [TenantDbMixin({ collection: "commission_payouts", indexes: [{ fields: ["tenantId", "userId", "period"], unique: true }] })],
	settings: {
		rest: "/commission/payouts",
		fields: [
			"id",
			"userId",
			"period",
			"status",
			"totals",
			"calculationIds",
			"count",
			"createdBy",
			"approvedBy",
			"approvedAt",
			"paidBy",
			"paidAt",
			"createdAt",
			"updatedAt",
		],
	},
	actions: {
		createPayout: {
			rest: "POST /",
			roles: ["admin"],
			summary: "A pending payout of a member's calculations for a period (one per member and period: 409 otherwise).",
			params: { userId: userIdParam, period: periodParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ userId: string; period: string }>) {
				const { userId, period } = ctx.params;
				const calcs = (await ctx.call("calculations.forPayout", { userId, period })) as { id: string; currency: string; amount: number }[];
				const byCurrency = new Map<string, number>();
				for (const c of calcs) byCurrency.set(c.currency, (byCurrency.get(c.currency) ?? 0) + c.amount);
				const totals = [...byCurrency.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([currency, amount]) => ({ currency, amount }));
				const payout = await this._create<Payout>(ctx, {
					userId,
					period,
					status: "pending",
					totals,
					calculationIds: calcs.map(c => c.id),
					count: calcs.length,
					createdBy: currentTenantUser(ctx).id,
				});
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/commission/payouts/${payout.id}`;
				return payout;
			},
		},
		listPayouts: {
			rest: "GET /",
			roles: ["member"],
			summary: "Payouts: a member sees their own; an admin all (filters: userId, period, status).",
			params: {
				...pageParams,
				userId: { ...userIdParam, optional: true },
				period: { ...periodParam, optional: true },
				status: { type: "enum", values: [...STATUSES], optional: true },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ page: number; pageSize: number; userId?: string; period?: string; status?: Status }>) {
				const user = currentTenantUser(ctx);
				const { page, pageSize, userId, period, status } = ctx.params;
				const who = hasRole(user.roles, ["admin"]) ? userId : user.id;
				const query = { ...(who ? { userId: who } : {}), ...(period ? { period } : {}), ...(status ? { status } : {}) };
				return this._list(ctx, { page, pageSize, sort: "-createdAt", query });
			},
		},
		getPayout: {
			rest: "GET /:id",
			roles: ["member"],
			params: { id: idParam, $$strict: "remove" },
			// a member sees their own payouts only: someone else's is a 404 like a missing one
			entity: "visiblePayout",
			handler(ctx: Ctx<{ id: string }>) {
				return entityOf<Payout>(ctx);
			},
		},
		approvePayout: {
			rest: "POST /:id/approve",
			roles: ["admin"],
			params: { id: idParam },
			handler(ctx: Ctx<{ id: string }>) {
				return this.move(ctx, ctx.params.id, "pending", "approved", "approved");
			},
		},
		payPayout: {
			rest: "POST /:id/pay",
			roles: ["admin"],
			params: { id: idParam },
			handler(ctx: Ctx<{ id: string }>) {
				return this.move(ctx, ctx.params.id, "approved", "paid", "paid");
			},
		},
		deletePayout: {
			rest: "DELETE /:id",
			roles: ["admin"],
			summary: "Drop a pending payout (e.g. to rebuild it after late calculations).",
			params: { id: idParam },
			entity: "visiblePayout",
			async handler(ctx: Ctx<{ id: string }>) {
				const payout = entityOf<Payout>(ctx);
				if (payout.status !== "pending") throw new PayoutImmutableError(payout.status);
				// Remove only while still pending (an approval racing this delete wins or loses whole).
				const n = await this.scopedRemoveWhere(ctx, { _id: ctx.params.id, status: "pending" });
				if (n === 0) throw new PayoutImmutableError("approved");
				ctx.meta.$statusCode = 204;
				return null;
			},
		},
	},
	methods: {
		async visiblePayout(ctx: Ctx<unknown>, id: string) {
			const user = currentTenantUser(ctx);
			const row = await this.scopedFindById(ctx, id);
			const payout = row && this.toEntity<Payout>(row);
			return payout && (hasRole(user.roles, ["admin"]) || payout.userId === user.id) ? payout : null;
		},

		async move(ctx: Ctx<unknown>, id: string, from: Status, to: Status, stamp: string) {
			const user = currentTenantUser(ctx);
			const current = await this._get<Payout>(ctx, { id });
			if (current.status !== from) {
				if (current.status === "pending") throw new InvalidTransitionError("Approve the payout before paying it.", current.status, to);
				throw new PayoutImmutableError(current.status);
			}
			const n = await this.scopedUpdateWhere(
				ctx,
				{ _id: id, status: from },
				{ status: to, [`${stamp}By`]: user.id, [`${stamp}At`]: new Date().toISOString() },
			);
			if (n === 0) throw new PayoutImmutableError(to);
			return this._get<Payout>(ctx, { id });
		},
	},
};

export default PayoutsService;
