/**
 * Reports (README, "Jobs, schedules and analytics" → "Analytics"): a definition (a series query over a
 * range) run as an `analytics.report` job with progress, producing a CSV (csv-stringify) kept
 * ANALYTICS_REPORT_RETENTION_S and downloaded from `GET /api/analytics/reports/:id/csv`. The CSV is
 * stored in the report's row, so any node answers the download (at most MAX_ROWS rows).
 */
import { stringify } from "csv-stringify/sync";
import { asSystem, currentTenantUser, type Ctx } from "../../lib/context";
import { config } from "../../lib/config";
import { ConflictError, PermanentJobError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { idParam } from "../../lib/validation";
import { removeByIdAction, TenantDbMixin, tenantOf, type Row, type TenantDbMethods, type TenantScope } from "../../mixins/tenant.mixin";
import type { SeriesAnswer, SeriesQuery } from "./analyticsmetrics.service";
import { seriesParams } from "./analyticsmetrics.service";
import { JobHandlersMixin } from "./jobs/handlers";
import type { JobContext, JobRecord } from "./jobs/types";

export const REPORT_JOB = "analytics.report";
const MAX_ROWS = 100_000;

type ReportQuery = Omit<SeriesQuery, "from" | "to" | "top"> & { from: string; to: string; top: number };

interface ReportRow extends Row {
	name: string;
	query: ReportQuery;
	status: "queued" | "running" | "ready" | "failed";
	jobId: string | null;
	rows: number | null;
	csv: string | null;
	error: string | null;
	expiresAt: string;
}

interface Methods extends TenantDbMethods {
	runReport(job: JobContext): Promise<unknown>;
	purgeExpired(ctx: TenantScope): Promise<void>;
}

const id = idParam;

const ReportsService: ServiceSchema<DbSettings & { rest: string }, Methods> = {
	name: "analyticsreports",
	mixins: [
		TenantDbMixin({ collection: "analytics_reports" }),
		JobHandlersMixin<{ runReport(job: JobContext): Promise<unknown> }>({
			[REPORT_JOB]: {
				concurrency: 1,
				handler(job) {
					return this.runReport(job);
				},
			},
		}),
	],
	settings: {
		rest: "/analytics/reports",
		fields: ["id", "name", "query", "status", "jobId", "rows", "error", "expiresAt", "createdBy", "createdAt", "updatedAt"],
	},
	actions: {
		listReports: {
			rest: "GET /",
			roles: ["member"],
			params: { ...pageParams, $$strict: "remove" },
			async handler(ctx: Ctx<{ page: number; pageSize: number }>) {
				await this.purgeExpired(ctx);
				return this._list(ctx, { page: ctx.params.page, pageSize: ctx.params.pageSize, sort: "-createdAt" });
			},
		},
		getReport: {
			rest: "GET /:id",
			roles: ["member"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				const report = await this._get<ReportRow>(ctx, { id: ctx.params.id });
				const job = report.jobId ? ((await ctx.call("jobs.find", { id: report.jobId })) as JobRecord | null) : null;
				return { ...report, progress: job?.progress ?? null };
			},
		},
		downloadReport: {
			rest: "GET /:id/csv",
			roles: ["member"],
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				await this.assertInTenant(ctx, ctx.params.id);
				const row = (await this.scopedFindById<ReportRow>(ctx, ctx.params.id))!;
				if (row.status !== "ready" || row.csv === null)
					throw new ConflictError("The report is not ready.", "REPORT_NOT_READY", { status: row.status });
				ctx.meta.$responseType = "text/csv; charset=utf-8";
				ctx.meta.$responseHeaders = { "Content-Disposition": `attachment; filename="report-${row._id}.csv"` };
				return row.csv;
			},
		},
		createReport: {
			rest: "POST /",
			roles: ["member"],
			params: { name: { type: "string", min: 1, max: 200, trim: true }, query: { type: "object", strict: "remove", props: seriesParams } },
			async handler(ctx: Ctx<{ name: string; query: SeriesQuery }>) {
				const user = currentTenantUser(ctx);
				const q = ctx.params.query;
				const query: ReportQuery = { ...q, from: q.from.toISOString(), to: q.to.toISOString() };
				// the range is checked now, not in the job
				await ctx.call("analyticsmetrics.query", { ...query, top: 1 }, { meta: ctx.meta });
				const expiresAt = new Date(Date.now() + config().ANALYTICS_REPORT_RETENTION_S * 1000).toISOString();
				const report = await this._create<{ id: string }>(ctx, {
					name: ctx.params.name,
					query,
					status: "queued",
					jobId: null,
					rows: null,
					csv: null,
					error: null,
					expiresAt,
					createdBy: user.id,
				});
				const job = (await ctx.call("jobs.add", {
					type: REPORT_JOB,
					tenantId: user.tenantId,
					payload: { reportId: report.id },
					idempotencyKey: `report-${report.id}`,
				})) as JobRecord;
				await this.scopedUpdateWhere(ctx, { id: report.id }, { jobId: job.id });
				ctx.meta.$statusCode = 202;
				return this._get(ctx, { id: report.id });
			},
		},
		deleteReport: removeByIdAction({ roles: ["member"] }),
	},
	methods: {
		async runReport(job: JobContext) {
			if (!job.tenantId) throw new PermanentJobError("A report job needs a tenant.");
			const scope = asSystem(job.tenantId);
			const reportId = String(job.payload.reportId);
			const row = await this.scopedFindById<ReportRow>(scope, reportId);
			if (!row) throw new PermanentJobError(`Report ${reportId} no longer exists.`);
			await this.scopedUpdateWhere(scope, { id: reportId }, { status: "running" });
			await job.progress(10, "querying the buckets");
			try {
				const a = (await this.broker.call("analyticsmetrics.query", row.query, scope)) as SeriesAnswer;
				job.signal.throwIfAborted();
				await job.progress(60, "writing the CSV");
				const header = ["start", ...(a.by ? [a.by] : []), "count", ...(a.sum ? [`sum_${a.sum}`] : [])];
				const lines: unknown[][] = [];
				const add = (value: string | null, points: SeriesAnswer["points"]) => {
					for (const p of points ?? []) lines.push([p.start, ...(value === null ? [] : [value]), p.count, ...(a.sum ? [p.sum ?? 0] : [])]);
				};
				if (a.groups) for (const g of a.groups) add(g.value, g.points);
				else add(null, a.points);
				if (lines.length > MAX_ROWS) throw new PermanentJobError(`The report has more than ${MAX_ROWS} rows.`);
				const csv = stringify(lines, { header: true, columns: header });
				await this.scopedUpdateWhere(scope, { id: reportId }, { status: "ready", csv, rows: lines.length, error: null });
				await job.progress(100, "ready");
				await job.log(`${lines.length} rows`);
				return { reportId, rows: lines.length };
			} catch (err) {
				await this.scopedUpdateWhere(scope, { id: reportId }, { status: "failed", error: (err as Error).message });
				throw err;
			}
		},
		async purgeExpired(ctx: TenantScope) {
			tenantOf(ctx);
			await this.scopedRemoveWhere(ctx, { expiresAt: { $lt: new Date().toISOString() } });
		},
	},
};

export default ReportsService;
