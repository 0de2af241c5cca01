/** The part of autocannon 9's programmatic API the benchmarks use (the package ships no types). */
declare module "autocannon" {
	namespace autocannon {
		interface Options {
			url: string;
			connections?: number;
			duration?: number;
			pipelining?: number;
			timeout?: number;
			method?: string;
			headers?: Record<string, string>;
			title?: string;
		}
		interface Histogram {
			average: number;
			mean: number;
			stddev: number;
			min: number;
			max: number;
			total?: number;
			p50: number;
			p90: number;
			p97_5: number;
			p99: number;
			p99_9: number;
		}
		interface Result {
			title?: string;
			url: string;
			connections: number;
			duration: number;
			errors: number;
			timeouts: number;
			mismatches: number;
			non2xx: number;
			resets: number;
			"2xx": number;
			statusCodeStats: Record<string, { count: number }>;
			latency: Histogram;
			requests: Histogram & { sent: number };
			throughput: Histogram;
		}
	}
	function autocannon(opts: autocannon.Options): Promise<autocannon.Result>;
	export = autocannon;
}
