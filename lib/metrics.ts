/**
 * Prometheus text for the gateway's `/metrics`: Moleculer's own reporter, minus the extra HTTP server
 * it would open. Nodes without a gateway can still set METRICS_PORT to get the stock reporter.
 *
 * Only what a scrape needs leaves (README: Security): Moleculer's own metrics (requests, events, registry,
 * cacher, channels), process memory, uptime and handles, OS load, CPU and memory. Not the process
 * arguments, PIDs, Node.js version, host name, user name, home directory, network addresses, CPU model.
 */
import { MetricReporters } from "moleculer";

export const SCRAPED_METRICS = [
	"moleculer.**",
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

export class InProcessPrometheusReporter extends MetricReporters.Prometheus {
	override init(registry: Registry) {
		// BaseReporter.init wires the registry; skip Prometheus' own listener.
		MetricReporters.Base.prototype.init.call(this, registry);
		const self = this as unknown as { defaultLabels: unknown; opts: { defaultLabels: unknown } };
		self.defaultLabels =
			typeof self.opts.defaultLabels === "function" ? self.opts.defaultLabels.call(this, registry) : self.opts.defaultLabels;
	}

	override stop() {
		return Promise.resolve();
	}

	render(): string {
		return (this as unknown as { generatePrometheusResponse(): string }).generatePrometheusResponse();
	}
}

let reporter: InProcessPrometheusReporter | undefined;
/** The one reporter of this process (created by moleculer.config). */
export function prometheusReporter(): InProcessPrometheusReporter {
	return (reporter ??= new InProcessPrometheusReporter(reporterOptions()));
}
