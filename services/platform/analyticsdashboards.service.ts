/**
 * Dashboards saved per tenant (README, "Jobs, schedules and analytics" → "Analytics"):
 * `{ name, widgets: [{ type: series|counter|funnel|table, query }] }`, validated on save, and
 * `GET /api/analytics/dashboards/:id/data` answering every widget from the buckets.
 */
import { currentTenantUser, type Ctx } from "../../lib/context";
import { InvalidInputError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { idParam } from "../../lib/validation";
import { removeByIdAction, TenantDbMixin, type TenantDbMethods, type TenantScope } from "../../mixins/tenant.mixin";
import type { SeriesAnswer } from "./analyticsmetrics.service";
import { widgetErrors, widgetRule, type Widget } from "./analytics/widgets";

interface Dashboard {
	id: string;
	name: string;
	widgets: Widget[];
}

interface Methods extends TenantDbMethods {
	checkWidgets(widgets: Widget[]): void;
	widgetData(ctx: TenantScope, w: Widget): Promise<unknown>;
}

const id = idParam;
const widgets = { type: "array", min: 1, max: 24, items: widgetRule } as const;

const DashboardsService: ServiceSchema<DbSettings & { rest: string }, Methods> = {
	name: "analyticsdashboards",
	mixins: [TenantDbMixin({ collection: "analytics_dashboards" })],
	settings: { rest: "/analytics/dashboards", fields: ["id", "name", "widgets", "createdBy", "createdAt", "updatedAt"] },
	actions: {
		listDashboards: {
			rest: "GET /",
			roles: ["member"],
			params: { ...pageParams, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number }>) {
				return this._list(ctx, { page: ctx.params.page, pageSize: ctx.params.pageSize, sort: "name" });
			},
		},
		getDashboard: {
			rest: "GET /:id",
			roles: ["member"],
			params: { id, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},
		dashboardData: {
			rest: "GET /:id/data",
			roles: ["member"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const d = (await this._get(ctx, { id: ctx.params.id })) as Dashboard;
				return {
					id: d.id,
					name: d.name,
					widgets: await Promise.all(d.widgets.map(async w => ({ ...w, data: await this.widgetData(ctx, w) }))),
				};
			},
		},
		createDashboard: {
			rest: "POST /",
			roles: ["admin"],
			params: { name: { type: "string", min: 1, max: 200, trim: true }, widgets },
			async handler(ctx: Ctx<{ name: string; widgets: Widget[] }>) {
				this.checkWidgets(ctx.params.widgets);
				const dashboard = await this._create<Dashboard>(ctx, {
					name: ctx.params.name,
					widgets: ctx.params.widgets,
					createdBy: currentTenantUser(ctx).id,
				});
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/analytics/dashboards/${dashboard.id}`;
				return dashboard;
			},
		},
		updateDashboard: {
			rest: "PATCH /:id",
			roles: ["admin"],
			params: {
				id,
				name: { type: "string", min: 1, max: 200, trim: true, optional: true },
				widgets: { ...widgets, optional: true },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ id: string; name?: string; widgets?: Widget[] }>) {
				const { id, name, widgets } = ctx.params;
				if (widgets) this.checkWidgets(widgets);
				return this._update(ctx, { id, ...(name !== undefined && { name }), ...(widgets !== undefined && { widgets }) });
			},
		},
		deleteDashboard: removeByIdAction({ roles: ["admin"] }),
	},
	methods: {
		checkWidgets(list: Widget[]) {
			const errors = widgetErrors(list);
			if (errors.length) throw new InvalidInputError("Some widgets are not valid.", errors);
		},
		async widgetData(ctx: TenantScope, w: Widget) {
			const day = 86_400_000;
			const to = new Date(Math.ceil(Date.now() / day) * day);
			const from = new Date(to.getTime() - w.query.rangeDays * day);
			const query = (name: string, extra: Record<string, unknown> = {}) =>
				this.broker.call(
					"analyticsmetrics.query",
					{ name, from, to, bucket: w.query.bucket, ...(w.query.sum && { sum: w.query.sum }), ...extra },
					{ meta: ctx.meta },
				) as Promise<SeriesAnswer>;
			const total = (a: SeriesAnswer) => (a.points ?? []).reduce((n, p) => n + p.count, 0);
			switch (w.type) {
				case "series":
					return query(w.query.name!, w.query.by ? { by: w.query.by } : {});
				case "counter":
					return { total: total(await query(w.query.name!, { bucket: "day" })) };
				case "funnel":
					return {
						steps: await Promise.all(w.query.steps!.map(async name => ({ name, count: total(await query(name, { bucket: "day" })) }))),
					};
				case "table":
					return {
						rows: ((await query(w.query.name!, { bucket: "day", by: w.query.by })).groups ?? []).map(g => ({
							value: g.value,
							total: g.total,
						})),
					};
			}
		},
	},
};

export default DashboardsService;
