/** Our Metrics middleware records what Moleculer's records (minus per-sample quantiles), and /metrics shows it. */
import { METRIC, ServiceBroker, type Context } from "moleculer";
import { InProcessPrometheusReporter } from "../../lib/metrics";
import { MetricsMiddleware, addTo, observe } from "../../middlewares/metrics.middleware";

const service = {
	name: "probe",
	actions: {
		ok: { handler: () => ({ ok: true }) },
		fail: {
			handler() {
				throw new Error("nope");
			},
		},
		nested: { handler: (ctx: Context) => ctx.call("probe.ok") },
	},
};

function broker(middleware: unknown, reporter?: InProcessPrometheusReporter) {
	return new ServiceBroker({
		logger: false,
		nodeID: "n1",
		namespace: "metrics-test",
		internalMiddlewares: false,
		middlewares: [middleware as never],
		metrics: { enabled: true, reporter: reporter ? [reporter as never] : [] },
	});
}

/** A metric's items without their timestamps and rate objects (they differ from run to run). */
function items(b: ServiceBroker, name: string) {
	const metric = b.metrics.getMetric(name) as unknown as { values: Map<string, Record<string, unknown>> };
	return [...metric.values.entries()].map(([hash, item]) => ({ hash, labels: item.labels, value: item.value, count: item.count }));
}

async function drive(b: ServiceBroker) {
	b.createService(service);
	await b.start();
	for (let i = 0; i < 7; i++) await b.call("probe.ok");
	await b.call("probe.nested");
	for (let i = 0; i < 3; i++) await b.call("probe.fail").catch(() => undefined);
}

