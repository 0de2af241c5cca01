/**
 * Commission plans (admin): `flat` amount per won lead, `percentage` of the lead's value (basis
 * points) or `tiered` marginal brackets, in one currency, effective over [effectiveFrom, effectiveTo).
 * Members are attached to plans; a member's plan at a date is the one they belong to that is in
 * effect then (the latest effectiveFrom wins when several are). Calculations: `calculations`.
 */
import { currentTenantUser, type Ctx } from "../../lib/context";
import { InvalidInputError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { removeByIdAction, TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { tierProblems, type Tier } from "./commission-math";
import { currencyParam, idParam, minorUnits, userIdParam } from "./common";
import { requireMembers } from "./membership";

const TYPES = ["flat", "percentage", "tiered"] as const;
const bps = { type: "number", integer: true, min: 0, max: 10_000, convert: true } as const;

const planParams = (optional: boolean) => ({
	name: { type: "string", min: 1, max: 100, trim: true, optional },
	type: { type: "enum", values: [...TYPES], optional },
	currency: { ...currencyParam, optional },
	amount: { ...minorUnits, optional: true },
	rateBps: { ...bps, optional: true },
	tiers: {
		type: "array",
		optional: true,
		min: 1,
		max: 20,
		items: { type: "object", strict: "remove", props: { upTo: { ...minorUnits, nullable: true }, rateBps: bps } },
	},
	effectiveFrom: { type: "date", convert: true, optional },
	effectiveTo: { type: "date", convert: true, optional: true, nullable: true },
	$$strict: "remove",
});

interface Plan {
	id: string;
	name: string;
	type: (typeof TYPES)[number];
	currency: string;
	amount?: number;
	rateBps?: number;
	tiers?: Tier[];
	effectiveFrom: string;
	effectiveTo: string | null;
	members: string[];
}

/** A plan's fields as an action takes them (dates as validated: Date objects). */
type PlanInput = Partial<Omit<Plan, "id" | "members" | "effectiveFrom" | "effectiveTo">> & {
	effectiveFrom?: Date | string;
	effectiveTo?: Date | string | null;
};

function normalise<T extends PlanInput>(p: T): T {
	const out = { ...p };
	if (out.effectiveFrom instanceof Date) out.effectiveFrom = out.effectiveFrom.toISOString();
	if (out.effectiveTo instanceof Date) out.effectiveTo = out.effectiveTo.toISOString();
	return out;
}

function checkPlan(plan: Partial<Plan>) {
	const errors: { field: string; message: string }[] = [];
	if (plan.type === "flat" && plan.amount == null) errors.push({ field: "amount", message: "A flat plan needs amount (minor units)." });
	if (plan.type === "percentage" && plan.rateBps == null) errors.push({ field: "rateBps", message: "A percentage plan needs rateBps." });
	if (plan.type === "tiered") {
		const problem = plan.tiers?.length ? tierProblems(plan.tiers) : "A tiered plan needs tiers.";
		if (problem) errors.push({ field: "tiers", message: problem });
	}
	if (plan.effectiveTo && plan.effectiveFrom && plan.effectiveTo <= plan.effectiveFrom)
		errors.push({ field: "effectiveTo", message: "effectiveTo must be after effectiveFrom." });
	if (errors.length) throw new InvalidInputError("The plan is not valid.", errors);
}

interface CommissionMethods extends TenantDbMethods {
	/** The caller's tenant's plan, or null (the `entity:` loader of the actions on one plan). */
	findPlan(ctx: Ctx<unknown>, id: string): Promise<Plan | null>;
}

const CommissionService: ServiceSchema<DbSettings, CommissionMethods> = {
	name: "commission",
	mixins: [TenantDbMixin({ collection: "commission_plans", indexes: [{ fields: ["tenantId"] }] })],
	settings: {
		fields: ["id", "name", "type", "currency", "amount", "rateBps", "tiers", "effectiveFrom", "effectiveTo", "members", "createdAt", "updatedAt"],
	},
	actions: {
		createPlan: {
			rest: "POST /plans",
			roles: ["admin"],
			params: planParams(false),
			async handler(ctx: Ctx<PlanInput>) {
				const plan = { ...normalise({ effectiveTo: null, ...ctx.params }), members: [] };
				checkPlan(plan as Partial<Plan>);
				const created = await this._create<Plan>(ctx, plan);
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/commission/plans/${created.id}`;
				return created;
			},
		},
		listPlans: {
			rest: "GET /plans",
			roles: ["admin"],
			params: { ...pageParams, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number }>) {
				const { page, pageSize } = ctx.params;
				return this._list(ctx, { page, pageSize, sort: "-effectiveFrom", query: {} });
			},
		},
		getPlan: {
			rest: "GET /plans/:id",
			roles: ["admin"],
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},
		updatePlan: {
			rest: "PATCH /plans/:id",
			roles: ["admin"],
			summary: "Changes apply to calculations made from now on; past calculations are never recomputed.",
			params: { id: idParam, ...planParams(true) },
			entity: "findPlan",
			async handler(ctx: Ctx<{ id: string } & PlanInput>) {
				const { id, ...changes } = normalise(ctx.params);
				const current = entityOf<Plan>(ctx);
				checkPlan({ ...current, ...changes } as Partial<Plan>);
				return this._update(ctx, { id, ...changes });
			},
		},
		deletePlan: removeByIdAction({ roles: ["admin"], rest: "DELETE /plans/:id" }),
		addMember: {
			rest: "POST /plans/:id/members",
			roles: ["admin"],
			idempotent: true,
			params: { id: idParam, userId: userIdParam, $$strict: "remove" },
			entity: "findPlan",
			async handler(ctx: Ctx<{ id: string; userId: string }>) {
				const plan = entityOf<Plan>(ctx);
				if (plan.members.includes(ctx.params.userId)) return plan;
				await requireMembers(this, ctx, currentTenantUser(ctx).tenantId, [ctx.params.userId], "userId");
				return this._update(ctx, { id: plan.id, members: [...plan.members, ctx.params.userId] });
			},
		},
		removeMember: {
			rest: "DELETE /plans/:id/members/:userId",
			roles: ["admin"],
			params: { id: idParam, userId: userIdParam },
			entity: "findPlan",
			async handler(ctx: Ctx<{ id: string; userId: string }>) {
				const plan = entityOf<Plan>(ctx);
				return this._update(ctx, { id: plan.id, members: plan.members.filter(m => m !== ctx.params.userId) });
			},
		},
		planFor: {
			visibility: "public",
			summary: "The plan a member is on at a date (null if none).",
			params: { userId: userIdParam, at: { type: "string", min: 10, max: 40 } },
			async handler(ctx: Ctx<{ userId: string; at: string }>): Promise<Plan | null> {
				const { userId, at } = ctx.params;
				const plans = await this._find<Plan>(ctx, {
					query: { members: userId, effectiveFrom: { $lte: at } },
					sort: ["-effectiveFrom"],
					limit: 100,
				});
				return plans.find(p => !p.effectiveTo || at < p.effectiveTo) ?? null;
			},
		},
	},

	methods: {
		async findPlan(ctx: Ctx<unknown>, id: string) {
			const row = await this.scopedFindById(ctx, id);
			return row && this.toEntity<Plan>(row);
		},
	},
};

export default CommissionService;
