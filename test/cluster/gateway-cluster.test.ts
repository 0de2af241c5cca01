/**
 * A real cluster: node processes over the machine's NATS and a private Redis. A gateway node and two
 * greeter nodes share the load; one greeter node is SIGKILLed under load and no request fails; two
 * gateway nodes share one rate limit; cached calls survive a frozen Redis.
 */
import { randomUUID } from "node:crypto";
import { startCluster as cluster, type Cluster } from "../helpers/cluster";
import { freePort, type Proc } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

const greeterNodes = (c: Cluster) => c.nodesOf("greeter");

describe("cluster over NATS and Redis", () => {
	describe("one gateway, two greeter nodes", () => {
		let c: Cluster;
		let port: number;
		const ids = [`greeter-a-${randomUUID().slice(0, 6)}`, `greeter-b-${randomUUID().slice(0, 6)}`];
		let victim: Proc;

		beforeAll(async () => {
			c = await cluster({ REQUEST_TIMEOUT_MS: "1000", RATE_LIMIT_MAX: "100000" });
			port = await freePort();
			c.node("greeter", { NODE_ID: ids[0] });
			victim = c.node("greeter", { NODE_ID: ids[1] });
			await c.gateway(port);
			await waitFor(() => greeterNodes(c).length === 2, { what: "two greeter nodes", timeoutMs: 30_000 });
			await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/greeter/hello`)).ok, {
				what: "route to greeter",
				timeoutMs: 15_000,
			});
		}, 60_000);
		afterAll(() => c.stop(), 30_000);

		it("spreads calls over both greeter nodes", async () => {
			const before = await Promise.all(ids.map(nodeID => c.observer.call("greeter.stats", {}, { nodeID })));
			// Distinct names: every call is a cache miss that some greeter node must answer.
			const results = await Promise.all(Array.from({ length: 40 }, (_, i) => fetch(`http://127.0.0.1:${port}/api/greeter/welcome/spread${i}`)));
			expect(results.every(r => r.ok)).toBe(true);
			const after = await Promise.all(ids.map(nodeID => c.observer.call("greeter.stats", {}, { nodeID })));
			const delta = after.map((a: any, i) => a.served - (before[i] as any).served);
			expect(delta[0] + delta[1]).toBe(40);
			expect(delta[0]).toBeGreaterThan(0);
			expect(delta[1]).toBeGreaterThan(0);
		});

		it("loses no request when a greeter node is SIGKILLed under load (10 s at 100 req/s)", async () => {
			const total = 1000;
			const start = Date.now();
			const statuses: number[] = [];
			const requests: Promise<void>[] = [];
			let killed = false;
			for (let i = 0; i < total; i++) {
				const due = start + i * 10;
				const wait = due - Date.now();
				if (wait > 0) await new Promise(r => setTimeout(r, wait));
				if (!killed && i === 300) {
					victim.kill("SIGKILL");
					killed = true;
				}
				requests.push(
					fetch(`http://127.0.0.1:${port}/api/greeter/welcome/load${i}`)
						.then(r => {
							statuses.push(r.status);
							return r.arrayBuffer().then(() => undefined);
						})
						.catch(() => void statuses.push(0)),
				);
			}
			await Promise.all(requests);
			const failed = statuses.filter(s => s !== 200);
			expect(statuses).toHaveLength(total);
			expect(failed).toEqual([]);
		}, 60_000);

		it("forgets the dead node within seconds", async () => {
			await waitFor(
				async () => {
					const res = await fetch(`http://127.0.0.1:${port}/health/services`);
					const body = (await res.json()) as { services: { name: string; nodes: number }[] };
					return body.services.find(s => s.name === "greeter")?.nodes === 1;
				},
				{ what: "registry to drop the killed node", timeoutMs: 10_000, intervalMs: 200 },
			);
		});

		it("keeps answering cached reads while Redis is frozen", async () => {
			c.redis.kill("SIGSTOP");
			try {
				for (let i = 0; i < 5; i++) {
					const res = await fetch(`http://127.0.0.1:${port}/api/greeter/hello`);
					expect(res.status).toBe(200);
				}
				// Still in service: Redis is optional for the gateway, so readiness says degraded, not down.
				const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
				expect(ready.status).toBe(200);
				expect(((await ready.json()) as { status: string }).status).toBe("degraded");
			} finally {
				c.redis.kill("SIGCONT");
			}
		});
	});

	describe("two gateway nodes", () => {
		let c: Cluster;
		let ports: number[];
		beforeAll(async () => {
			c = await cluster({ RATE_LIMIT_MAX: "6", RATE_LIMIT_WINDOW_S: "60" });
			ports = [await freePort(), await freePort()];
			c.node("greeter");
			await Promise.all(ports.map(p => c.gateway(p)));
			await waitFor(
				async () =>
					(await Promise.all(ports.map(p => fetch(`http://127.0.0.1:${p}/health/services`).then(r => r.json())))).every((b: any) =>
						b.services.some((s: any) => s.name === "greeter" && s.nodes === 1),
					),
				{
					what: "both gateways to see greeter",
					timeoutMs: 30_000,
				},
			);
		}, 60_000);
		afterAll(() => c.stop(), 30_000);

		it("share one rate limit", async () => {
			const statuses: number[] = [];
			for (let i = 0; i < 8; i++) statuses.push((await fetch(`http://127.0.0.1:${ports[i % 2]}/health/services`)).status);
			// /health is not rate limited; the API is.
			expect(statuses.every(s => s === 200)).toBe(true);
			const api: number[] = [];
			for (let i = 0; i < 8; i++) api.push((await fetch(`http://127.0.0.1:${ports[i % 2]}/api/greeter/hello`)).status);
			expect(api).toEqual([200, 200, 200, 200, 200, 200, 429, 429]);
		});
	});
});
