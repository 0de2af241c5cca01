/**
 * The hour and day buckets of analytics events, per tenant (README, "Jobs, schedules and analytics" →
 * "Analytics"): maintained incrementally as events arrive (`record`, called by `analytics`), and the
 * time-series query `GET /api/analytics/series`, answered from these buckets only — never by scanning
 * raw events. An increment is a compare-and-set on the bucket's count, so concurrent batches on several
 * nodes add up exactly; a bucket is created once (a unique key per tenant).
 */
import type { Ctx } from "../../lib/context";
import { ConflictError } from "../../lib/errors";
import { KeyedMutex } from "../../lib/keyed-mutex";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { tenantOf, TenantDbMixin, type Row, type TenantDbMethods, type TenantScope } from "../../mixins/tenant.mixin";
import { EVENT_NAME, type BucketDelta, type Granularity } from "./analytics/events";
import { bucketStarts, toPoints, type BucketRow, type Point } from "./analytics/series";

export interface SeriesQuery {
	name: string;
	from: Date;
	to: Date;
	bucket: Granularity;
	by?: string;
	sum?: string;
	top: number;
}

export interface SeriesAnswer {
	name: string;
	bucket: Granularity;
	from: string;
	to: string;
	by: string | null;
	sum: string | null;
	/** the series without a dimension */
	points?: Point[];
	/** with `by`: one series per value, the largest totals first */
	groups?: { value: string; total: number; points: Point[] }[];
}

type BucketStored = Row & BucketDelta;

interface Methods extends TenantDbMethods {
	increment(ctx: TenantScope, delta: BucketDelta): Promise<void>;
	seriesOf(ctx: TenantScope, q: SeriesQuery): Promise<SeriesAnswer>;
}

interface Vars {
	mutex: KeyedMutex;
}

const name = { type: "string", min: 1, max: 64, pattern: EVENT_NAME } as const;
const prop = { type: "string", min: 1, max: 64, pattern: /^[A-Za-z_][\w.-]*$/ } as const;
export const seriesParams = {
	name,
	from: { type: "date", convert: true },
	to: { type: "date", convert: true },
	bucket: { type: "enum", values: ["hour", "day"], default: "day" },
	by: { ...prop, optional: true },
	sum: { ...prop, optional: true },
	top: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
} as const;

const AnalyticsMetricsService: ServiceSchema<DbSettings & { rest: string }, Methods, Vars> = {
	name: "analyticsmetrics",
	mixins: [TenantDbMixin({ collection: "analytics_buckets", indexes: [{ fields: ["tenantId", "key"], unique: true }, { fields: ["key"] }] })],
	settings: {
		rest: "/analytics",
		fields: ["id", "name", "granularity", "start", "dim", "value", "count", "sums"],
	},
	actions: {
		series: {
			rest: "GET /series",
			roles: ["member"],
			params: { ...seriesParams, $$strict: "remove" },
			handler(ctx: Ctx<SeriesQuery>) {
				return this.seriesOf(ctx, ctx.params);
			},
		},
		/** For `analytics`: adds a batch's increments to the caller's tenant's buckets. */
		record: {
			visibility: "public",
			params: { deltas: { type: "array", max: 100_000, items: { type: "object" } } },
			async handler(ctx: Ctx<{ deltas: BucketDelta[] }>) {
				const tenantId = tenantOf(ctx);
				// one tenant's increments in turn on this node: compare-and-set then rarely has to retry
				await this.mutex.run(tenantId, async () => {
					for (const d of ctx.params.deltas) await this.increment(ctx, d);
				});
				return { buckets: ctx.params.deltas.length };
			},
		},
		/** For dashboards, reports and insights: the same query as `series`, for the caller's tenant. */
		query: {
			visibility: "public",
			params: seriesParams,
			handler(ctx: Ctx<SeriesQuery>) {
				return this.seriesOf(ctx, ctx.params);
			},
		},
	},
	methods: {
		async increment(ctx: TenantScope, d: BucketDelta) {
			for (let attempt = 0; attempt < 20; attempt++) {
				const row = await this.scopedFindOne<BucketStored>(ctx, { key: d.key });
				if (!row) {
					try {
						await this._create(ctx, {
							key: d.key,
							name: d.name,
							granularity: d.granularity,
							start: d.start,
							dim: d.dim,
							value: d.value,
							count: d.count,
							sums: d.sums,
						});
						return;
					} catch (err) {
						// created meanwhile: add to it (the store's duplicate-key answer is a 409 that is not yet a ConflictError)
						if (err instanceof ConflictError || (err as { code?: number }).code === 409) continue;
						throw err;
					}
				}
				const sums: Record<string, number> = { ...row.sums };
				for (const [k, n] of Object.entries(d.sums)) sums[k] = (sums[k] ?? 0) + n;
				if ((await this.scopedUpdateWhere(ctx, { id: row._id, count: row.count }, { count: row.count + d.count, sums })) === 1) return;
			}
			throw new ConflictError("The bucket changed too often to be updated.", "BUCKET_CONTENDED");
		},
		async seriesOf(ctx: TenantScope, q: SeriesQuery): Promise<SeriesAnswer> {
			const starts = bucketStarts(q.from, q.to, q.bucket);
			const range = { $gte: starts[0], $lte: starts[starts.length - 1] };
			const rows = (await this.scopedScan(ctx, { name: q.name, granularity: q.bucket, dim: q.by ?? "", start: range }, [
				"start",
				"value",
				"count",
				"sums",
			])) as readonly BucketRow[];
			const base = {
				name: q.name,
				bucket: q.bucket,
				from: starts[0],
				to: new Date(Date.parse(starts[starts.length - 1]) + (q.bucket === "hour" ? 3600_000 : 86_400_000)).toISOString(),
				by: q.by ?? null,
				sum: q.sum ?? null,
			};
			if (!q.by) return { ...base, points: toPoints(starts, rows, q.sum) };
			const byValue = new Map<string, BucketRow[]>();
			for (const r of rows) byValue.set(r.value, [...(byValue.get(r.value) ?? []), r]);
			const groups = [...byValue].map(([value, rs]) => ({
				value,
				total: rs.reduce((n, r) => n + r.count, 0),
				points: toPoints(starts, rs, q.sum),
			}));
			groups.sort((a, b) => b.total - a.total || a.value.localeCompare(b.value));
			return { ...base, groups: groups.slice(0, q.top) };
		},
	},
	created() {
		this.mutex = new KeyedMutex();
	},
};

export default AnalyticsMetricsService;
