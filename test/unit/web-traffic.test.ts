/**
 * The operator console's rates (web/src/screens/console/traffic.ts): quantiles from cumulative buckets as
 * Prometheus' histogram_quantile computes them, and rates between two samples, a restarted node included.
 */
import { pointBetween, quantile, type NodeTraffic, type TrafficSample } from "../../web/src/screens/console/traffic";

const node = (over: Partial<NodeTraffic>): NodeTraffic => ({
	node: "n1",
	calls: 0,
	errors: 0,
	serverErrors: 0,
	timeSum: 0,
	timeCount: 0,
	buckets: [],
	http: { requests: 0, timeSum: 0, buckets: [], problems: {} },
	actions: [],
	...over,
});

describe("console traffic", () => {
	it("interpolates a quantile inside its bucket", () => {
		// 100 observations: 50 at ≤ 10 ms, 40 more ≤ 100 ms, 10 more ≤ 1000 ms
		const buckets: [number, number][] = [
			[10, 50],
			[100, 90],
			[1000, 100],
		];
		expect(quantile(0.5, buckets, 100)).toBe(10);
		expect(quantile(0.7, buckets, 100)).toBeCloseTo(55); // half way into (10, 100]
		expect(quantile(0.95, buckets, 100)).toBeCloseTo(550);
		expect(quantile(0.5, buckets, 0)).toBeNull();
		expect(quantile(0.25, [[5, 4]], 4)).toBeCloseTo(1.25);
	});

	it("turns two samples into rates and interval quantiles", () => {
		const a: TrafficSample = {
			at: "2026-12-01T10:00:00.000Z",
			nodes: [
				node({
					calls: 100,
					errors: 1,
					http: {
						requests: 50,
						timeSum: 0,
						buckets: [
							[10, 40],
							[100, 50],
						],
						problems: { "4xx": 2 },
					},
				}),
			],
		};
		const b: TrafficSample = {
			at: "2026-12-01T10:00:02.000Z",
			nodes: [
				node({
					calls: 140,
					errors: 5,
					http: {
						requests: 70,
						timeSum: 0,
						buckets: [
							[10, 50],
							[100, 70],
						],
						problems: { "4xx": 3, "5xx": 1 },
					},
				}),
			],
		};
		const p = pointBetween(a, b)!;
		expect(p.t).toBe(Date.parse(b.at) / 1000);
		expect(p.httpRate).toBe(10); // 20 requests in 2 s
		expect(p.httpErrorPct).toBe(10); // 2 of 20
		expect(p.callRate).toBe(20);
		expect(p.callErrorPct).toBe(10);
		// the interval's 20 requests: 10 at ≤ 10 ms, 10 in (10, 100]
		expect(p.p50).toBe(10);
		expect(p.p95).toBeCloseTo(91);
		expect(pointBetween(b, b)).toBeNull();
	});

	it("counts a restarted node (its counters went back) from zero, and a new node whole", () => {
		const a: TrafficSample = { at: "2026-12-01T10:00:00.000Z", nodes: [node({ node: "n1", calls: 1000 })] };
		const b: TrafficSample = { at: "2026-12-01T10:00:01.000Z", nodes: [node({ node: "n1", calls: 30 }), node({ node: "n2", calls: 5 })] };
		expect(pointBetween(a, b)!.callRate).toBe(35);
	});
});
