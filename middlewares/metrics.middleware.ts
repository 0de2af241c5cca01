/**
 * Moleculer's Metrics middleware with the same metrics, cheaper per call (README, "Metrics"):
 *
 * - the same metric names, types and labels as Moleculer's own, so dashboards and alerts keep working;
 * - request, event and cacher times are histograms with buckets and no quantiles. Moleculer computes
 *   its quantiles from every sample of the last minute, kept in arrays and sorted on each scrape: under
 *   load that is hundreds of thousands of numbers held per node and a 100–200 ms stop of the event
 *   loop at every `/metrics` (measured: bench/README.md). Prometheus computes quantiles from the
 *   buckets (`histogram_quantile`); lib/metrics.ts adds the `_sum` and `_count` lines Moleculer's
 *   reporter only writes for histograms with quantiles;
 * - an action's label sets are hashed once per caller instead of twice per metric per call;
 * - every histogram counts its buckets in a typed array (lib/fast-histogram.ts).
 *
 * Everything else (events emitted, transit and transporter counters, errors) is Moleculer's own code.
 */
import * as Moleculer from "moleculer";
import { METRIC, type ActionSchema, type Context, type ServiceBroker } from "moleculer";
import { useFastHistograms } from "../lib/fast-histogram";

/** Moleculer's built-in middlewares (exported at runtime, not in its type declarations). */
const { Middlewares } = Moleculer as unknown as { Middlewares: { Metrics: (b: ServiceBroker) => Record<string, (...args: any[]) => any> } };

type Labels = Record<string, unknown>;
interface Item {
	value: number;
	timestamp: number;
	rate?: { update(v: number): void };
}
interface HistogramItem {
	timestamp: number;
	sum: number;
	count: number;
	lastValue: number | null;
	bucketValues?: Record<number, number>;
	quantileValues?: { add(v: number): void };
	rate?: { update(v: number): void };
}
export interface Metric {
	values: Map<string, unknown>;
	buckets?: number[];
	hashingLabels(labels: Labels): string;
	increment(labels: Labels | null, value?: number, timestamp?: number): unknown;
	decrement(labels: Labels | null, value?: number, timestamp?: number): unknown;
	observe(value: number, labels: Labels, timestamp?: number): unknown;
	/** FastHistogramMetric (lib/fast-histogram.ts): an observation into an item already found */
	record?(item: HistogramItem, value: number, now: number): void;
	changed(value?: unknown, labels?: Labels, timestamp?: number): void;
}

/** A registered metric, with the counter, gauge and histogram methods used here. */
export function metricNamed(broker: ServiceBroker, name: string): Metric {
	// getMetric is typed as the base metric; the histogram and counter methods used are on its subclasses
	return broker.metrics.getMetric(name) as unknown as Metric;
}

/** `metric.increment(labels, delta)` (or decrement) for a label set hashed beforehand: what GaugeMetric.set does. */
export function addTo(metric: Metric, hash: string, labels: Labels, delta: number, now = Date.now()): void {
	const item = metric.values.get(hash) as Item | undefined;
	if (!item) {
		if (delta >= 0) metric.increment(labels, delta, now);
		else metric.decrement(labels, -delta, now);
		return;
	}
	item.value += delta;
	item.timestamp = now;
	if (item.rate) item.rate.update(item.value);
	metric.changed(item.value, labels, now);
}

/** `metric.observe(value, labels)` for a label set hashed beforehand: what HistogramMetric.observe does. */
export function observe(metric: Metric, hash: string, labels: Labels, value: number, now = Date.now()): void {
	const item = metric.values.get(hash) as HistogramItem | undefined;
	if (!item) {
		metric.observe(value, labels, now);
		return;
	}
	if (metric.record) metric.record(item, value, now);
	else {
		item.timestamp = now;
		item.sum += value;
		item.count++;
		item.lastValue = value;
		const buckets = metric.buckets;
		if (item.bucketValues && buckets) for (let i = 0; i < buckets.length; i++) if (value <= buckets[i]) item.bucketValues[buckets[i]] += 1;
		if (item.quantileValues) item.quantileValues.add(value);
		if (item.rate) item.rate.update(item.count);
	}
	metric.changed(value, labels, now);
}

