/**
 * The engagement ledger as a real cluster: a gateway node, a tasks node and TWO gamification nodes,
 * separate processes over the machine's NATS (transit + JetStream channels) and a private Redis (the
 * shared ledger: one Lua script per append). The `tasks.completed` stream is shared by the two
 * gamification nodes (channel group `gamification`), and every event is also sent twice more from
 * this process (redeliveries that may land on either node): each pays once. Then parallel spends
 * through the gateway, balanced over both nodes: never below 0, the balance exact.
 */
import { Middleware as ChannelsMiddleware } from "@moleculer/channels";
import { ServiceBroker } from "moleculer";
import { channelAdapter } from "../../lib/channels";
import { loadConfig } from "../../lib/config";
import { startCluster, type Cluster } from "../helpers/cluster";
import { deleteStreams, freePort } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

describe("engagement ledger across two gamification nodes (NATS + Redis)", () => {
	let cluster: Cluster;
	let publisher: ServiceBroker;
	let port: number;
	let ana: string, admin: string;
	const tenantId = "team-cluster";
	const gamificationNodes = ["gam-1", "gam-2"];

	const http = async (method: string, p: string, token: string, body?: unknown) => {
		const res = await fetch(`http://127.0.0.1:${port}${p}`, {
			method,
			headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { "content-type": "application/json" }) },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await res.text();
		return { status: res.status, body: text ? JSON.parse(text) : null };
	};

	beforeAll(async () => {
		cluster = await startCluster({ RATE_LIMIT_MAX: "100000", REQUEST_TIMEOUT_MS: "15000" });
		port = await freePort();
		await cluster.gateway(port);
		cluster.node("tasks,taskversions", { NODE_ID: `tasks-${cluster.namespace}` });
		for (const id of gamificationNodes) cluster.node("gamification,gamesettings", { NODE_ID: `${id}-${cluster.namespace}` });
		await waitFor(() => cluster.nodesOf("gamification").length === 2 && cluster.nodesOf("tasks").length === 1, {
			what: "two gamification nodes and a tasks node",
			timeoutMs: 60_000,
			intervalMs: 200,
		}).catch(err => {
			throw new Error(`${err.message}\n${cluster.procs.map(p => p.output()).join("\n---\n")}`);
		});
		ana = cluster.token({ sub: "ana", tid: tenantId, roles: ["member"] });
		admin = cluster.token({ sub: "lead", tid: tenantId, roles: ["admin"] });
		await waitFor(
			async () => (await http("GET", "/api/gamification/me", ana)).status === 200 && (await http("GET", "/api/tasks", ana)).status === 200,
			{
				what: "the routes",
				timeoutMs: 20_000,
				intervalMs: 200,
			},
		);
		// a broker of this process that can send to the cluster's channels (same namespace, same NATS)
		const cfg = loadConfig({ ...process.env, NAMESPACE: cluster.namespace, TRANSPORTER: "nats://127.0.0.1:4222", NODE_ENV: "test" });
		publisher = new ServiceBroker({
			namespace: cluster.namespace,
			nodeID: `publisher-${cluster.namespace}`,
			logger: false,
			middlewares: [ChannelsMiddleware({ adapter: channelAdapter(cfg) } as unknown as Parameters<typeof ChannelsMiddleware>[0])],
		});
		await publisher.start();
	}, 120_000);

	afterAll(async () => {
		await publisher?.stop();
		await cluster?.stop();
		if (cluster) await deleteStreams(cluster.namespace);
	}, 30_000);

	it("pays every completion once although two nodes share the stream and every event comes three times", async () => {
		const total = 12;
		const tasks = await Promise.all(Array.from({ length: total }, (_, i) => http("POST", "/api/tasks", ana, { title: `Cluster task ${i}` })));
		expect(tasks.map(t => t.status)).toEqual(Array(total).fill(201));
		const done = await Promise.all(tasks.map(t => http("PATCH", `/api/tasks/${t.body.id}`, ana, { status: "done" })));
		expect(done.map(d => d.status)).toEqual(Array(total).fill(200));
		// the channels middleware adds sendToChannel to the broker at run time
		const send = (publisher as unknown as { sendToChannel(c: string, p: unknown): Promise<void> }).sendToChannel.bind(publisher);
		for (const d of done) {
			const event = {
				eventId: `task:${d.body.id}:completed:1`,
				tenantId,
				taskId: d.body.id,
				userId: "ana",
				completedAt: d.body.completedAt,
				dueAt: null,
			};
			await Promise.all([send("tasks.completed", event), send("tasks.completed", event)]);
		}
		// 10 xp + 2 xp (a one-day streak) per completion, exactly once each
		const me = await waitFor(
			async () => {
				const m = (await http("GET", "/api/gamification/me", ana)).body;
				return m.counters.tasksCompleted === total && m.balances.xp === total * 12 ? m : null;
			},
			{ what: "every completion paid", timeoutMs: 30_000, intervalMs: 200 },
		);
		// settle: the redeliveries still in flight must change nothing
		await waitFor(async () => (await http("GET", "/api/gamification/ledger/xp?limit=100", ana)).body.rows.length === 2 * total, {
			what: "all xp entries",
			timeoutMs: 10_000,
		});
		const again = (await http("GET", "/api/gamification/me", ana)).body;
		expect(again.balances.xp).toBe(me.balances.xp);
		const rows = (await http("GET", "/api/gamification/ledger/xp?limit=100", ana)).body.rows;
		expect(rows).toHaveLength(2 * total);
		expect(new Set(rows.map((r: any) => r.eventId)).size).toBe(2 * total);
	}, 90_000);

	it("parallel spends through both nodes never overdraw", async () => {
		expect(
			(
				await http("POST", "/api/gamification/awards", admin, {
					userId: "ana",
					currency: "coins",
					amount: 100,
					reason: "seed",
					eventId: "cluster-seed",
				})
			).status,
		).toBe(201);
		const spends = await Promise.all(
			Array.from({ length: 30 }, () => http("POST", "/api/gamification/spend", ana, { currency: "coins", amount: 7, reason: "shop" })),
		);
		const codes = spends.map(s => s.status);
		expect(codes.filter(c => c === 201)).toHaveLength(14);
		expect(codes.filter(c => c === 409)).toHaveLength(16);
		const me = (await http("GET", "/api/gamification/me", ana)).body;
		expect(me.balances.coins).toBe(2);
		const rows = (await http("GET", "/api/gamification/ledger/coins?limit=100", ana)).body.rows;
		expect(rows.map((r: any) => r.sequence)).toEqual(Array.from({ length: 15 }, (_, i) => 15 - i));
		expect(rows.every((r: any) => r.balanceAfter >= 0)).toBe(true);
		// both nodes took part, in the events and in the spends
		const stats = (await Promise.all(
			gamificationNodes.map(id => cluster.observer.call("gamification.stats", {}, { nodeID: `${id}-${cluster.namespace}` })),
		)) as { spends: number; events: number }[];
		process.stderr.write(`engagement cluster: per node ${JSON.stringify(stats)}\n`);
		expect(stats.reduce((n, s) => n + s.spends, 0)).toBe(30);
		expect(stats.every(s => s.spends > 0 && s.events > 0)).toBe(true);
	}, 60_000);
});
