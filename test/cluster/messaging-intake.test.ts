/**
 * Messaging intake and processing as a real cluster (NATS transit + JetStream channels, Redis): one node
 * takes Meta's webhooks (gateway and the messaging stores), two nodes process them (messagingprocessor
 * and messaginggraph, sharing the `messaging.inbound` group). 1,100 signed deliveries, of which 100 repeat
 * earlier ones (some at the same moment as the original), must store exactly 1,000 messages, each once,
 * with both processing nodes taking part; every customer gets the profile the fake Graph API serves. Then
 * one processing node is SIGKILLed mid-burst: every message still arrives, each once. Last, the intake
 * node itself is SIGKILLed mid-burst and started again on its files: the sender retries what was not
 * answered 200, as Meta does, and every message is stored once.
 */
import { randomUUID } from "node:crypto";
import { startCluster, type Cluster } from "../helpers/cluster";
import { startFakeGraph, type FakeGraph } from "../helpers/fake-graph";
import { messengerText, signBody } from "../helpers/meta-payloads";
import { deleteStreams, freePort } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

const SECRET = "cluster-app-secret-0001";
const CUSTOMERS = 50;
const MESSAGES = 1000;
const REPEATS = 100;

describe("messaging: intake on one node, processing on two (NATS + Redis)", () => {
	let cluster: Cluster;
	let graph: FakeGraph;
	let port: number;
	let token: string;
	let appId: string;
	const pageId = `PAGE-${randomUUID().slice(0, 8)}`;
	const processors = ["proc-1", "proc-2"];

	const http = async (method: string, path: string, body?: unknown) => {
		const res = await fetch(`http://127.0.0.1:${port}${path}`, {
			method,
			headers: { authorization: `Bearer ${token}`, ...(body !== undefined && { "content-type": "application/json" }) },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		return { status: res.status, body: (await res.json()) as any };
	};
	const deliver = async (raw: string) => {
		const res = await fetch(`http://127.0.0.1:${port}/api/messaging/webhooks/${appId}`, {
			method: "POST",
			headers: { "content-type": "application/json", "x-hub-signature-256": signBody(raw, SECRET) },
			body: raw,
		});
		await res.arrayBuffer();
		return res.status;
	};

	const INTAKE_SERVICES = "gateway,messagingapps,messagingwebhooks,messagingcustomers,messagingconversations,messagingmessages";
	// the stores on files (NODE_ENV=test would keep them in memory): the intake node is started again on them
	const startIntake = () => cluster.node(INTAKE_SERVICES, { PORT: String(port), NODE_ID: `intake-${cluster.namespace}`, DB_DRIVER: "nedb" });
	/** Meta's way: a delivery not answered 200 (or not answered at all) is sent again, with a backoff. */
	const deliverUntilAccepted = async (raw: string) => {
		const deadline = Date.now() + 90_000;
		for (let wait = 100; ; wait = Math.min(wait * 2, 2000)) {
			const status = await deliver(raw).catch(() => 0);
			if (status === 200) return;
			if (Date.now() > deadline) throw new Error(`a delivery was not accepted within 90 s (last status ${status})`);
			await new Promise(r => setTimeout(r, wait));
		}
	};

	/**
	 * Waits until the 10 conversations whose last message starts with `prefix` count `total` unread, then
	 * the texts of their messages: every one stored, none twice. `onTimeout` adds what to show.
	 */
	const expectEveryMessageOnce = async (prefix: string, total: number, what: string, onTimeout = () => "") => {
		let seen = "";
		const conversations = await waitFor(
			async () => {
				const items = (await http("GET", "/api/messaging/conversations?limit=100")).body.items as {
					id: string;
					unreadCount: number;
					lastMessage: { text: string };
				}[];
				const mine = items.filter(c => c.lastMessage?.text.startsWith(prefix));
				const unread = mine.reduce((s, c) => s + c.unreadCount, 0);
				seen = `${mine.length} conversations, ${unread} unread`;
				return mine.length === 10 && unread === total ? mine : null;
			},
			{ what, timeoutMs: 120_000, intervalMs: 1000 },
		).catch(err => {
			throw new Error(`${(err as Error).message} (last seen: ${seen})\n${onTimeout()}`);
		});
		const texts: string[] = [];
		for (const c of conversations!)
			texts.push(
				...(await http("GET", `/api/messaging/conversations/${c.id}/messages?limit=100`)).body.items.map((m: { text: string }) => m.text),
			);
		expect(texts).toHaveLength(total);
		expect(new Set(texts).size).toBe(total);
	};

	beforeAll(async () => {
		graph = await startFakeGraph();
		for (let c = 0; c < CUSTOMERS; c++)
			graph.profiles.set(`psid-${c}`, { first_name: `Customer`, last_name: String(c), profile_pic: `https://cdn.example/${c}.jpg` });
		cluster = await startCluster({
			NODE_ENV: "test",
			RATE_LIMIT_MAX: "100000",
			REQUEST_TIMEOUT_MS: "15000",
			GRAPH_API_URL: graph.baseUrl,
			GRAPH_RETRY_DELAY_MS: "50",
		});
		port = await freePort();
		startIntake();
		for (const id of processors) cluster.node("messagingprocessor,messaginggraph", { PORT: "0", NODE_ID: `${id}-${cluster.namespace}` });
		await waitFor(
			() =>
				cluster.nodesOf("messagingprocessor").length === 2 &&
				cluster.nodesOf("messagingmessages").length === 1 &&
				cluster.nodesOf("api").length === 1,
			{
				what: "the intake node and two processing nodes",
				timeoutMs: 60_000,
				intervalMs: 200,
			},
		).catch(err => {
			throw new Error(`${err.message}\n${cluster.procs.map(p => p.output()).join("\n---\n")}`);
		});
		token = cluster.token({ sub: "owner", tid: `tenant-${cluster.namespace}`, roles: ["admin"] });
		const app = await waitFor(
			async () => {
				const res = await http("POST", "/api/messaging/apps", {
					name: "Cluster shop",
					appId: "42",
					appSecret: SECRET,
					verifyToken: "cluster-verify",
					channels: [{ kind: "messenger", pageId, accessToken: "cluster-page-token" }],
				});
				return res.status === 201 && res.body;
			},
			{ what: "the apps route", timeoutMs: 20_000, intervalMs: 200 },
		);
		appId = app.id;
	}, 90_000);

	afterAll(async () => {
		await cluster?.stop();
		await graph?.close();
		if (cluster) await deleteStreams(cluster.namespace);
	}, 30_000);

	it("stores exactly 1,000 messages from 1,100 deliveries of which 100 repeat", async () => {
		const bodies = Array.from({ length: MESSAGES }, (_, i) =>
			JSON.stringify(messengerText(pageId, `psid-${i % CUSTOMERS}`, `m_cluster_${i}`, `message ${i}`, Date.now() + i)),
		);
		// repeats of earlier deliveries, mixed in: each goes out right after its original or later
		const order: number[] = [...bodies.keys()];
		for (let r = 0; r < REPEATS; r++) {
			const original = (r * 7) % MESSAGES;
			order.splice(order.indexOf(original) + 1 + (r % 5) * 40, 0, original);
		}
		expect(order).toHaveLength(MESSAGES + REPEATS);
		const statuses: number[] = [];
		const queue = [...order];
		await Promise.all(
			Array.from({ length: 16 }, async () => {
				for (let i = queue.shift(); i !== undefined; i = queue.shift()) statuses.push(await deliver(bodies[i]));
			}),
		);
		expect(statuses.filter(s => s !== 200)).toEqual([]);

		const conversations = await waitFor(
			async () => {
				const res = await http("GET", "/api/messaging/conversations?limit=100");
				const items = res.body.items as { id: string; unreadCount: number }[];
				return items.length === CUSTOMERS && items.reduce((s, c) => s + c.unreadCount, 0) === MESSAGES ? items : null;
			},
			{ what: "1,000 messages in 50 conversations", timeoutMs: 90_000, intervalMs: 500 },
		);

		const texts: string[] = [];
		for (const c of conversations!) {
			const res = await http("GET", `/api/messaging/conversations/${c.id}/messages?limit=100`);
			texts.push(...res.body.items.map((m: { text: string }) => m.text));
		}
		expect(texts).toHaveLength(MESSAGES);
		expect(new Set(texts).size).toBe(MESSAGES);

		const stats = (await Promise.all(
			cluster.nodesOf("messagingprocessor").map(nodeID => cluster.observer.call("messagingprocessor.stats", {}, { nodeID })),
		)) as { messages: number; duplicates: number }[];
		process.stderr.write(`messaging cluster: messages per processing node ${JSON.stringify(stats)}\n`);
		expect(stats.reduce((s, x) => s + x.messages, 0)).toBe(MESSAGES);
		expect(stats.every(s => s.messages > 0)).toBe(true);

		// the profiles came from Graph through the processing nodes
		await waitFor(
			async () => {
				const res = await http("GET", "/api/messaging/customers?pageSize=100");
				return (
					res.body.total === CUSTOMERS &&
					res.body.rows.every(
						(c: { profileStatus: string; name: string }) => c.profileStatus === "fetched" && c.name.startsWith("Customer "),
					)
				);
			},
			{ what: "every profile fetched", timeoutMs: 30_000, intervalMs: 500 },
		);
	}, 240_000);

	it("loses no message and stores none twice when a processing node is killed mid-burst", async () => {
		const total = 300;
		const bodies = Array.from({ length: total }, (_, i) =>
			JSON.stringify(messengerText(pageId, `kill-psid-${i % 10}`, `m_kill_${i}`, `kill message ${i}`, Date.now() + i)),
		);
		const victim = cluster.procs[1]; // proc-1 (procs[0] is the intake node)
		const statuses: number[] = [];
		const queue = [...bodies.keys()];
		await Promise.all(
			Array.from({ length: 8 }, async () => {
				for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
					if (i === 100) victim.kill("SIGKILL");
					statuses.push(await deliver(bodies[i]));
				}
			}),
		);
		expect(statuses.filter(s => s !== 200)).toEqual([]);
		await victim.exited;
		// what the dead node held unacknowledged comes back to the other one after JetStream's ack wait (30 s)
		await expectEveryMessageOnce("kill message", total, "300 messages after the kill");
	}, 240_000);

	it("loses no message and stores none twice when the intake node is killed mid-burst and started again", async () => {
		const total = 300;
		const bodies = Array.from({ length: total }, (_, i) =>
			JSON.stringify(messengerText(pageId, `intake-psid-${i % 10}`, `m_intake_${i}`, `intake message ${i}`, Date.now() + i)),
		);
		const victim = cluster.procs[0]; // the intake node: gateway and the messaging stores
		let restarted: Promise<void> | undefined;
		const queue = [...bodies.keys()];
		const nodeOutput = () => cluster.procs.at(-1)!.output().slice(-4000);
		await Promise.all(
			Array.from({ length: 8 }, async () => {
				for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
					if (i === 100)
						restarted = (async () => {
							victim.kill("SIGKILL");
							await victim.exited;
							startIntake();
						})();
					await deliverUntilAccepted(bodies[i]);
				}
			}),
		).catch(err => {
			throw new Error(`${(err as Error).message}\n${nodeOutput()}`);
		});
		await restarted;
		await expectEveryMessageOnce("intake message", total, "300 messages after the intake node's restart", nodeOutput);
	}, 240_000);
});
