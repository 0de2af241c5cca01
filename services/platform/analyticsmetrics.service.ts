/**
 * The hour and day buckets of analytics events, per tenant (README, "Jobs, schedules and analytics" →
 * "Analytics"): maintained incrementally as events arrive (`record`, called by `analytics`), and the
 * time-series query `GET /api/analytics/series`, answered from these buckets only — never by scanning
 * raw events. An increment is a compare-and-set on the bucket's count, so concurrent batches on several
 * nodes add up exactly; a bucket is created once (a unique key per tenant).
 *
 * Buckets are derived data: `rebuild` (`POST /api/analytics/rebuild`, admins, and the job
 * `analytics.rebuild`) recomputes a tenant's hour and day buckets of whole UTC days from the raw events,
 * so an increment lost to a crash between the raw insert and the bucket update is put right. Each day
 * with events gets a rebuild job the night after (`analytics` enqueues it on ingest).
 */
import { asSystem, type Ctx } from "../../lib/context";
import { config } from "../../lib/config";
import { ConflictError, InvalidInputError, PermanentJobError } from "../../lib/errors";
import { KeyedMutex } from "../../lib/keyed-mutex";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { tenantOf, TenantDbMixin, type Row, type TenantDbMethods, type TenantScope } from "../../mixins/tenant.mixin";
import { bucketDeltas, EVENT_NAME, type BucketDelta, type Granularity, type RawEvent } from "./analytics/events";
import { bucketStarts, toPoints, type BucketRow, type Point } from "./analytics/series";
import { JobHandlersMixin } from "./jobs/handlers";

/** The job that rebuilds a tenant's buckets of a range of days (payload `{ from, to }`, ISO). */
export const REBUILD_JOB = "analytics.rebuild";
/** The longest range one rebuild reads (its raw events are read at once). */
export const MAX_REBUILD_DAYS = 31;
const DAY = 86_400_000;

export interface RebuildAnswer {
	from: string;
	to: string;
	/** raw events read */
	events: number;
	/** buckets those events fill */
	buckets: number;
	/** buckets whose count or sums were wrong (or missing), now right */
	corrected: number;
	/** buckets with no raw event left (removed) */
	removed: number;
}

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
	rebuildDays(ctx: TenantScope, from: Date, to: Date): Promise<RebuildAnswer>;
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
	mixins: [
		TenantDbMixin({ collection: "analytics_buckets", indexes: [{ fields: ["tenantId", "key"], unique: true }, { fields: ["key"] }] }),
		JobHandlersMixin<Pick<Methods, "rebuildDays">>({
			[REBUILD_JOB]: {
				concurrency: 1,
				async handler(job) {
					if (!job.tenantId) throw new PermanentJobError("A rebuild is for one tenant: enqueue it with its tenantId.");
					const { from, to } = job.payload as { from?: string; to?: string };
					return this.rebuildDays(asSystem(job.tenantId), new Date(String(from)), new Date(String(to)));
				},
			},
		}),
	],
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
		rebuild: {
			rest: "POST /rebuild",
			roles: ["admin"],
			params: { from: { type: "date", convert: true }, to: { type: "date", convert: true }, $$strict: "remove" },
			handler(ctx: Ctx<{ from: Date; to: Date }>) {
				return this.rebuildDays(ctx, ctx.params.from, ctx.params.to);
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
		/**
		 * The caller's tenant's buckets of the UTC days covering [from, to), recomputed from the raw events:
		 * a bucket that is wrong is set to the raw count and sums, a missing one created, one with no raw
		 * event left removed. Within the raw retention only (older raw events are gone: 422).
		 */
		async rebuildDays(ctx: TenantScope, fromDate: Date, toDate: Date): Promise<RebuildAnswer> {
			const tenantId = tenantOf(ctx);
			if (!Number.isFinite(fromDate.getTime()) || !Number.isFinite(toDate.getTime()))
				throw new InvalidInputError("The range is not valid.", [{ field: "from", message: "from and to must be dates" }]);
			const from = Math.floor(fromDate.getTime() / DAY) * DAY;
			const to = Math.ceil(toDate.getTime() / DAY) * DAY;
			const retention = config().ANALYTICS_RAW_RETENTION_DAYS;
			if (to <= from) throw new InvalidInputError("The range is empty.", [{ field: "to", message: "must be after from" }]);
			if (to - from > MAX_REBUILD_DAYS * DAY)
				throw new InvalidInputError("The range is too long.", [{ field: "to", message: `at most ${MAX_REBUILD_DAYS} days` }]);
			if (from < Math.floor((Date.now() - retention * DAY) / DAY) * DAY)
				throw new InvalidInputError("The range starts before the raw events kept.", [
					{ field: "from", message: `raw events are kept ${retention} days: a rebuild starts within them` },
				]);
			const range = { $gte: new Date(from).toISOString(), $lt: new Date(to).toISOString() };
			// one tenant's increments and rebuilds in turn on this node
			return this.mutex.run(tenantId, async () => {
				const raw = (await this.broker.call(
					"analytics.rawEvents",
					{ from: new Date(from).toISOString(), to: new Date(to).toISOString() },
					{ meta: ctx.meta },
				)) as RawEvent[];
				const want = new Map(bucketDeltas(raw).map(d => [d.key, d]));
				// copied out: scanned rows are the store's own (read-only)
				const have = new Map(
					(await this.scopedScan<BucketStored>(ctx, { start: range }, ["key", "count", "sums"])).map(r => [
						r.key,
						{ count: r.count, sums: { ...r.sums } },
					]),
				);
				let corrected = 0;
				let removed = 0;
				for (const d of want.values()) {
					const h = have.get(d.key);
					if (h && h.count === d.count && sameSums(h.sums, d.sums)) continue;
					corrected++;
					if (!h) await this.increment(ctx, d);
					else await this.scopedUpdateWhere(ctx, { key: d.key }, { count: d.count, sums: d.sums });
				}
				for (const key of have.keys())
					if (!want.has(key)) {
						removed++;
						await this.scopedRemoveWhere(ctx, { key });
					}
				if (corrected || removed)
					this.logger.info("analytics buckets rebuilt", { tenantId, from: range.$gte, to: range.$lt, corrected, removed });
				return { from: range.$gte, to: range.$lt, events: raw.length, buckets: want.size, corrected, removed };
			});
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

function sameSums(a: Record<string, number>, b: Record<string, number>): boolean {
	const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
	return [...keys].every(k => (a[k] ?? 0) === (b[k] ?? 0));
}

export default AnalyticsMetricsService;
