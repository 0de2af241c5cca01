/**
 * A node that re-announces itself (a second after start-up, after a reconnect, when a local service
 * comes or goes) keeps receiving its balanced requests: none is dropped while its NATS queue
 * subscriptions are reconciled. Stock Moleculer unsubscribes and resubscribes them all, and requests in
 * that gap wait out the request timeout (this is what made CI's CRM cluster test time out under load).
 */
import { randomUUID } from "node:crypto";
import { ServiceBroker } from "moleculer";
import { StableNatsTransporter } from "../../lib/nats-transporter";
import { waitFor } from "../helpers/wait";

const NATS = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";

describe("balanced NATS subscriptions across re-announcements", () => {
	const namespace = `rs${randomUUID().slice(0, 8)}`;
	const node = (nodeID: string) =>
		new ServiceBroker({
			namespace,
			nodeID,
			transporter: new StableNatsTransporter({ url: NATS }) as never,
			disableBalancer: true,
			logger: false,
			requestTimeout: 1500,
			retryPolicy: { enabled: false },
		});
	const server = node(`server-${namespace}`);
	const client = node(`client-${namespace}`);
	let served = 0;

	beforeAll(async () => {
		server.createService({
			name: "echo",
			actions: { ping: (ctx: { params: { i: number } }) => (served++, { i: ctx.params.i }) },
			events: { "echo.poked": () => undefined },
		});
		await Promise.all([server.start(), client.start()]);
		await waitFor(() => client.registry.getServiceList({}).some((s: { name: string }) => s.name === "echo"), { what: "the echo service" });
	});
	afterAll(() => Promise.all([client.stop(), server.stop()]));

	it("answers every request while the serving node re-announces itself again and again", async () => {
		const announce = server.registry.discoverer as unknown as { sendLocalNodeInfo(): Promise<void> };
		const calls: Promise<unknown>[] = [];
		for (let round = 0; round < 20; round++) {
			for (let i = 0; i < 25; i++) calls.push(client.call("echo.ping", { i: round * 25 + i }));
			await announce.sendLocalNodeInfo();
		}
		const results = await Promise.allSettled(calls);
		const failed = results.filter(r => r.status === "rejected").map(r => String((r as PromiseRejectedResult).reason?.name));
		expect(failed).toEqual([]);
		expect(served).toBe(500);
	}, 30_000);

	it("drops the queue subscriptions of a service that stops, and only those", async () => {
		const tx = server.transit!.tx as unknown as { subscriptions: unknown[] };
		const before = tx.subscriptions.length;
		const kept = [...tx.subscriptions];
		const extra = server.createService({ name: "extra", actions: { hi: () => "hi" } });
		await waitFor(() => tx.subscriptions.length === before + 1, { what: "the new action's queue subscription" });
		expect(tx.subscriptions.slice(0, before)).toEqual(kept); // the old ones were kept, not recreated
		await server.destroyService(extra);
		await waitFor(() => tx.subscriptions.length === before, { what: "the stopped service's subscription to go" });
		expect(tx.subscriptions).toEqual(kept);
		expect(await client.call("echo.ping", { i: 1 })).toEqual({ i: 1 });
	});
});
