/**
 * Prometheus text for the gateway's `/metrics`: Moleculer's own reporter, minus the extra HTTP server
 * it would open. Nodes without a gateway can still set METRICS_PORT to get the stock reporter.
 *
 * Only what a scrape needs leaves (README: Security): Moleculer's own metrics (requests, events, registry,
 * cacher, channels), process memory, uptime and handles, OS load, CPU and memory. Not the process
 * arguments, PIDs, Node.js version, host name, user name, home directory, network addresses, CPU model.
 * Request and event times are histograms without quantiles (middlewares/metrics.middleware.ts):
 * Moleculer's reporter writes a histogram's `_sum` and `_count` only when it has quantiles, so this
 * one adds them, in the metric's own block, after each label set's `+Inf` bucket.
 */
import { METRIC, MetricReporters } from "moleculer";

export const SCRAPED_METRICS = [
	"moleculer.**",
	// the gateway's problem answers by status and code (services/gateway/operator-console.ts)
	"valence.**",
	"process.memory.**",
	"process.uptime",
	"process.internal.active.handles",
	"os.memory.**",
	"os.uptime",
	"os.cpu.load.**",
	"os.cpu.utilization",
	"os.cpu.user",
	"os.cpu.system",
	"os.cpu.total",
];

/** Options for every Prometheus reporter of a node (ours and the standalone METRICS_PORT one). */
export const reporterOptions = () => ({ includes: [...SCRAPED_METRICS], excludes: ["moleculer.node.versions.lang"] });

type Registry = Parameters<InstanceType<typeof MetricReporters.Base>["init"]>[0];
interface HistogramSnapshot {
	labels: Record<string, unknown>;
	count: number;
	sum: number;
	quantiles?: unknown;
	buckets?: unknown;
}
interface ReporterInternals {
	registry: { store: Map<string, { name: string; type: string; quantiles?: unknown; snapshot(): HistogramSnapshot[] }> };
	generatePrometheusResponse(): string;
	formatMetricName(name: string): string;
	labelsToStr(labels: Record<string, unknown>, extra?: Record<string, unknown>): string;
	matchMetricName(name: string): boolean;
}

export class InProcessPrometheusReporter extends MetricReporters.Prometheus {
	override init(registry: Registry) {
		// BaseReporter.init wires the registry; skip Prometheus' own listener.
		MetricReporters.Base.prototype.init.call(this, registry);
		// Moleculer's reporter typings keep these fields private
		const self = this as unknown as { defaultLabels: unknown; opts: { defaultLabels: unknown } };
		self.defaultLabels = typeof self.opts.defaultLabels === "function" ? self.opts.defaultLabels.call(this, registry) : self.opts.defaultLabels;
	}

	override stop() {
		return Promise.resolve();
	}

	render(): string {
		// the Prometheus reporter's internals are not in Moleculer's typings
		const self = this as unknown as ReporterInternals;
		const text = self.generatePrometheusResponse();
		// the `+Inf` bucket line of each label set of a quantile-less histogram → its `_sum` and `_count` lines
		const extra = new Map<string, string[]>();
		for (const metric of self.registry.store.values()) {
			if (metric.type !== METRIC.TYPE_HISTOGRAM || metric.quantiles || !self.matchMetricName(metric.name)) continue;
			const name = self.formatMetricName(metric.name).replace(/[.-]/g, "_");
			for (const item of metric.snapshot()) {
				if (!item.buckets) continue;
				const inf = `${name}_bucket${self.labelsToStr(item.labels, { le: "+Inf" })} `;
				const labels = self.labelsToStr(item.labels);
				extra.set(inf, [`${name}_sum${labels} ${item.sum}`, `${name}_count${labels} ${item.count}`]);
			}
		}
		if (extra.size === 0) return text;
		const out: string[] = [];
		for (const line of text.split("\n")) {
			out.push(line);
			if (line.includes('le="+Inf"')) {
				const add = extra.get(line.slice(0, line.lastIndexOf(" ") + 1));
				if (add) out.push(...add);
			}
		}
		return out.join("\n");
	}
}

let reporter: InProcessPrometheusReporter | undefined;
/** The one reporter of this process (created by moleculer.config). */
export function prometheusReporter(): InProcessPrometheusReporter {
	return (reporter ??= new InProcessPrometheusReporter(reporterOptions()));
}
