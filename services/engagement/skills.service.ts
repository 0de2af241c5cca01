/**
 * Skill trees (`/api/skills`): per tenant, skills with prerequisites (a DAG: an edge that would close
 * a cycle is 422 naming it, as for task dependencies) and a cost in one of the tenant's currencies.
 * Unlocking checks the prerequisites and spends the cost through the ledger (never overdrawn, once
 * per user and skill: the charge's eventId names both), then marks the skill unlocked (idempotent
 * too, so a retry after a crash in between finishes without paying twice). README, "Engagement domain".
 */
import { currentTenantUser, type Ctx } from "../../lib/context";
import { ConflictError, DependencyCycleError, InvalidInputError, SkillLockedError, UnknownCurrencyError } from "../../lib/errors";
import { KeyedMutex } from "../../lib/keyed-mutex";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import type { GameSettings } from "./game-rules";
import { findPath, type Edge } from "./graph";
import { amountParam, currencyParam } from "./wallet-params";

export interface Skill {
	id: string;
	key: string;
	name: string;
	description: string;
	cost: { currency: string; amount: number };
	prerequisites: string[];
}

interface Methods extends TenantDbMethods {
	loadSkill(ctx: Ctx<object>, key: string): Promise<Skill | null>;
	all(ctx: Ctx<object>): Promise<Skill[]>;
	checkPrerequisites(ctx: Ctx<object>, key: string, prerequisites: string[], cost?: { currency: string }): Promise<void>;
}
interface Vars {
	treeLock: KeyedMutex;
}

const keyParam = { type: "string", min: 1, max: 64, pattern: /^[a-z0-9][a-z0-9_-]*$/ } as const;
const costParam = { type: "object", strict: "remove", props: { currency: currencyParam, amount: { ...amountParam, min: 0 } } } as const;
const prerequisitesParam = { type: "array", max: 20, unique: true, items: keyParam } as const;

