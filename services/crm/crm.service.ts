/**
 * CRM reporting: `GET /api/crm/pipeline`, composed from the services' own aggregates (no shared
 * collection, no rows through the gateway): leads by status and source, conversion, average time
 * to win and value won per month (`leads.pipelineStats`), per-agent workload (`leads` + `agents`)
 * and commissions (`calculations.totalsByUser`). A part whose service is down is reported as null
 * with its name in `unavailable`, instead of failing the whole report.
 */
import type { Ctx } from "../../lib/context";
import type { ServiceSchema } from "../../lib/schema";

interface PipelineStats {
	perAgent: Record<string, { open: number; won: number; lost: number }>;
	[key: string]: unknown;
}

const CrmService: ServiceSchema = {
	name: "crm",
	actions: {
		pipeline: {
			rest: "GET /pipeline",
			roles: ["admin"],
			summary: "The tenant's pipeline: by status/source, conversion, time to win, value won per month, per-agent workload and commissions.",
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				const unavailable: string[] = [];
				const optional = <T>(name: string, p: Promise<T>) =>
					p.catch(err => {
						// the caller's fault (403, 422…) is the answer; anything else is that part being down
						if (err?.code >= 400 && err?.code < 500) throw err;
						this.logger.warn("pipeline part unavailable", { part: name, error: err?.message });
						unavailable.push(name);
						return null;
					});
				const [stats, workload, commissions] = await Promise.all([
					ctx.call("leads.pipelineStats", {}) as Promise<PipelineStats>,
					optional(
						"workload",
						ctx.call("leads.workload", {}) as Promise<
							Record<string, { openLeads: number; assignedToday: number; assignedThisWeek: number }>
						>,
					),
					optional(
						"commissions",
						ctx.call("calculations.totalsByUser", {}) as Promise<{ userId: string; currency: string; amount: number; count: number }[]>,
					),
				]);
				const users = new Set<string>([
					...Object.keys(stats.perAgent),
					...Object.keys(workload ?? {}),
					...(commissions ?? []).map(c => c.userId),
				]);
				const capacity = await optional(
					"capacity",
					ctx.call("agents.capacities", { userIds: [...users] }) as Promise<Record<string, number>>,
				);
				const agents = [...users].sort().map(userId => ({
					userId,
					openLeads: stats.perAgent[userId]?.open ?? 0,
					won: stats.perAgent[userId]?.won ?? 0,
					lost: stats.perAgent[userId]?.lost ?? 0,
					capacity: capacity?.[userId] ?? null,
					assignedToday: workload?.[userId]?.assignedToday ?? null,
					assignedThisWeek: workload?.[userId]?.assignedThisWeek ?? null,
					commissions: commissions
						? commissions.filter(c => c.userId === userId).map(({ currency, amount, count }) => ({ currency, amount, count }))
						: null,
				}));
				const { perAgent: _omit, ...rest } = stats;
				return { ...rest, agents, generatedAt: new Date().toISOString(), unavailable };
			},
		},
	},
};

export default CrmService;
