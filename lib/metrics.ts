/**
 * Prometheus text for the gateway's `/metrics`: Moleculer's own reporter, minus the extra HTTP server
 * it would open. Nodes without a gateway can still set METRICS_PORT to get the stock reporter.
 */
import { MetricReporters } from "moleculer";

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
	return (reporter ??= new InProcessPrometheusReporter({}));
}