interface HistogramMetric {
	type: string;
	name: string;
	description?: string;
	labelNames: string[];
	unit?: string;
	aggregator?: unknown;
	rate?: boolean;
	buckets?: number[];
	quantiles?: number[];
}

/**
 * Every histogram registered so far (request and event times, the cacher's get/set/del/clean times)
 * re-registered with its buckets (Moleculer's default buckets where it had none) and no quantiles.
 * Runs when the broker is created, before any value is recorded; Moleculer's code finds metrics by name.
 */
export function dropQuantiles(broker: ServiceBroker): string[] {
	// Moleculer's MetricRegistry typings keep its metric store private.
	const store = (broker.metrics as unknown as { store: Map<string, HistogramMetric> }).store;
	const changed: string[] = [];
	for (const m of [...store.values()]) {
		if (m.type !== METRIC.TYPE_HISTOGRAM || !m.quantiles) continue;
		broker.metrics.register({
			name: m.name,
			type: m.type,
			description: m.description,
			labelNames: m.labelNames,
			unit: m.unit,
			aggregator: m.aggregator,
			rate: m.rate,
			buckets: m.buckets ?? true,
			quantiles: false,
		} as never);
		changed.push(m.name);
	}
	return changed;
}

export function MetricsMiddleware(broker: ServiceBroker) {
	// before `created` below re-registers the histograms: they become FastHistogramMetric
	useFastHistograms();
	const stock = Middlewares.Metrics(broker);
	if (!broker.isMetricsEnabled()) return stock;
	const metric = (name: string) => metricNamed(broker, name);

	function wrap(type: "local" | "remote", action: ActionSchema & { service?: { fullName?: string } }, next: (ctx: Context) => Promise<unknown>) {
		const service = action.service ? (action.service.fullName ?? null) : null;
		const name = action.name;
		const total = metric(METRIC.MOLECULER_REQUEST_TOTAL);
		const active = metric(METRIC.MOLECULER_REQUEST_ACTIVE);
		const levels = metric(METRIC.MOLECULER_REQUEST_LEVELS);
		const time = metric(METRIC.MOLECULER_REQUEST_TIME);
		// one entry per caller (a handful per action): the labels and their hash in each metric
		const byCaller = new Map<string | null | undefined, { labels: Labels; total: string; active: string; time: string }>();
		const byLevel: { labels: Labels; hash: string }[] = [];

		return function metricsMiddleware(ctx: Context) {
			const caller = ctx.caller;
			let c = byCaller.get(caller);
			if (!c) {
				const labels = { service, action: name, caller, type };
				c = { labels, total: total.hashingLabels(labels), active: active.hashingLabels(labels), time: time.hashingLabels(labels) };
				byCaller.set(caller, c);
			}
			const now = Date.now();
			addTo(total, c.total, c.labels, 1, now);
			addTo(active, c.active, c.labels, 1, now);
			const level = ctx.level ?? 0;
			const l = (byLevel[level] ??= { labels: { level }, hash: levels.hashingLabels({ level }) });
			addTo(levels, l.hash, l.labels, 1, now);
			const started = performance.now();

			return next(ctx).then(
				res => {
					const end = Date.now();
					observe(time, c.time, c.labels, performance.now() - started, end);
					addTo(active, c.active, c.labels, -1, end);
					return res;
				},
				err => {
					const end = Date.now();
					observe(time, c.time, c.labels, performance.now() - started, end);
					addTo(active, c.active, c.labels, -1, end);
					broker.metrics.increment(METRIC.MOLECULER_REQUEST_ERROR_TOTAL, {
						service,
						action: name,
						caller,
						type,
						errorName: err ? err.name : null,
						errorCode: err ? err.code : null,
						errorType: err ? err.type : null,
					});
					throw err;
				},
			);
		};
	}

	return {
		...stock,
		name: "Metrics",
		created(this: unknown, ...args: unknown[]) {
			stock.created.apply(this, args);
			dropQuantiles(broker);
		},
		localAction: (next: (ctx: Context) => Promise<unknown>, action: ActionSchema) => wrap("local", action, next),
		remoteAction: (next: (ctx: Context) => Promise<unknown>, action: ActionSchema) => wrap("remote", action, next),
	};
}
