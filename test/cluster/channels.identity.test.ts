/**
 * The identity services over the real NATS (transit and JetStream): `users` and the gateway on one
 * node, `activity` on another. A follow made over HTTP reaches the other node's log through the
 * channel; while the activity node is down, messages wait in JetStream and are recorded once it is back.
 */
import { randomUUID } from "node:crypto";
import { ServiceBroker } from "moleculer";
import { deleteStreams } from "../helpers/processes";
import { config } from "../../lib/config";
import { brokerOptions } from "../../moleculer.config";
import { selectServices } from "../../services/catalog";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const NATS_URL = "nats://127.0.0.1:4222";

describe("identity channels across nodes over NATS", () => {
	let p: Platform;
	let namespace: string;
	const activityNodeID = `activity-${randomUUID().slice(0, 6)}`;
	let activityNode: ServiceBroker | undefined;
	const uid = () => `u${randomUUID().replace(/-/g, "").slice(0, 16)}`;
	const tokenOf = (id: string) => p.token({ sub: id, tid: null as unknown as string, roles: [] });

	async function startActivityNode() {
		const node = new ServiceBroker({ ...brokerOptions(config()), logger: false, nodeID: activityNodeID, metrics: false });
		for (const f of selectServices("activity")) node.loadService(f.file);
		await node.start();
		return node;
	}

	beforeAll(async () => {
		p = await startPlatform({ services: ["users"], env: { TRANSPORTER: NATS_URL, CHANNELS_RETRY_DELAY_MS: "20" } });
		namespace = config().NAMESPACE;
		activityNode = await startActivityNode();
		await p.broker.waitForServices(["activity"], 10_000);
	});

	afterAll(async () => {
		await activityNode?.stop();
		await p?.stop();
		await deleteStreams(namespace);
	});

	const activityOf = async (id: string) => {
		const res = await p.http("GET", "/api/users/me/activity", { token: tokenOf(id) });
		return res.status === 200 ? (res.body as { total: number; rows: { type: string; eventId: string }[] }) : null;
	};

	it("records a follow made on one node in the activity log on another", async () => {
		const [ana, bo] = [uid(), uid()];
		await p.broker.call("users.createProfile", { id: ana, email: `${ana}@example.test`, name: "Ana" });
		await p.broker.call("users.createProfile", { id: bo, email: `${bo}@example.test`, name: "Bo" });
		expect((await p.http("POST", `/api/users/${bo}/follow`, { token: tokenOf(ana) })).status).toBe(200);
		await waitFor(async () => (await activityOf(bo))?.total === 2, { what: "Bo's registration and follower entries", timeoutMs: 20_000 });
		expect((await activityOf(bo))!.rows.map(r => r.type)).toEqual(["users.followed", "users.registered"]);
	});

	it("keeps messages while the activity node is down and records them once it is back", async () => {
		const [cy, di] = [uid(), uid()];
		await activityNode!.stop();
		await waitFor(() => !p.broker.registry.getServiceList({ onlyAvailable: true }).some((s: { name: string }) => s.name === "activity"), {
			what: "the activity node to leave",
		});

		await p.broker.call("users.createProfile", { id: cy, email: `${cy}@example.test`, name: "Cy" });
		await p.broker.call("users.createProfile", { id: di, email: `${di}@example.test`, name: "Di" });
		expect((await p.http("POST", `/api/users/${di}/follow`, { token: tokenOf(cy) })).status).toBe(200);

		activityNode = await startActivityNode();
		await waitFor(async () => (await activityOf(cy))?.total === 2 && (await activityOf(di))?.total === 2, {
			what: "the messages sent while the node was down",
			timeoutMs: 20_000,
		});
		const cyLog = (await activityOf(cy))!;
		expect(cyLog.rows.map(r => r.type)).toEqual(["users.followed", "users.registered"]);
	});
});
