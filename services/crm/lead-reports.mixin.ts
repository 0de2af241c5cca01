/**
 * The aggregates reporting needs, computed inside the leads service from one scan each (only the
 * aggregate leaves it): an agent's workload (assignment, the pipeline report) and the pipeline's
 * numbers (`crm.pipeline`). Internal actions of the leads service.
 */
import type { Ctx } from "../../lib/context";
import type { DbSettings, MixinSchema } from "../../lib/schema";
import { OPEN_STATUSES, STATUSES } from "./common";
import type { LeadsMethods } from "./lead-model";

const startOfDay = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
/** Monday 00:00 UTC of the week of `d`. */
const startOfWeek = (d: Date) => {
	const day = startOfDay(d);
	return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * 86_400_000);
};

export const LeadReportsMixin: MixinSchema<DbSettings, LeadsMethods> = {
	actions: {
		workload: {
			visibility: "public",
			summary: "Per agent: open leads, leads assigned today and this week (UTC, weeks start on Monday).",
			params: { userIds: { type: "array", items: { type: "string", max: 128 }, max: 1000, optional: true } },
			async handler(ctx: Ctx<{ userIds?: string[] }>) {
				const now = new Date();
				const day = startOfDay(now).toISOString();
				const week = startOfWeek(now).toISOString();
				const only = ctx.params.userIds;
				const scope = only ? { assignedTo: { $in: only } } : { assignedTo: { $ne: null } };
				// One scan of the assigned leads: open ones count as workload, recent assignments as today/this week.
				const open = new Set<string>(OPEN_STATUSES);
				const rows = await this.scopedScan(
					ctx,
					{ ...scope, $or: [{ status: { $in: [...OPEN_STATUSES] } }, { assignedAt: { $gte: week } }] },
					["assignedTo", "assignedAt", "status"],
				);
				const out: Record<string, { openLeads: number; assignedToday: number; assignedThisWeek: number }> = {};
				const row = (u: string) => (out[u] ??= { openLeads: 0, assignedToday: 0, assignedThisWeek: 0 });
				for (const u of only ?? []) row(u);
				for (const l of rows) {
					if (!l.assignedTo) continue;
					const r = row(l.assignedTo);
					if (open.has(l.status)) r.openLeads++;
					if (l.assignedAt && l.assignedAt >= week) {
						r.assignedThisWeek++;
						if (l.assignedAt >= day) r.assignedToday++;
					}
				}
				return out;
			},
		},

		pipelineStats: {
			visibility: "public",
			cache: { keys: ["#user.tenantId"], ttl: 30 },
			summary: "Aggregates of a tenant's leads, computed inside this service (only the aggregate leaves it).",
			params: {},
			async handler(ctx: Ctx) {
				const rows = await this.scopedScan(ctx, {}, ["status", "source", "createdAt", "wonAt", "value", "assignedTo"]);
				const byStatus: Record<string, number> = Object.fromEntries(STATUSES.map(s => [s, 0]));
				const bySource: Record<string, number> = {};
				const wonByMonth: Record<string, Record<string, number>> = {};
				const perAgent: Record<string, { open: number; won: number; lost: number }> = {};
				let winMs = 0;
				let wins = 0;
				for (const r of rows) {
					byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
					bySource[r.source] = (bySource[r.source] ?? 0) + 1;
					if (r.assignedTo) {
						const a = (perAgent[r.assignedTo] ??= { open: 0, won: 0, lost: 0 });
						if (r.status === "won") a.won++;
						else if (r.status === "lost") a.lost++;
						else a.open++;
					}
					if (r.status === "won" && r.wonAt) {
						wins++;
						winMs += Date.parse(r.wonAt) - Date.parse(r.createdAt);
						if (r.value) {
							const month = (wonByMonth[r.wonAt.slice(0, 7)] ??= {});
							month[r.value.currency] = (month[r.value.currency] ?? 0) + r.value.amount;
						}
					}
				}
				const closed = byStatus.won + byStatus.lost;
				return {
					total: rows.length,
					byStatus,
					bySource,
					conversion: {
						// won / (won + lost), and won / all leads; null when there is nothing to divide.
						winRate: closed ? byStatus.won / closed : null,
						overall: rows.length ? byStatus.won / rows.length : null,
					},
					averageTimeToWinHours: wins ? Math.round(winMs / wins / 36_000) / 100 : null,
					valueWonByMonth: Object.entries(wonByMonth)
						.sort(([a], [b]) => a.localeCompare(b))
						.map(([month, totals]) => ({ month, totals: Object.entries(totals).map(([currency, amount]) => ({ currency, amount })) })),
					perAgent,
				};
			},
		},
	},
};
