/**
 * The numerical part of insights: behavioural clusters (k-means from ml-kmeans, k given or chosen by
 * the mean silhouette from simple-statistics) and forecasts of a series (a least-squares line from
 * simple-statistics, or Holt's linear exponential smoothing).
 */
import { linearRegression, linearRegressionLine, mean, rSquared, silhouette, standardDeviation } from "simple-statistics";
// the package exports its types for node16 resolution only; this project resolves as node10
import type { kmeans as KMeans } from "ml-kmeans/lib/index";

// ml-kmeans is an ES module only: Node's own require loads it (require of ESM, Node ≥ 20.19); Jest's
// module registry, which cannot, is bypassed by asking Node for its require.
const nodeModule = process.getBuiltinModule("node:module");
const { kmeans } = nodeModule.createRequire(__filename)("ml-kmeans") as { kmeans: typeof KMeans };

export const KMEANS_SEED = 42;

/** Columns scaled to mean 0 and standard deviation 1 (a constant column becomes 0), so no feature dominates by its unit. */
export function zScores(rows: number[][]): number[][] {
	if (!rows.length) return rows;
	const cols = rows[0].map((_, j) => rows.map(r => r[j]));
	const stats = cols.map(c => ({ m: mean(c), s: c.length > 1 ? standardDeviation(c) : 0 }));
	return rows.map(r => r.map((v, j) => (stats[j].s > 0 ? (v - stats[j].m) / stats[j].s : 0)));
}

export interface Clustering {
	k: number;
	labels: number[];
	/** mean silhouette of each k tried (k chosen by silhouette), or of the k given */
	silhouettes: Record<number, number>;
}

function meanSilhouette(points: number[][], labels: number[]): number {
	return new Set(labels).size < 2 ? -1 : mean(silhouette(points, labels));
}

export function cluster(points: number[][], k: number | undefined, maxK: number): Clustering {
	const run = (n: number) => kmeans(points, n, { seed: KMEANS_SEED, initialization: "kmeans++" }).clusters;
	if (k) {
		const labels = run(k);
		return { k, labels, silhouettes: { [k]: meanSilhouette(points, labels) } };
	}
	let best: Clustering | undefined;
	const silhouettes: Record<number, number> = {};
	for (let n = 2; n <= Math.min(maxK, points.length - 1); n++) {
		const labels = run(n);
		silhouettes[n] = meanSilhouette(points, labels);
		if (!best || silhouettes[n] > silhouettes[best.k]) best = { k: n, labels, silhouettes };
	}
	return best ?? { k: 1, labels: points.map(() => 0), silhouettes };
}

export interface Forecast {
	method: string;
	parameters: Record<string, number>;
	fitted: { rSquared?: number; sse?: number };
	values: number[];
}

export function linearForecast(ys: number[], horizon: number): Forecast {
	const pairs = ys.map((y, i) => [i, y]);
	const model = linearRegression(pairs);
	const line = linearRegressionLine(model);
	return {
		method: "linear trend: least-squares line over the bucket index (simple-statistics linearRegression)",
		parameters: { slope: model.m, intercept: model.b },
		fitted: { rSquared: ys.length > 1 ? rSquared(pairs, line) : 1 },
		values: Array.from({ length: horizon }, (_, h) => Math.max(0, line(ys.length + h))),
	};
}

/** Holt's linear method: level and trend smoothed with alpha and beta; the forecast h steps ahead is level + h × trend. */
export function holtForecast(ys: number[], horizon: number, alpha: number, beta: number): Forecast {
	let level = ys[0];
	let trend = ys.length > 1 ? ys[1] - ys[0] : 0;
	let sse = 0;
	for (let t = 1; t < ys.length; t++) {
		const predicted = level + trend;
		sse += (ys[t] - predicted) ** 2;
		const previous = level;
		level = alpha * ys[t] + (1 - alpha) * (level + trend);
		trend = beta * (level - previous) + (1 - beta) * trend;
	}
	return {
		method: "Holt's linear exponential smoothing (level and trend)",
		parameters: { alpha, beta, level, trend },
		fitted: { sse },
		values: Array.from({ length: horizon }, (_, h) => Math.max(0, level + (h + 1) * trend)),
	};
}
