/**
 * Failover under steady load, as an operator would see it: a gateway node and two greeter nodes over
 * NATS and Redis, 200 uncached reads a second. One greeter node is SIGKILLed, a third joins, then the
 * survivor of the first two is stopped with SIGTERM. Every request must succeed, and quickly: a
 * request must not wait for a dead node's timeout, nor get a 503 while a healthy node exists.
 */
import { randomUUID } from "node:crypto";
import { freePort, type Proc } from "../helpers/processes";
import { startCluster, type Cluster } from "../helpers/cluster";
import { waitFor } from "../helpers/wait";

const RATE = 200; // requests per second
const DURATION_MS = 22_000;

describe("failover under load (NATS + Redis, real processes)", () => {
	let c: Cluster;
	let port: number;
	const ids = ["a", "b", "c"].map(x => `greeter-${x}-${randomUUID().slice(0, 6)}`);
	const nodes: Record<string, Proc> = {};

	beforeAll(async () => {
		c = await startCluster({ RATE_LIMIT_MAX: "1000000" });
		port = await freePort();
		nodes.a = c.node("greeter", { NODE_ID: ids[0] });
		nodes.b = c.node("greeter", { NODE_ID: ids[1] });
		await c.gateway(port);
		await waitFor(() => c.nodesOf("greeter").length === 2, { what: "two greeter nodes", timeoutMs: 30_000 });
		await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/greeter/hello`)).ok, { what: "route to greeter", timeoutMs: 15_000 });
	}, 60_000);
	afterAll(() => c?.stop(), 30_000);

	it("fails no request and keeps p99 under 100 ms through a SIGKILL, a join and a SIGTERM", async () => {
		const total = (RATE * DURATION_MS) / 1000;
		const results: { status: number; ms: number; at: number }[] = [];
		const inflight: Promise<void>[] = [];
		const start = performance.now();
		const events: [number, () => void][] = [
			[5_000, () => nodes.b.kill("SIGKILL")],
			[9_000, () => void (nodes.c = c.node("greeter", { NODE_ID: ids[2] }))],
			[17_000, () => nodes.a.kill("SIGTERM")],
		];
		for (let i = 0; i < total; i++) {
			const due = (i * 1000) / RATE;
			while (events.length && events[0][0] <= due) events.shift()![1]();
			const wait = start + due - performance.now();
			if (wait > 0) await new Promise(r => setTimeout(r, wait));
			const sent = performance.now();
			inflight.push(
				fetch(`http://127.0.0.1:${port}/api/greeter/welcome/f${i}`)
					.then(async r => {
						await r.arrayBuffer();
						results.push({ status: r.status, ms: performance.now() - sent, at: sent - start });
					})
					.catch(() => void results.push({ status: 0, ms: performance.now() - sent, at: sent - start })),
			);
		}
		await Promise.all(inflight);
		const ms = results.map(r => r.ms).sort((x, y) => x - y);
		const p99 = ms[Math.floor(ms.length * 0.99)];
		const failed = results.filter(r => r.status !== 200);
		const byStatus: Record<number, number> = {};
		for (const f of failed) byStatus[f.status] = (byStatus[f.status] ?? 0) + 1;
		process.stderr.write(
			`failover: ${results.length} requests, ${failed.length} failed ${JSON.stringify(byStatus)}, p50 ${ms[Math.floor(ms.length / 2)].toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${ms[ms.length - 1].toFixed(0)} ms` +
				(failed.length
					? `, failures at ${failed
							.slice(0, 5)
							.map(f => Math.round(f.at))
							.join(",")}… ms`
					: "") +
				"\n",
		);
		expect(results).toHaveLength(total);
		expect(failed).toEqual([]);
		expect(p99).toBeLessThan(100);
	}, 60_000);
});

describe("a stateful service whose only node restarts", () => {
	let c: Cluster;
	let port: number;
	let notes: Proc;
	const start = () => c.node("notes", { NODE_ID: `notes-${c.namespace}`, DB_DRIVER: "nedb" });
	let auth: Record<string, string>;

	beforeAll(async () => {
		c = await startCluster({ RATE_LIMIT_MAX: "1000000" });
		auth = { authorization: `Bearer ${c.token({ sub: "u1", tid: "t1", roles: ["owner"] })}`, "content-type": "application/json" };
		port = await freePort();
		notes = start();
		await c.gateway(port);
		await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/notes`, { headers: auth })).ok, {
			what: "the notes route",
			timeoutMs: 30_000,
		});
	}, 60_000);
	afterAll(() => c?.stop(), 30_000);

	it("answers a quick 503 with Retry-After while it is down (never a hang or a 500), then serves the same data", async () => {
		const created = await fetch(`http://127.0.0.1:${port}/api/notes`, {
			method: "POST",
			headers: auth,
			body: JSON.stringify({ slug: "kept", title: "kept", body: "across restarts" }),
		});
		expect(created.status).toBe(201);
		const { id } = (await created.json()) as { id: string };

		notes.kill("SIGKILL");
		await notes.exited;
		// Long enough to see both phases: while the registry still lists the dead node (NATS answers "no
		// responders" at once), and after the heartbeat timeout dropped it (its routes are gone).
		const down: { status: number; ms: number; retryAfter: string | null }[] = [];
		const until = performance.now() + 5000;
		while (performance.now() < until) {
			const t = performance.now();
			const res = await fetch(`http://127.0.0.1:${port}/api/notes/${id}`, { headers: auth });
			await res.arrayBuffer();
			down.push({ status: res.status, ms: performance.now() - t, retryAfter: res.headers.get("retry-after") });
		}
		await waitFor(() => c.nodesOf("notes").length === 0, { what: "the registry to drop the dead node" });
		expect(new Set(down.map(d => d.status))).toEqual(new Set([503]));
		expect(down.every(d => d.retryAfter !== null)).toBe(true);
		// well under the 2 s request timeout: nobody waits for a node that is gone
		expect(Math.max(...down.map(d => d.ms))).toBeLessThan(1000);

		notes = start();
		const back = await waitFor(
			async () => {
				const res = await fetch(`http://127.0.0.1:${port}/api/notes/${id}`, { headers: auth });
				return res.status === 200 && ((await res.json()) as { title: string });
			},
			{ what: "the restarted notes node", timeoutMs: 30_000, intervalMs: 100 },
		);
		expect(back).toMatchObject({ id, title: "kept" });
	}, 60_000);
});
