/**
 * Rates from the operators' traffic counters (`GET /api/operator/traffic`: totals since each node started).
 * Two samples make one point: requests per second, the share that answered a problem, latency quantiles
 * from the difference of the cumulative histogram buckets (Prometheus' `histogram_quantile`).
 */

export interface NodeTraffic {
	node: string;
	unreachable?: boolean;
	calls: number;
	errors: number;
	serverErrors: number;
	timeSum: number;
	timeCount: number;
	buckets: [number, number][];
	http: { requests: number; timeSum: number; buckets: [number, number][]; problems: Record<string, number> } | null;
	actions: { action: string; calls: number; errors: number; timeSum: number }[];
}

export interface TrafficSample {
	at: string;
	nodes: NodeTraffic[];
}

export interface Point {
	/** seconds since epoch (uPlot's x) */
	t: number;
	/** HTTP requests per second at the gateway(s) */
	httpRate: number;
	/** share of HTTP requests answered with a problem (4xx and 5xx), 0–100 */
	httpErrorPct: number;
	/** action calls per second over every node, and the share that failed, 0–100 */
	callRate: number;
	callErrorPct: number;
	/** HTTP latency quantiles over the interval (ms); null when no request came in */
	p50: number | null;
	p95: number | null;
	p99: number | null;
}

/** The q-quantile of cumulative buckets `[le, count]` holding `total` observations (linear within a bucket). */
export function quantile(q: number, buckets: [number, number][], total: number): number | null {
	if (total <= 0 || buckets.length === 0) return null;
	const rank = q * total;
	let prevLe = 0;
	let prevCount = 0;
	for (const [le, count] of buckets) {
		if (count >= rank) {
			const inBucket = count - prevCount;
			return inBucket > 0 ? prevLe + ((le - prevLe) * (rank - prevCount)) / inBucket : le;
		}
		prevLe = le;
		prevCount = count;
	}
	return buckets[buckets.length - 1][0];
}

const sumBy = (nodes: NodeTraffic[], f: (n: NodeTraffic) => number) => nodes.reduce((s, n) => s + (n.unreachable ? 0 : f(n)), 0);
const problems = (n: NodeTraffic) => Object.values(n.http?.problems ?? {}).reduce((a, b) => a + b, 0);

function mergedBuckets(nodes: NodeTraffic[]): Map<number, number> {
	const out = new Map<number, number>();
	for (const n of nodes) for (const [le, c] of n.http?.buckets ?? []) out.set(le, (out.get(le) ?? 0) + c);
	return out;
}

/** The point between two samples (null when time did not move). A node that restarted counts from zero. */
export function pointBetween(a: TrafficSample, b: TrafficSample): Point | null {
	const dt = (Date.parse(b.at) - Date.parse(a.at)) / 1000;
	if (!(dt > 0)) return null;
	const prev = new Map(a.nodes.map(n => [n.node, n]));
	// per node, the difference (or the whole count when the node is new or its counters went back)
	const delta = (f: (n: NodeTraffic) => number) =>
		sumBy(b.nodes, n => {
			const p = prev.get(n.node);
			const d = f(n) - (p && !p.unreachable ? f(p) : 0);
			return d >= 0 ? d : f(n);
		});
	const requests = delta(n => n.http?.requests ?? 0);
	const failed = delta(problems);
	const calls = delta(n => n.calls);
	const callErrors = delta(n => n.errors);
	const now = mergedBuckets(b.nodes);
	const before = mergedBuckets(a.nodes.filter(n => b.nodes.some(m => m.node === n.node)));
	const diff: [number, number][] = [...now].sort((x, y) => x[0] - y[0]).map(([le, c]) => [le, Math.max(0, c - (before.get(le) ?? 0))]);
	return {
		t: Date.parse(b.at) / 1000,
		httpRate: requests / dt,
		httpErrorPct: requests > 0 ? Math.min(100, (100 * failed) / requests) : 0,
		callRate: calls / dt,
		callErrorPct: calls > 0 ? Math.min(100, (100 * callErrors) / calls) : 0,
		p50: quantile(0.5, diff, requests),
		p95: quantile(0.95, diff, requests),
		p99: quantile(0.99, diff, requests),
	};
}
