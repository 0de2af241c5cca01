/**
 * Tracing configuration (lib/tracing.ts, lib/zipkin-exporter.ts): off by default, wrapping nothing; Zipkin ids always 16 hex digits, stable per request id; spans never
 * carry params, meta or responses. The spans of a real request across two nodes: test/cluster/tracing.test.ts.
 */
import { ServiceBroker, type TracerOptions } from "moleculer";
import { loadConfig } from "../../lib/config";
import { tracingOptions } from "../../lib/tracing";
import { ZipkinExporter, zipkinId } from "../../lib/zipkin-exporter";
import { brokerOptions } from "../../moleculer.config";

describe("tracing configuration", () => {
	it("is off by default, and then no action or event is wrapped for it", async () => {
		const cfg = loadConfig({ NODE_ENV: "test" });
		expect(cfg.TRACING_EXPORTER).toBe("none");
		expect(tracingOptions(cfg)).toEqual({ enabled: false });
		const broker = new ServiceBroker({ ...brokerOptions(cfg), logger: false, metrics: false });
		expect(broker.isTracingEnabled()).toBe(false);
		// Moleculer registers its Tracing middleware with no hooks: actions and events are not wrapped at all
		// (Moleculer's MiddlewareHandler type does not declare its `list`)
		const tracing = (broker.middlewares as unknown as { list: { name?: string; localAction?: unknown; localEvent?: unknown }[] }).list.find(
			m => m.name === "Tracing",
		);
		expect(tracing?.localAction ?? null).toBeNull();
		expect(tracing?.localEvent ?? null).toBeNull();
		await broker.stop();
	});

	it("TRACING_EXPORTER=zipkin: Zipkin at ZIPKIN_URL, the sample rate, no params/meta/response in spans", () => {
		const cfg = loadConfig({ NODE_ENV: "test", TRACING_EXPORTER: "zipkin", ZIPKIN_URL: "http://127.0.0.1:9411/", TRACING_SAMPLE_RATE: "0.25" });
		const opts = tracingOptions(cfg) as TracerOptions;
		expect(opts.enabled).toBe(true);
		const [exporter] = opts.exporter as unknown[];
		expect(exporter).toBeInstanceOf(ZipkinExporter);
		expect((exporter as ZipkinExporter).opts.baseURL).toBe("http://127.0.0.1:9411");
		expect(opts.sampling?.rate).toBe(0.25);
		expect(opts.tags?.action).toEqual({ params: false, meta: false, response: false });
		expect(opts.tags?.event).toEqual({ params: false, meta: false });
	});

	it("refuses a bad ZIPKIN_URL or sample rate at start", () => {
		expect(() => loadConfig({ TRACING_EXPORTER: "zipkin", ZIPKIN_URL: "ftp://x" })).toThrow(/ZIPKIN_URL/);
		expect(() => loadConfig({ TRACING_SAMPLE_RATE: "2" })).toThrow(/TRACING_SAMPLE_RATE/);
	});

	it("makes 16-hex-digit Zipkin ids: UUIDs as Moleculer cuts them, anything else hashed the same way everywhere", () => {
		expect(zipkinId("5b0c2f4e-1a2b-4c3d-8e9f-0123456789ab")).toBe("5b0c2f4e1a2b4c3d");
		expect(zipkinId("order-42")).toMatch(/^[0-9a-f]{16}$/);
		expect(zipkinId("order-42")).toBe(zipkinId("order-42"));
		expect(zipkinId("order-43")).not.toBe(zipkinId("order-42"));
		expect(zipkinId("ABCDEF0123456789")).toBe("abcdef0123456789");
		expect(zipkinId(null)).toBeNull();
	});
});
