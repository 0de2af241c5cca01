/**
 * FastHistogramMetric (lib/fast-histogram.ts) against Moleculer's own HistogramMetric: after the same
 * observations and resets, the same snapshots (buckets, sum, count, rate) and the same Prometheus text.
 */
import { MetricTypes, ServiceBroker } from "moleculer";
import { FastHistogramMetric } from "../../lib/fast-histogram";
import { InProcessPrometheusReporter } from "../../lib/metrics";

type Histogram = {
	observe(v: number, labels?: object, ts?: number): unknown;
	reset(labels?: object, ts?: number): void;
	resetAll(ts?: number): void;
	snapshot(): unknown;
};

function registryPair() {
	const brokers = [0, 1].map(
		() =>
			new ServiceBroker({
				logger: false,
				nodeID: "n",
				namespace: "fh",
				metrics: { enabled: true, reporter: [new InProcessPrometheusReporter() as never] },
			}),
	);
	const opts = { name: "test.time", type: "histogram", labelNames: ["action"], buckets: [1, 5, 10, 50, 0.5], rate: true, unit: "msec" };
	const stock = new (MetricTypes.Histogram as unknown as new (o: object, r: object) => Histogram)(opts, brokers[0].metrics);
	const fast = new FastHistogramMetric(opts, brokers[1].metrics) as unknown as Histogram;
	for (const [b, m] of [
		[brokers[0], stock],
		[brokers[1], fast],
	] as const)
		(b.metrics as unknown as { store: Map<string, unknown> }).store.set("test.time", m);
	return { brokers, stock, fast };
}

describe("FastHistogramMetric", () => {
	it("gives the same snapshots as Moleculer's histogram through observations and resets", () => {
		const { stock, fast } = registryPair();
		const values = [0.2, 0.5, 0.7, 1, 3, 5, 7.5, 10, 49, 50, 51, 1000, 0, 2];
		let t = 1_000;
		for (const [i, v] of values.entries()) {
			for (const h of [stock, fast]) h.observe(v, { action: i % 3 ? "a.x" : "a.y", ignored: 1 }, t);
			t++;
		}
		expect(fast.snapshot()).toEqual(stock.snapshot());

		for (const h of [stock, fast]) h.reset({ action: "a.y" }, 5_000);
		expect(fast.snapshot()).toEqual(stock.snapshot());
		for (const h of [stock, fast]) h.observe(4, { action: "a.y" }, 6_000);
		expect(fast.snapshot()).toEqual(stock.snapshot());

		for (const h of [stock, fast]) h.resetAll(7_000);
		for (const h of [stock, fast]) h.observe(20, { action: "a.x" }, 8_000);
		expect(fast.snapshot()).toEqual(stock.snapshot());
	});

	it("renders the same Prometheus lines", async () => {
		const { brokers, stock, fast } = registryPair();
		for (const v of [0.3, 2, 2, 9, 70]) for (const h of [stock, fast]) h.observe(v, { action: "a.x" }, 1_000);
		const text = (b: ServiceBroker) =>
			((b.metrics as unknown as { reporter: InProcessPrometheusReporter[] }).reporter[0] as unknown as { render(): string })
				.render()
				.split("\n")
				.filter(l => l.startsWith("test_time"));
		const lines = text(brokers[1]);
		expect(lines).toEqual(text(brokers[0]));
		expect(lines).toContainEqual(expect.stringMatching(/^test_time_bucket\{.*action="a\.x",le="5"\} 3$/));
	});
});
