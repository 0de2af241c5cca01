/**
 * Zipkin tracing across two real nodes (README, "Tracing"): a gateway node and a greeter node over
 * NATS, both with TRACING_EXPORTER=zipkin pointing at a fake Zipkin collector this test runs on
 * 127.0.0.1. One HTTP request yields the gateway's request span and the greeter's action span, from
 * their two nodes, in one trace with valid Zipkin ids (also for a request id a client chose), parent
 * and child linked, the request id on every span, and no params on any.
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { zipkinId } from "../../lib/zipkin-exporter";
import { startCluster, type Cluster } from "../helpers/cluster";
import { freePort } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

interface ZipkinSpan {
	traceId: string;
	id: string;
	parentId?: string | null;
	name: string;
	kind: string;
	timestamp: number;
	duration: number;
	localEndpoint: { serviceName: string | null };
	tags: Record<string, string>;
}

describe("Zipkin tracing across two nodes", () => {
	const spans: ZipkinSpan[] = [];
	const posts: { path: string; contentType?: string }[] = [];
	let collector: http.Server;
	let c: Cluster;
	let port: number;

	beforeAll(async () => {
		// a fake Zipkin: accepts POST /api/v2/spans as Zipkin does (202), keeps what it got
		collector = http.createServer((req, res) => {
			const chunks: Buffer[] = [];
			req.on("data", d => chunks.push(d));
			req.on("end", () => {
				posts.push({ path: req.url ?? "", contentType: req.headers["content-type"] });
				if (req.method === "POST" && req.url === "/api/v2/spans")
					spans.push(...(JSON.parse(Buffer.concat(chunks).toString()) as ZipkinSpan[]));
				res.writeHead(202);
				res.end();
			});
		});
		await new Promise<void>(resolve => collector.listen(0, "127.0.0.1", resolve));
		const zipkin = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
		c = await startCluster({ TRACING_EXPORTER: "zipkin", ZIPKIN_URL: zipkin, TRACING_SAMPLE_RATE: "1" });
		port = await freePort();
		c.node("greeter", { NODE_ID: `greeter-${c.namespace}` });
		await c.gateway(port);
		await waitFor(() => c.nodesOf("greeter").length === 1, { what: "the greeter node", timeoutMs: 30_000 });
		await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/greeter/hello`)).ok, { what: "route to greeter", timeoutMs: 15_000 });
	}, 60_000);
	afterAll(async () => {
		await c?.stop();
		await new Promise(resolve => collector?.close(resolve));
	}, 30_000);

	it.each([
		["a request id the gateway made", undefined],
		["a request id the client chose (no hex)", `order-42-${randomUUID().slice(0, 8)}`],
	])(
		"one request, %s: its spans from both nodes in one trace",
		async (_what, given) => {
			const name = `trace${randomUUID().slice(0, 8)}`; // a cache miss: the greeter node must answer
			const res = await fetch(`http://127.0.0.1:${port}/api/greeter/welcome/${name}?secret=do-not-export`, {
				headers: given ? { "x-request-id": given } : {},
			});
			expect(res.status).toBe(200);
			const requestId = res.headers.get("x-request-id")!;
			if (given) expect(requestId).toBe(given);
			const traceId = zipkinId(requestId);
			expect(traceId).toMatch(/^[0-9a-f]{16}$/);

			// the exporter sends every 5 s
			const ofTrace = () => spans.filter(s => s.traceId === traceId);
			await waitFor(() => ofTrace().some(s => s.name === "action 'greeter.welcome'") && ofTrace().some(s => s.name.startsWith("GET ")), {
				what: "both nodes' spans at the collector",
				timeoutMs: 20_000,
			});
			const trace = ofTrace();
			const root = trace.find(s => s.name === `GET /api/greeter/welcome/${name}`)!;
			const child = trace.find(s => s.name === "action 'greeter.welcome'")!;
			expect(root).toBeDefined();
			expect(child.parentId).toBe(root.id);
			// two nodes
			expect(root.tags.nodeID).toBe(`gw-${port}-${c.namespace}`);
			expect(child.tags.nodeID).toBe(`greeter-${c.namespace}`);
			expect(child.tags.remoteCall).toBe("true");
			for (const s of trace) {
				expect(s.tags.requestId).toBe(requestId);
				expect(s.id).toMatch(/^[0-9a-f]{16}$/);
				if (s.parentId) expect(s.parentId).toMatch(/^[0-9a-f]{16}$/);
				expect(s.duration).toBeGreaterThanOrEqual(0);
				// no params, query string or meta reach the collector
				expect(JSON.stringify(s)).not.toContain("do-not-export");
				expect(Object.keys(s.tags).some(k => k.startsWith("params.") || k.startsWith("meta."))).toBe(false);
			}
			expect(posts.every(p => p.path === "/api/v2/spans" && p.contentType === "application/json")).toBe(true);
		},
		40_000,
	);
});
