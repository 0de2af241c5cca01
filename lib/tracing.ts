/**
 * Broker tracing from the environment: off (`TRACING_EXPORTER=none`, the default: Moleculer then
 * installs no tracing middleware at all), Moleculer's console or event exporter, or Zipkin v2
 * (`TRACING_EXPORTER=zipkin`, `ZIPKIN_URL`) through lib/zipkin-exporter.ts. `TRACING_SAMPLE_RATE`
 * is the share of requests traced; the first span decides for the whole request on every node.
 * Spans carry no params, meta or responses (passwords, tokens and personal data would reach the
 * collector): name, timing, node, caller, cache hit, error and the request id. README: "Tracing".
 */
import type { BrokerOptions } from "moleculer";
import type { Config } from "./config";
import { ZipkinExporter } from "./zipkin-exporter";
import { withoutTrailingSlashes } from "./text";

export function tracingOptions(cfg: Config): BrokerOptions["tracing"] {
	if (cfg.TRACING_EXPORTER === "none") return { enabled: false };
	const exporter =
		cfg.TRACING_EXPORTER === "zipkin"
			? new ZipkinExporter({ baseURL: withoutTrailingSlashes(cfg.ZIPKIN_URL) })
			: { type: cfg.TRACING_EXPORTER === "console" ? "Console" : "Event" };
	return {
		enabled: true,
		exporter: [exporter],
		sampling: { rate: cfg.TRACING_SAMPLE_RATE },
		actions: true,
		events: true,
		tags: { action: { params: false, meta: false, response: false }, event: { params: false, meta: false } },
		errorFields: ["name", "message", "code", "type"],
		stackTrace: false,
	} as BrokerOptions["tracing"];
}
