/**
 * Lead assignment: per-tenant rules (ordered by `priority`, lowest first) matched against each new
 * lead received on the `leads.created` channel (group `assignment`); the first enabled matching
 * rule picks an agent by its strategy and calls `leads.assign`, which is idempotent per event.
 *
 * Strategies: `round-robin` over `pool` (turns from a counter shared by every assignment node:
 * Redis INCR when REDIS_URL is set), `least-loaded` (open leads vs capacity, see `agents`),
 * `fixed` (`fixedUserId`). No match, or nobody with room → the lead stays in the unassigned queue.
 */
import { config } from "../../lib/config";
import { asSystem, currentTenantUser, type Ctx } from "../../lib/context";
import { InvalidInputError, ConflictError, NotFoundError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { removeByIdAction, TenantDbMixin, type TenantDbMethods, type TenantScope } from "../../mixins/tenant.mixin";
import { currencyParam, idParam, minorUnits, OPEN_STATUSES, userIdParam } from "./common";
import { requireMembers } from "./membership";
import { MemoryTurnCounter, pick, RedisTurnCounter, type TurnCounter } from "./round-robin";
import { leastLoaded, matches, type MatchableLead, type RuleConditions } from "./rules";

const STRATEGIES = ["round-robin", "least-loaded", "fixed"] as const;

interface Rule {
	id: string;
	tenantId: string;
	name: string;
	priority: number;
	enabled: boolean;
	conditions: RuleConditions;
	strategy: (typeof STRATEGIES)[number];
	pool: string[];
	fixedUserId: string | null;
	createdAt: string;
}

const conditionsParam = {
	type: "object",
	optional: true,
	strict: "remove",
	props: {
		sources: { type: "array", items: { type: "string", min: 1, max: 64 }, max: 50, optional: true },
		countries: { type: "array", items: { type: "string", max: 2, pattern: /^[A-Z]{2}$/ }, max: 250, optional: true },
		value: {
			type: "object",
			optional: true,
			strict: "remove",
			props: { currency: currencyParam, min: { ...minorUnits, optional: true }, max: { ...minorUnits, optional: true } },
		},
		customFields: {
			type: "array",
			optional: true,
			max: 10,
			items: {
				type: "object",
				strict: "remove",
				props: {
					key: { type: "string", min: 1, max: 40 },
					equals: { type: "multi", rules: [{ type: "string", max: 500 }, { type: "number" }, { type: "boolean" }] },
				},
			},
		},
	},
} as const;

const ruleParams = (optional: boolean) => ({
	name: { type: "string", min: 1, max: 100, trim: true, optional },
	priority: { type: "number", integer: true, min: 0, max: 1_000_000, convert: true, optional: true },
	enabled: { type: "boolean", convert: true, optional: true },
	conditions: conditionsParam,
	strategy: { type: "enum", values: [...STRATEGIES], optional },
	pool: { type: "array", items: userIdParam, max: 500, unique: true, optional: true },
	fixedUserId: { type: "string", min: 1, max: 128, optional: true, nullable: true },
	$$strict: "remove",
});

function checkRule(rule: Partial<Rule>) {
	const errors: { field: string; message: string }[] = [];
	if ((rule.strategy === "round-robin" || rule.strategy === "least-loaded") && !rule.pool?.length)
		errors.push({ field: "pool", message: `The '${rule.strategy}' strategy needs a non-empty pool.` });
	if (rule.strategy === "fixed" && !rule.fixedUserId) errors.push({ field: "fixedUserId", message: "The 'fixed' strategy needs fixedUserId." });
	const v = rule.conditions?.value;
	if (v && v.min != null && v.max != null && v.min > v.max) errors.push({ field: "conditions.value", message: "min must not exceed max." });
	if (errors.length) throw new InvalidInputError("The rule is not valid.", errors);
}

/** A rule's fields as an action takes them (create: all that are required; update: any). */
type RuleInput = Partial<Omit<Rule, "id" | "tenantId" | "createdAt">>;
/** What `leads.created` carries that assignment reads. */
interface LeadCreatedEvent {
	id?: string;
	tenantId?: string;
	eventId?: string;
}
type Outcome = "assigned" | "unmatched" | "skipped";
type Workload = Record<string, { openLeads: number; assignedToday: number; assignedThisWeek: number }>;

interface AssignmentMethods extends TenantDbMethods {
	checkAssignees(ctx: Ctx<unknown>, rule: { pool?: string[]; fixedUserId?: string | null }): Promise<void>;
	handleCreated(ctx: Ctx<LeadCreatedEvent>): Promise<Outcome>;
	choose(ctx: Ctx<unknown>, rule: Rule, tenantId: string): Promise<string | undefined>;
	rulesOf(scope: TenantScope): Promise<Rule[]>;
	/** The caller's tenant's rule, or null (the `entity:` loader of updateRule). */
	findRule(ctx: Ctx<unknown>, id: string): Promise<Rule | null>;
}
interface AssignmentVars {
	turns: TurnCounter;
	counters: Record<Outcome | "handled", number>;
}

const withDefaults = <T extends RuleInput>(r: T) => ({ priority: 100, enabled: true, conditions: {}, pool: [], fixedUserId: null, ...r });

const AssignmentService: ServiceSchema<DbSettings, AssignmentMethods, AssignmentVars> = {
	name: "assignment",
	mixins: [TenantDbMixin({ collection: "assignment_rules", indexes: [{ fields: ["tenantId"] }] })],
	settings: {
		fields: ["id", "name", "priority", "enabled", "conditions", "strategy", "pool", "fixedUserId", "createdAt", "updatedAt"],
	},

	actions: {
		createRule: {
			rest: "POST /rules",
			roles: ["admin"],
			params: ruleParams(false),
			async handler(ctx: Ctx<RuleInput>) {
				const rule = withDefaults(ctx.params);
				checkRule(rule);
				await this.checkAssignees(ctx, rule);
				const created = await this._create<Rule>(ctx, rule);
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/assignment/rules/${created.id}`;
				return created;
			},
		},
		listRules: {
			rest: "GET /rules",
			roles: ["admin"],
			params: { ...pageParams, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number }>) {
				const { page, pageSize } = ctx.params;
				return this._list(ctx, { page, pageSize, sort: ["priority", "createdAt"], query: {} });
			},
		},
		getRule: {
			rest: "GET /rules/:id",
			roles: ["admin"],
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},
		updateRule: {
			rest: "PATCH /rules/:id",
			roles: ["admin"],
			params: { id: idParam, ...ruleParams(true) },
			entity: "findRule",
			async handler(ctx: Ctx<{ id: string } & RuleInput>) {
				const { id, ...changes } = ctx.params;
				const current = entityOf<Rule>(ctx);
				checkRule({ ...current, ...changes });
				await this.checkAssignees(ctx, changes);
				return this._update(ctx, { id, ...changes });
			},
		},
		deleteRule: removeByIdAction({ roles: ["admin"], rest: "DELETE /rules/:id" }),
		unassigned: {
			rest: "GET /unassigned",
			roles: ["member"],
			summary: "Open leads nobody is assigned to, oldest first.",
			params: { ...pageParams, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number }>) {
				const { page, pageSize } = ctx.params;
				return ctx.call("leads.listLeads", { unassigned: true, status: [...OPEN_STATUSES], page, pageSize, sort: "createdAt" });
			},
		},
		workload: {
			rest: "GET /workload",
			roles: ["admin"],
			summary: "Per agent: open leads, capacity, leads assigned today and this week (UTC).",
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				const rules = await this.rulesOf(ctx);
				const known = new Set<string>();
				for (const r of rules) for (const u of [...r.pool, ...(r.fixedUserId ? [r.fixedUserId] : [])]) known.add(u);
				const load = (await ctx.call("leads.workload", {})) as Workload;
				const agents = (await ctx.call("agents.listAgents", {})) as { rows: { userId: string }[] };
				for (const u of [...Object.keys(load), ...agents.rows.map(a => a.userId)]) known.add(u);
				const capacity = (await ctx.call("agents.capacities", { userIds: [...known] })) as Record<string, number>;
				const rows = [...known].sort().map(userId => ({
					userId,
					openLeads: load[userId]?.openLeads ?? 0,
					capacity: capacity[userId],
					assignedToday: load[userId]?.assignedToday ?? 0,
					assignedThisWeek: load[userId]?.assignedThisWeek ?? 0,
				}));
				return { rows, total: rows.length };
			},
		},
		stats: {
			visibility: "public",
			summary: "Counters of leads.created messages handled by this node (operators, tests).",
			params: {},
			handler() {
				return { ...this.counters };
			},
		},
		/** Operators and cluster tests: give a node a rule set with fixed ids (NeDB is per process; README, "Running several assignment nodes"). */
		seedRules: {
			visibility: "public",
			params: { rules: { type: "array", max: 100, items: { type: "object", props: { id: idParam, ...ruleParams(false) } } } },
			async handler(ctx: Ctx<{ rules: (RuleInput & { id: string })[] }>) {
				const out = [];
				for (const r of ctx.params.rules) {
					const rule = withDefaults(r);
					checkRule(rule);
					out.push(
						await this._create(ctx, rule).catch(err => (err instanceof ConflictError ? this._update(ctx, rule) : Promise.reject(err))),
					);
				}
				return out;
			},
		},
	},

	channels: {
		"leads.created": {
			group: "assignment",
			maxRetries: 5,
			async handler(ctx: Ctx<LeadCreatedEvent>) {
				const outcome = await this.handleCreated(ctx);
				this.counters.handled++;
				this.counters[outcome]++;
			},
		},
	},

	methods: {
		/** Pool members and the fixed user must belong to the tenant (only the ids being set are checked). */
		async checkAssignees(ctx: Ctx<unknown>, rule: { pool?: string[]; fixedUserId?: string | null }) {
			const tenantId = currentTenantUser(ctx).tenantId;
			await requireMembers(this, ctx, tenantId, rule.pool ?? [], "pool");
			await requireMembers(this, ctx, tenantId, [rule.fixedUserId], "fixedUserId");
		},
		async handleCreated(ctx: Ctx<LeadCreatedEvent>): Promise<Outcome> {
			const event = ctx.params;
			if (!event?.tenantId || !event.id) return "skipped"; // not a lead event: nothing to assign
			const sys = asSystem(event.tenantId);
			const lead = (await ctx.call("leads.getLead", { id: event.id }, sys).catch(err => {
				if (err instanceof NotFoundError) return null; // deleted meanwhile
				throw err;
			})) as (MatchableLead & { assignedTo: string | null }) | null;
			if (!lead || lead.assignedTo) return "skipped"; // redelivered, or assigned by hand already
			const rules = await this.rulesOf(sys);
			const rule = rules.find(r => r.enabled && matches(r.conditions, lead));
			if (!rule) return "unmatched";
			const userId = await this.choose(ctx, rule, event.tenantId);
			if (!userId) {
				this.logger.info("lead left unassigned: nobody in the pool has room", { leadId: event.id, ruleId: rule.id });
				return "unmatched";
			}
			const res = (await ctx.call(
				"leads.assign",
				{ id: event.id, userId, eventId: event.eventId, ruleId: rule.id, onlyIfUnassigned: true },
				sys,
			)) as { changed: boolean };
			return res.changed ? "assigned" : "skipped";
		},

		async findRule(ctx: Ctx<unknown>, id: string) {
			const row = await this.scopedFindById(ctx, id);
			return row && this.toEntity<Rule>(row);
		},

		/** The tenant's rules in evaluation order (channel handlers pass `asSystem(tenantId)`: they have no user). */
		rulesOf(scope: TenantScope): Promise<Rule[]> {
			return this._find<Rule>(scope, { query: {}, sort: ["priority", "createdAt"] });
		},
		async choose(ctx: Ctx<unknown>, rule: Rule, tenantId: string) {
			if (rule.strategy === "fixed") return rule.fixedUserId ?? undefined;
			if (rule.strategy === "round-robin") return pick(rule.pool, await this.turns.next(tenantId, rule.id));
			const sys = asSystem(tenantId);
			const load = (await ctx.call("leads.workload", { userIds: rule.pool }, sys)) as Record<string, { openLeads: number }>;
			const capacity = (await ctx.call("agents.capacities", { userIds: rule.pool }, sys)) as Record<string, number>;
			return leastLoaded(rule.pool, Object.fromEntries(Object.entries(load).map(([u, l]) => [u, l.openLeads])), capacity);
		},
	},

	created() {
		this.counters = { handled: 0, assigned: 0, unmatched: 0, skipped: 0 };
		const cfg = config();
		this.turns = cfg.REDIS_URL ? new RedisTurnCounter(cfg.REDIS_URL, cfg.NAMESPACE) : new MemoryTurnCounter();
	},
	async stopped() {
		await this.turns.close();
	},
};

export default AssignmentService;
