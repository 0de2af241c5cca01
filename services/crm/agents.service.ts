/**
 * Agents' capacity (how many open leads an agent can carry), per tenant, for the least-loaded
 * strategy and the workload view. Routes live under `/api/assignment/agents`.
 */
import type { Ctx } from "../../lib/context";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { userIdParam } from "./common";
import { ConflictError } from "../../lib/errors";

/** Capacity of an agent nobody has configured. */
export const DEFAULT_CAPACITY = 20;

interface Agent {
	id: string;
	userId: string;
	capacity: number;
	updatedAt: string;
}

const AgentsService: ServiceSchema<DbSettings, TenantDbMethods> = {
	name: "agents",
	mixins: [TenantDbMixin({ collection: "assignment_agents", indexes: [{ fields: ["tenantId", "userId"], unique: true }] })],
	settings: { rest: "/assignment/agents", fields: ["id", "userId", "capacity", "updatedAt"] },
	actions: {
		setCapacity: {
			rest: "PUT /:userId",
			roles: ["admin"],
			idempotent: true,
			params: { userId: userIdParam, capacity: { type: "number", integer: true, min: 0, max: 100_000, convert: true }, $$strict: "remove" },
			async handler(ctx: Ctx<{ userId: string; capacity: number }>) {
				const { userId, capacity } = ctx.params;
				const [row] = await this._find<Agent>(ctx, { query: { userId }, limit: 1 });
				if (row) return this._update(ctx, { id: row.id, capacity });
				try {
					return await this._create(ctx, { userId, capacity });
				} catch (err) {
					// Two PUTs racing on a new agent: the loser updates the winner's row.
					if (!(err instanceof ConflictError)) throw err;
					const [again] = await this._find<Agent>(ctx, { query: { userId }, limit: 1 });
					return this._update(ctx, { id: again.id, capacity });
				}
			},
		},
		listAgents: {
			rest: "GET /",
			roles: ["admin"],
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				const rows = await this._find<Agent>(ctx, { query: {}, sort: ["userId"], limit: 1000 });
				return { rows, total: rows.length, defaultCapacity: DEFAULT_CAPACITY };
			},
		},
		capacities: {
			visibility: "public",
			params: { userIds: { type: "array", items: { type: "string", max: 128 }, max: 1000, optional: true } },
			async handler(ctx: Ctx<{ userIds?: string[] }>) {
				const ids = ctx.params.userIds;
				const rows = await this._find<Agent>(ctx, { query: ids ? { userId: { $in: ids } } : {}, limit: 10_000 });
				const out: Record<string, number> = {};
				for (const id of ids ?? []) out[id] = DEFAULT_CAPACITY;
				for (const r of rows) out[r.userId] = r.capacity;
				return out;
			},
		},
	},
};

export default AgentsService;
