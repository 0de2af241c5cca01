/**
 * Durable work between services (@moleculer/channels): NATS JetStream in a cluster, an in-process
 * adapter embedded. Channel names are prefixed with the namespace so clusters sharing one NATS never
 * see each other's messages.
 */
import type { Config } from "./config";

export function channelAdapter(cfg: Config): Record<string, unknown> | string {
	const common = {
		prefix: cfg.NAMESPACE,
		maxRetries: 5,
		maxInFlight: 10,
		deadLettering: { enabled: true, queueName: "DEAD_LETTER" },
	};
	if (cfg.TRANSPORTER) return { type: "NATS", options: { ...common, nats: { url: cfg.TRANSPORTER } } };
	return { type: "Fake", options: common };
}