const SkillsService: ServiceSchema<DbSettings, Methods, Vars> = {
	name: "skills",
	mixins: [TenantDbMixin({ collection: "engagement_skills", indexes: [{ fields: ["tenantId", "key"], unique: true }] })],
	settings: { fields: ["id", "key", "name", "description", "cost", "prerequisites"] },
	created() {
		this.treeLock = new KeyedMutex();
	},
	actions: {
		tree: {
			rest: "GET /",
			roles: ["member"],
			summary: "Every skill of the tenant with its state for you: unlocked, unlockable (prerequisites met) or locked (with what is missing).",
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				const user = currentTenantUser(ctx);
				const [skills, unlocked] = await Promise.all([
					this.all(ctx),
					ctx.call<string[], object>("gamification.unlockedSkills", { userId: user.id }),
				]);
				const have = new Set(unlocked);
				return skills.map(s => {
					const missing = s.prerequisites.filter(p => !have.has(p));
					return { ...s, state: have.has(s.key) ? "unlocked" : missing.length ? "locked" : "unlockable", missing };
				});
			},
		},
		createSkill: {
			rest: "POST /",
			roles: ["admin"],
			params: {
				key: keyParam,
				name: { type: "string", min: 1, max: 100, trim: true },
				description: { type: "string", max: 2000, default: "" },
				cost: costParam,
				prerequisites: { ...prerequisitesParam, default: [] },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<Omit<Skill, "id">>) {
				const { key, name, description, cost, prerequisites } = ctx.params;
				return this.treeLock.run(currentTenantUser(ctx).tenantId, async () => {
					if (await this.loadSkill(ctx, key)) throw new ConflictError("A skill with this key exists.");
					await this.checkPrerequisites(ctx, key, prerequisites, cost);
					const skill = await this._create<Skill>(ctx, { key, name, description, cost, prerequisites });
					ctx.meta.$statusCode = 201;
					// no GET of one skill: the tree, which lists it
					ctx.meta.$location = "/api/skills";
					return skill;
				});
			},
		},
		updateSkill: {
			rest: "PATCH /:key",
			roles: ["admin"],
			entity: { method: "loadSkill", param: "key" },
			params: {
				key: keyParam,
				name: { type: "string", min: 1, max: 100, trim: true, optional: true },
				description: { type: "string", max: 2000, optional: true },
				cost: { ...costParam, optional: true },
				prerequisites: { ...prerequisitesParam, optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<Partial<Skill> & { key: string }>) {
				const skill = entityOf<Skill>(ctx);
				const { name, description, cost, prerequisites } = ctx.params;
				return this.treeLock.run(currentTenantUser(ctx).tenantId, async () => {
					await this.checkPrerequisites(ctx, skill.key, prerequisites ?? skill.prerequisites, cost);
					return this._update<Skill>(ctx, {
						id: skill.id,
						...(name !== undefined && { name }),
						...(description !== undefined && { description }),
						...(cost && { cost }),
						...(prerequisites && { prerequisites }),
					});
				});
			},
		},
		unlock: {
			rest: "POST /:key/unlock",
			roles: ["member"],
			entity: { method: "loadSkill", param: "key" },
			summary:
				"Unlocks the skill for you: its prerequisites must be unlocked (409 SKILL_LOCKED) and its cost is spent (409 INSUFFICIENT_FUNDS, nothing spent).",
			params: { key: keyParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ key: string }>) {
				const user = currentTenantUser(ctx);
				const skill = entityOf<Skill>(ctx);
				const have = new Set(await ctx.call<string[], object>("gamification.unlockedSkills", { userId: user.id }));
				if (have.has(skill.key)) return { skill: skill.key, state: "unlocked", charged: 0 };
				const missing = skill.prerequisites.filter(p => !have.has(p));
				if (missing.length) throw new SkillLockedError(missing);
				const base = `skill:${skill.key}:${user.id}`;
				if (skill.cost.amount > 0)
					await ctx.call("gamification.charge", {
						userId: user.id,
						currency: skill.cost.currency,
						amount: skill.cost.amount,
						reason: `skill ${skill.key}`,
						eventId: `${base}:cost`,
						refType: "skill",
						refId: skill.key,
					});
				await ctx.call("gamification.markSkill", { userId: user.id, skill: skill.key, eventId: base });
				// 200: a state of the skill for you changed, nothing with a URL of its own was made
				return { skill: skill.key, state: "unlocked", charged: skill.cost.amount, currency: skill.cost.currency };
			},
		},
	},
	methods: {
		async loadSkill(ctx: Ctx<object>, key: string) {
			const row = await this.scopedFindOne(ctx, { key });
			return row ? this.toEntity<Skill>(row) : null;
		},
		all(ctx: Ctx<object>) {
			return this._find<Skill>(ctx, { query: {}, sort: ["key"], limit: 10_000 });
		},
		async checkPrerequisites(ctx: Ctx<object>, key: string, prerequisites: string[], cost?: { currency: string }) {
			if (cost) {
				const game = await ctx.call<GameSettings, object>("gamesettings.forTenant", {});
				if (!game.currencies.includes(cost.currency)) throw new UnknownCurrencyError(cost.currency);
			}
			const skills = await this.all(ctx);
			const known = new Set(skills.map(s => s.key));
			const unknown = prerequisites.filter(p => !known.has(p) || p === key);
			if (unknown.includes(key)) throw new DependencyCycleError([key, key], "prerequisites");
			if (unknown.length)
				throw new InvalidInputError("Unknown prerequisites.", [
					{ field: "prerequisites", message: `are not skills of this tenant: ${unknown.join(", ")}` },
				]);
			// prerequisite → skill; the skill's own current edges are replaced by the new ones
			const edges: Edge[] = skills.filter(s => s.key !== key).flatMap(s => s.prerequisites.map(p => ({ from: p, to: s.key })));
			for (const p of prerequisites) {
				const back = findPath(edges, key, p);
				if (back) throw new DependencyCycleError([p, ...back], "prerequisites");
			}
		},
	},
};

export default SkillsService;
