/**
 * Insights of a tenant's analytics (README, "Jobs, schedules and analytics" → "Insights"):
 * - `POST /api/analytics/insights/clusters`: users grouped by behaviour — one feature per chosen event
 *   (how many times, or the sum of a numeric property), z-scored, k-means (ml-kmeans, k-means++,
 *   fixed seed); k given, or the k of 2..maxK with the best mean silhouette;
 * - `GET /api/analytics/insights/forecast`: the next buckets of a series, by a linear trend or Holt's
 *   method, from the buckets.
 * Each answer states its method and inputs. The data stay the caller's tenant's (analytics' and
 * analyticsmetrics' own scoping); this service stores nothing.
 */
import type { Ctx } from "../../lib/context";
import { InvalidInputError } from "../../lib/errors";
import type { ServiceSchema } from "../../lib/schema";
import type { SeriesAnswer } from "./analyticsmetrics.service";
import { EVENT_NAME, type RawEvent } from "./analytics/events";
import { cluster, holtForecast, KMEANS_SEED, linearForecast, zScores } from "./analytics/insights";

const name = { type: "string", min: 1, max: 64, pattern: EVENT_NAME } as const;
const prop = { type: "string", min: 1, max: 64, pattern: /^[A-Za-z_][\w.-]*$/ } as const;
/** Users clustered at most (the most active first beyond it). */
const MAX_USERS = 10_000;

interface Feature {
	name: string;
	sum?: string;
}

interface ClusterParams {
	features: Feature[];
	from: Date;
	to: Date;
	k?: number;
	maxK: number;
}

interface ForecastParams {
	name: string;
	from: Date;
	to: Date;
	bucket: "hour" | "day";
	horizon: number;
	method: "linear" | "holt";
	alpha: number;
	beta: number;
}

const InsightsService: ServiceSchema<{ rest: string }> = {
	name: "analyticsinsights",
	settings: { rest: "/analytics/insights" },
	actions: {
		clusters: {
			rest: "POST /clusters",
			roles: ["admin"],
			timeout: 30_000,
			params: {
				features: {
					type: "array",
					min: 1,
					max: 10,
					items: { type: "object", strict: "remove", props: { name, sum: { ...prop, optional: true } } },
				},
				from: { type: "date", convert: true },
				to: { type: "date", convert: true },
				k: { type: "number", integer: true, min: 2, max: 20, optional: true },
				maxK: { type: "number", integer: true, min: 2, max: 20, default: 8 },
			},
			async handler(ctx: Ctx<ClusterParams>) {
				const { features, from, to, k, maxK } = ctx.params;
				if (to <= from) throw new InvalidInputError("The range is empty.", [{ field: "to", message: "must be after from" }]);
				const vectors = new Map<string, number[]>();
				for (const [j, f] of features.entries()) {
					const events = (await ctx.call("analytics.rawEvents", { from, to, name: f.name }, { meta: ctx.meta })) as RawEvent[];
					for (const e of events) {
						if (!e.userId) continue;
						let v = vectors.get(e.userId);
						if (!v) vectors.set(e.userId, (v = features.map(() => 0)));
						v[j] += f.sum ? Number(e.properties[f.sum]) || 0 : 1;
					}
				}
				const users = [...vectors].sort((a, b) => b[1].reduce((x, y) => x + y, 0) - a[1].reduce((x, y) => x + y, 0)).slice(0, MAX_USERS);
				const wanted = k ?? 2;
				if (users.length <= wanted)
					throw new InvalidInputError("Too few users for clusters.", [
						{ field: k ? "k" : "features", message: `${users.length} users with these events: need more than ${wanted}` },
					]);
				const raw = users.map(([, v]) => v);
				const result = cluster(zScores(raw), k, maxK);
				const clusters = Array.from({ length: result.k }, (_, c) => {
					const members = users.filter((_, i) => result.labels[i] === c);
					const centroid = Object.fromEntries(
						features.map((f, j) => [
							f.sum ? `${f.name}.sum(${f.sum})` : `${f.name}.count`,
							members.reduce((n, [, v]) => n + v[j], 0) / (members.length || 1),
						]),
					);
					return { cluster: c, size: members.length, centroid, users: members.slice(0, 50).map(([id]) => id) };
				});
				return {
					method: `k-means (ml-kmeans, k-means++ initialisation, seed ${KMEANS_SEED}) on z-scored features; ${k ? "k given by the caller" : `k chosen in 2..${maxK} by the best mean silhouette`}`,
					inputs: {
						features,
						from: from.toISOString(),
						to: to.toISOString(),
						users: users.length,
						source: "raw events (one feature per event name: count, or sum of a property)",
					},
					k: result.k,
					silhouette: result.silhouettes,
					clusters: clusters.sort((a, b) => b.size - a.size),
				};
			},
		},
		forecast: {
			rest: "GET /forecast",
			roles: ["member"],
			params: {
				name,
				from: { type: "date", convert: true },
				to: { type: "date", convert: true },
				bucket: { type: "enum", values: ["hour", "day"], default: "day" },
				horizon: { type: "number", integer: true, min: 1, max: 90, default: 7, convert: true },
				method: { type: "enum", values: ["linear", "holt"], default: "linear" },
				alpha: { type: "number", min: 0.01, max: 1, default: 0.5, convert: true },
				beta: { type: "number", min: 0.01, max: 1, default: 0.3, convert: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<ForecastParams>) {
				const { name, from, to, bucket, horizon, method, alpha, beta } = ctx.params;
				const series = (await ctx.call("analyticsmetrics.query", { name, from, to, bucket, top: 1 }, { meta: ctx.meta })) as SeriesAnswer;
				const points = series.points ?? [];
				const ys = points.map(p => p.count);
				const f = method === "holt" ? holtForecast(ys, horizon, alpha, beta) : linearForecast(ys, horizon);
				const size = bucket === "hour" ? 3600_000 : 86_400_000;
				const last = Date.parse(points[points.length - 1].start);
				return {
					method: f.method,
					inputs: { name, bucket, from: series.from, to: series.to, points: ys.length, source: "hour and day buckets" },
					parameters: f.parameters,
					fit: f.fitted,
					history: points,
					forecast: f.values.map((value, h) => ({
						start: new Date(last + (h + 1) * size).toISOString(),
						value: Math.round(value * 100) / 100,
					})),
				};
			},
		},
	},
};

export default InsightsService;
