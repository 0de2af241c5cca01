/**
 * Moleculer's histogram metric, with its buckets counted in a typed array.
 *
 * Moleculer keeps a histogram's buckets cumulative, in an object keyed by each bound (`"0.005"`,
 * `"2.5"`, …), and an observation adds 1 to every bound at or above the value: a dozen property writes
 * under string keys made from floats, per histogram per call (the request time of every action, the
 * cacher's get time). Here an observation adds 1 to one slot of a `Float64Array`, and `bucketValues`
 * is the same cumulative object as before, built when something reads it (a scrape), so reporters and
 * snapshots see exactly what they saw. Registered as the "histogram" type (`useFastHistograms`) before
 * any broker registers its metrics; `test/unit/fast-histogram.test.ts` compares it with Moleculer's.
 */
import path from "node:path";
import { MetricTypes } from "moleculer";

type Labels = Record<string, unknown>;
interface Rate {
	update(v: number): void;
}
export interface FastHistogramItem {
	labels: Labels;
	timestamp: number;
	sum: number;
	count: number;
	lastValue: number | null;
	/** observations per bucket, not cumulative: slot i counts values in (bound[i-1], bound[i]] */
	counts?: Float64Array;
	readonly bucketValues?: Record<number, number>;
	quantileValues?: { add(v: number): void };
	rate?: Rate;
}

// Moleculer's typings declare the metric types' public surface only; these are the members used here.
interface HistogramBase {
	buckets?: number[];
	quantiles?: number[];
	rate?: boolean;
	labelNames: string[];
	values: Map<string, FastHistogramItem>;
	hashingLabels(labels: Labels): string;
	changed(value: unknown, labels?: Labels, timestamp?: number): void;
	resetItem(item: object, timestamp: number | null): FastHistogramItem;
}
const Histogram = MetricTypes.Histogram as unknown as new (opts: object, registry: object) => HistogramBase;
// Moleculer's rate tracker: not exported (its package `exports` names only the entry), so by file path
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MetricRate = require(path.join(path.dirname(require.resolve("moleculer")), "src/metrics/rates")) as new (
	metric: object,
	item: object,
	seconds: number,
) => Rate;

/** The cumulative bucket object Moleculer's reporters read, from the per-bucket counts. */
function cumulative(bounds: number[], counts: Float64Array): Record<number, number> {
	const out: Record<number, number> = {};
	let running = 0;
	for (let i = 0; i < bounds.length; i++) out[bounds[i]] = running += counts[i];
	return out;
}

export class FastHistogramMetric extends Histogram {
	/** Moleculer's `observe`: the same item, sum, count, last value, quantiles, rate and change event. */
	observe(value: number, labels: Labels, timestamp?: number): FastHistogramItem {
		const hash = this.hashingLabels(labels);
		let item = this.values.get(hash);
		if (!item) {
			const picked: Labels = {};
			for (const name of this.labelNames) if (labels && name in labels) picked[name] = labels[name];
			item = this.resetItem({ labels: picked }, null);
			if (this.rate) item.rate = new MetricRate(this, item, 1);
			this.values.set(hash, item);
		}
		this.record(item, value, timestamp ?? Date.now());
		this.changed(value, labels, timestamp);
		return item;
	}

	/** An observation into an item already found (the Metrics middleware keeps its items' hashes). */
	record(item: FastHistogramItem, value: number, now: number): void {
		item.timestamp = now;
		item.sum += value;
		item.count++;
		item.lastValue = value;
		const bounds = this.buckets;
		if (item.counts && bounds) {
			let i = 0;
			while (i < bounds.length && value > bounds[i]) i++;
			if (i < bounds.length) item.counts[i]++;
		}
		if (item.quantileValues) item.quantileValues.add(value);
		if (item.rate) item.rate.update(item.count);
	}

	override resetItem(item: object, timestamp: number | null): FastHistogramItem {
		const it = super.resetItem(item, timestamp) as FastHistogramItem & { bucketValues?: unknown };
		const bounds = this.buckets;
		if (!bounds) return it;
		const counts = new Float64Array(bounds.length);
		let built: Record<number, number> | undefined;
		let builtAt = -1;
		Object.defineProperty(it, "counts", { value: counts, configurable: true, writable: true, enumerable: false });
		// built again only when an observation came since (a scrape reads it once per bound)
		Object.defineProperty(it, "bucketValues", {
			configurable: true,
			enumerable: true,
			get: () => {
				if (builtAt !== it.count || !built) {
					built = cumulative(bounds, counts);
					builtAt = it.count;
				}
				return built;
			},
			// Moleculer's resetItem assigns a fresh object on a reset: the counts start again
			set: () => {
				counts.fill(0);
				builtAt = -1;
			},
		});
		return it;
	}
}

let installed = false;
/** Makes "histogram" metrics of every broker created from now on FastHistogramMetric. */
export function useFastHistograms(): void {
	if (installed) return;
	// its typings take a metric instance where it stores the class it will construct
	MetricTypes.register("Histogram", FastHistogramMetric as unknown as Parameters<typeof MetricTypes.register>[1]);
	installed = true;
}