describe("metrics middleware", () => {
	it("records the same request metrics as Moleculer's own middleware", async () => {
		const ours = broker(MetricsMiddleware);
		const stock = broker("Metrics");
		try {
			await drive(ours);
			await drive(stock);
			for (const name of [
				METRIC.MOLECULER_REQUEST_TOTAL,
				METRIC.MOLECULER_REQUEST_ACTIVE,
				METRIC.MOLECULER_REQUEST_LEVELS,
				METRIC.MOLECULER_REQUEST_ERROR_TOTAL,
			])
				expect({ name, items: items(ours, name) }).toEqual({ name, items: items(stock, name) });
			// same label sets and counts of timings; the durations themselves differ
			expect(items(ours, METRIC.MOLECULER_REQUEST_TIME)).toEqual(items(stock, METRIC.MOLECULER_REQUEST_TIME));
			expect(items(ours, METRIC.MOLECULER_REQUEST_TOTAL)).toContainEqual(
				expect.objectContaining({ labels: { service: "probe", action: "probe.ok", type: "local", caller: null }, value: 7 }),
			);
		} finally {
			await ours.stop();
			await stock.stop();
		}
	});

	it("keeps no per-sample quantiles in any histogram: request, event and cacher times", async () => {
		const b = new ServiceBroker({
			logger: false,
			internalMiddlewares: false,
			middlewares: [MetricsMiddleware as never, "Cacher"],
			cacher: "Memory",
			metrics: { enabled: true, reporter: [] },
		});
		try {
			b.createService({ ...service, actions: { ...service.actions, cached: { cache: { keys: [] }, handler: () => ({ hit: true }) } } });
			await b.start();
			for (let i = 0; i < 3; i++) await b.call("probe.cached");
			const store = (
				b.metrics as unknown as {
					store: Map<
						string,
						{
							type: string;
							name: string;
							quantiles?: unknown;
							buckets?: unknown;
							values: Map<string, { quantileValues?: unknown; bucketValues?: unknown }>;
						}
					>;
				}
			).store;
			const histograms = [...store.values()].filter(m => m.type === METRIC.TYPE_HISTOGRAM);
			expect(histograms.map(m => m.name)).toEqual(
				expect.arrayContaining([METRIC.MOLECULER_REQUEST_TIME, METRIC.MOLECULER_EVENT_RECEIVED_TIME, METRIC.MOLECULER_CACHER_GET_TIME]),
			);
			for (const m of histograms) {
				expect({ name: m.name, quantiles: m.quantiles ?? null, buckets: Array.isArray(m.buckets) }).toEqual({
					name: m.name,
					quantiles: null,
					buckets: true,
				});
				for (const item of m.values.values()) expect(item.quantileValues).toBeUndefined();
			}
			const get = b.metrics.getMetric(METRIC.MOLECULER_CACHER_GET_TIME) as unknown as { values: Map<string, { count: number }> };
			expect([...get.values.values()][0].count).toBe(3);
		} finally {
			await b.stop();
		}
	});

	it("addTo and observe change a metric exactly as its own increment, decrement and observe do", () => {
		const a = broker(MetricsMiddleware);
		const b = broker(MetricsMiddleware);
		const labels = { service: "s", action: "s.a", type: "local", caller: "x" };
		for (const reg of [a, b])
			reg.metrics.register({ name: "test.gauge", type: METRIC.TYPE_GAUGE, labelNames: ["service", "action", "type", "caller"] } as never);
		for (const reg of [a, b])
			reg.metrics.register({
				name: "test.hist",
				type: METRIC.TYPE_HISTOGRAM,
				labelNames: ["service", "action", "type", "caller"],
				buckets: [1, 5, 10],
				quantiles: [0.5],
				rate: true,
			} as never);
		const gA = a.metrics.getMetric("test.gauge") as never as Parameters<typeof addTo>[0];
		const hA = a.metrics.getMetric("test.hist") as never as Parameters<typeof observe>[0];
		const hash = gA.hashingLabels(labels);
		for (const [delta, value] of [
			[1, 0.5],
			[1, 3],
			[-1, 7],
			[1, 20],
		]) {
			addTo(gA, hash, labels, delta, 1000);
			observe(hA, hA.hashingLabels(labels), labels, value, 1000);
			if (delta > 0) b.metrics.increment("test.gauge", labels, delta, 1000);
			else b.metrics.decrement("test.gauge", labels, -delta, 1000);
			b.metrics.observe("test.hist", value, labels, 1000);
		}
		const strip = (s: unknown) => JSON.parse(JSON.stringify(s, (k, v) => (k === "rate" || k === "timestamp" ? undefined : v)));
		expect(strip(a.metrics.getMetric("test.gauge")!.snapshot())).toEqual(strip(b.metrics.getMetric("test.gauge")!.snapshot()));
		expect(strip(a.metrics.getMetric("test.hist")!.snapshot())).toEqual(strip(b.metrics.getMetric("test.hist")!.snapshot()));
	});

	it("renders request times as a Prometheus histogram with buckets, _sum and _count in the metric's own block", async () => {
		const reporter = new InProcessPrometheusReporter({});
		const b = broker(MetricsMiddleware, reporter);
		try {
			await drive(b);
			const text = reporter.render();
			const lines = text.split("\n");
			const block = lines.slice(lines.indexOf("# TYPE moleculer_request_time histogram"));
			const end = block.indexOf("");
			const family = block.slice(0, end);
			const ok = '{namespace="metrics-test",nodeID="n1",service="probe",action="probe.ok",type="local",caller="null"}';
			const inf = family.findIndex(l =>
				l.startsWith(
					'moleculer_request_time_bucket{namespace="metrics-test",nodeID="n1",service="probe",action="probe.ok",type="local",caller="null",le="+Inf"}',
				),
			);
			expect(family[inf]).toMatch(/ 7$/);
			expect(family[inf + 1]).toMatch(new RegExp(`^moleculer_request_time_sum${ok.replace(/[{}.]/g, "\\$&")} [\\d.e-]+$`));
			expect(family[inf + 2]).toBe(`moleculer_request_time_count${ok} 7`);
			expect(family.some(l => l.includes("quantile="))).toBe(false);
			// every sample line of the family belongs to it
			expect(family.slice(2).every(l => l.startsWith("moleculer_request_time"))).toBe(true);
			expect(text).toContain(`moleculer_request_total${ok} 7`);
			expect(text).toMatch(/moleculer_request_error_total\{[^}]*action="probe.fail"[^}]*errorName="Error"[^}]*\} 3/);
		} finally {
			await b.stop();
		}
	});
});
