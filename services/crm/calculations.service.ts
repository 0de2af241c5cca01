/**
 * Commission calculations, made from lead events on channels (group `commission`):
 * - `leads.won` → one `win:<cycle>` row for the lead's owner under the plan in effect at the win
 *   date (`wonAt`); `cycle` counts the lead's wins, so a lead won, reopened and won again earns again.
 * - `leads.reopened` from won → one `reversal:<cycle>` row with the opposite amount.
 * A unique index on (tenantId, leadId, kind) makes each exactly-once under redelivery and across
 * nodes (the store rejects the second insert). Currency mismatch between plan and lead, no owner or
 * no plan → no row, a logged warning/info. Statements: `GET /api/commission/statements`.
 */
import { hasRole } from "../../lib/access";
import { currentTenantUser, systemUser, type Ctx } from "../../lib/context";
import { ForbiddenError, ConflictError } from "../../lib/errors";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { TenantDbMixin, type Row, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { commissionFor, CurrencyMismatchError, type Plan } from "./commission-math";
import { periodOf, periodParam, userIdParam } from "./common";

interface Calculation {
	id: string;
	leadId: string;
	userId: string;
	planId: string | null;
	kind: string;
	type: "win" | "reversal";
	amount: number;
	currency: string;
	leadValue: { amount: number; currency: string } | null;
	period: string;
	at: string;
	eventId: string;
}

type Outcome = "created" | "duplicate" | "skipped";

/** What `leads.won` / `leads.reopened` carry that commission reads (the lead, envelope fields, cycle). */
interface LeadEvent {
	id?: string;
	tenantId?: string;
	eventId: string;
	at: string;
	assignedTo?: string | null;
	wonAt?: string | null;
	value?: { amount: number; currency: string } | null;
	cycle?: number;
	reopenedFrom?: string;
}
interface CalcMethods extends TenantDbMethods {
	insertOnce(ctx: Ctx<unknown>, row: Omit<Calculation, "id">): Promise<Outcome>;
	onWon(ctx: Ctx<LeadEvent>): Promise<Outcome>;
	onReopened(ctx: Ctx<LeadEvent>): Promise<Outcome>;
	count(outcome: Outcome): void;
}
interface CalcVars {
	counters: Record<Outcome | "handled", number>;
}

/** Totals per user and currency, sorted. */
export function totalsOf(rows: Pick<Calculation, "userId" | "currency" | "amount">[]) {
	const map = new Map<string, { userId: string; currency: string; amount: number; count: number }>();
	for (const r of rows) {
		const key = `${r.userId}|${r.currency}`;
		const t = map.get(key) ?? { userId: r.userId, currency: r.currency, amount: 0, count: 0 };
		t.amount += r.amount;
		t.count++;
		map.set(key, t);
	}
	return [...map.values()].sort((a, b) => a.userId.localeCompare(b.userId) || a.currency.localeCompare(b.currency));
}

const CalculationsService: ServiceSchema<DbSettings, CalcMethods, CalcVars> = {
	name: "calculations",
	mixins: [
		TenantDbMixin({
			collection: "commission_calculations",
			indexes: [{ fields: ["tenantId", "leadId", "kind"], unique: true }, { fields: ["userId"] }, { fields: ["period"] }],
		}),
	],
	settings: {
		rest: "/commission",
		fields: ["id", "leadId", "userId", "planId", "kind", "type", "amount", "currency", "leadValue", "period", "at", "eventId", "createdAt"],
	},
	actions: {
		statements: {
			rest: "GET /statements",
			roles: ["member"],
			summary: "A period's calculations and totals: yours as a member; any member's (userId=) or the whole tenant's as admin.",
			params: { period: periodParam, userId: { ...userIdParam, optional: true }, $$strict: "remove" },
			async handler(ctx: Ctx<{ period: string; userId?: string }>) {
				const user = currentTenantUser(ctx);
				const admin = hasRole(user.roles, ["admin"]);
				let userId = ctx.params.userId;
				if (!admin) {
					if (userId && userId !== user.id) throw new ForbiddenError("Members see their own statement only.");
					userId = user.id;
				}
				const rows = await this._find<Calculation>(ctx, {
					query: { period: ctx.params.period, ...(userId ? { userId } : {}) },
					sort: ["at"],
					limit: 100_000,
				});
				return { period: ctx.params.period, userId: userId ?? null, rows, totals: totalsOf(rows) };
			},
		},
		forPayout: {
			visibility: "public",
			params: { userId: userIdParam, period: periodParam },
			handler(ctx: Ctx<{ userId: string; period: string }>) {
				return this._find(ctx, { query: { userId: ctx.params.userId, period: ctx.params.period }, sort: ["at"], limit: 100_000 });
			},
		},
		totalsByUser: {
			visibility: "public",
			summary: "All-time commission totals per user and currency (pipeline report).",
			params: { period: { ...periodParam, optional: true } },
			async handler(ctx: Ctx<{ period?: string }>) {
				const query = ctx.params.period ? { period: ctx.params.period } : {};
				const rows = await this._find<Calculation>(ctx, { query, fields: ["userId", "currency", "amount"], limit: 1_000_000 });
				return totalsOf(rows);
			},
		},
		stats: {
			visibility: "public",
			summary: "Counters of lead events handled by this node (operators, tests).",
			params: {},
			handler() {
				return { ...this.counters };
			},
		},
	},

	channels: {
		"leads.won": {
			group: "commission",
			maxRetries: 5,
			async handler(ctx: Ctx<LeadEvent>) {
				this.count(await this.onWon(ctx));
			},
		},
		"leads.reopened": {
			group: "commission",
			maxRetries: 5,
			async handler(ctx: Ctx<LeadEvent>) {
				this.count(await this.onReopened(ctx));
			},
		},
	},

	methods: {
		count(outcome: Outcome) {
			this.counters.handled++;
			this.counters[outcome]++;
		},

		async onWon(ctx: Ctx<LeadEvent>): Promise<Outcome> {
			const e = ctx.params;
			if (!e?.tenantId || !e.id) return "skipped";
			// The handler acts inside the event's tenant, as its system identity.
			ctx.meta.user = systemUser(e.tenantId);
			const owner = e.assignedTo ?? null;
			if (!owner) {
				this.logger.warn("won lead without an owner: no commission", { tenantId: e.tenantId, leadId: e.id });
				return "skipped";
			}
			const at: string = e.wonAt ?? e.at;
			const plan = (await ctx.call("commission.planFor", { userId: owner, at })) as (Plan & { id: string }) | null;
			if (!plan) {
				this.logger.info("no commission plan in effect for the owner", { tenantId: e.tenantId, leadId: e.id, userId: owner, at });
				return "skipped";
			}
			// A lead without a value counts as 0 in the plan's currency (flat plans still pay).
			const value = e.value ?? { amount: 0, currency: plan.currency };
			let amount: number;
			try {
				amount = commissionFor(plan, value);
			} catch (err) {
				if (!(err instanceof CurrencyMismatchError)) throw err;
				this.logger.warn("commission not calculated: currency mismatch", {
					tenantId: e.tenantId,
					leadId: e.id,
					planId: plan.id,
					planCurrency: plan.currency,
					leadCurrency: value.currency,
				});
				return "skipped";
			}
			return this.insertOnce(ctx, {
				leadId: e.id,
				userId: owner,
				planId: plan.id,
				kind: `win:${e.cycle ?? 1}`,
				type: "win",
				amount,
				currency: plan.currency,
				leadValue: e.value ?? null,
				period: periodOf(at),
				at,
				eventId: e.eventId,
			});
		},

		async onReopened(ctx: Ctx<LeadEvent>): Promise<Outcome> {
			const e = ctx.params;
			if (!e?.tenantId || !e.id || e.reopenedFrom !== "won") return "skipped";
			ctx.meta.user = systemUser(e.tenantId);
			const cycle = e.cycle ?? 1;
			const win = await this.scopedFindOne<Calculation & Row>(ctx, { leadId: e.id, kind: `win:${cycle}` });
			if (!win) return "skipped"; // nothing was earned (no plan, mismatch…): nothing to reverse
			const at: string = e.at;
			return this.insertOnce(ctx, {
				leadId: e.id,
				userId: win.userId,
				planId: win.planId,
				kind: `reversal:${cycle}`,
				type: "reversal",
				amount: -win.amount,
				currency: win.currency,
				leadValue: win.leadValue,
				period: periodOf(at),
				at,
				eventId: e.eventId,
			});
		},

		async insertOnce(ctx: Ctx<unknown>, row: Omit<Calculation, "id">): Promise<Outcome> {
			try {
				await this._create(ctx, { ...row });
				return "created";
			} catch (err) {
				if (err instanceof ConflictError) return "duplicate"; // delivered twice: already counted
				throw err;
			}
		},
	},

	created() {
		this.counters = { handled: 0, created: 0, duplicate: 0, skipped: 0 };
	},
};

export default CalculationsService;
