/**
 * Channels over the real NATS JetStream (127.0.0.1:4222): dead letters listed and replayed through
 * the same module the REPL uses, and durability of a message published while its consumer is down.
 * Each test run has its own namespace; its streams are deleted at the end.
 */
import { randomUUID } from "node:crypto";
import { ServiceBroker, type Context, type ServiceSchema } from "moleculer";
import { deleteStreams } from "../helpers/processes";
import { loadConfig } from "../../lib/config";
import { discardDeadLetters, listDeadLetters, replayDeadLetters } from "../../lib/dead-letters";
import { brokerOptions } from "../../moleculer.config";
import { waitFor } from "../helpers/wait";

const NATS_URL = "nats://127.0.0.1:4222";
const namespace = `t${randomUUID().slice(0, 8)}`;

type Sender = { sendToChannel(c: string, p: unknown): Promise<void> };

function makeBroker(nodeID: string, services: ServiceSchema[] = []) {
	const cfg = loadConfig({ ...process.env, NAMESPACE: namespace, TRANSPORTER: NATS_URL });
	const broker = new ServiceBroker({ ...brokerOptions(cfg), logger: false, nodeID, metrics: false });
	for (const s of services) broker.createService(s);
	return broker;
}

describe("channels over NATS JetStream", () => {
	const brokers: ServiceBroker[] = [];
	afterAll(async () => {
		await Promise.all(brokers.map(b => b.stop().catch(() => undefined)));
		await deleteStreams(namespace);
	});

	it("dead-letters a message after maxRetries deliveries; replay after the fix processes it once", async () => {
		const state = { failing: true, calls: 0, processed: [] as number[] };
		const broker = makeBroker(`dl-${randomUUID().slice(0, 6)}`, [
			{
				name: "workers",
				channels: {
					"test.flaky": {
						group: "workers",
						maxRetries: 2,
						deadLettering: { enabled: true },
						async handler(ctx: Context<{ n: number }>) {
							state.calls++;
							if (state.failing) throw new Error("boom");
							state.processed.push(ctx.params.n);
						},
					},
				},
			} as ServiceSchema,
		]);
		brokers.push(broker);
		await broker.start();

		await (broker as unknown as Sender).sendToChannel("test.flaky", { n: 7 });
		const [dl] = (await waitFor(
			async () => {
				const rows = await listDeadLetters(broker);
				return rows.length ? rows : null;
			},
			{ what: "a dead letter in JetStream", timeoutMs: 20_000 },
		))!;
		expect(dl).toMatchObject({ channel: "test.flaky", subject: `${namespace}.test.flaky`, group: "workers", payload: { n: 7 } });
		expect(state.calls).toBe(2); // NATS: redeliveryCount reaches maxRetries
		expect(state.processed).toEqual([]);

		state.failing = false;
		expect(await replayDeadLetters(broker, dl.id)).toEqual({ replayed: [dl.id], missing: [] });
		await waitFor(() => state.processed.length === 1, { what: "the replayed message", timeoutMs: 20_000 });
		expect(state.processed).toEqual([7]);
		expect(await listDeadLetters(broker)).toEqual([]);
		expect(await replayDeadLetters(broker, dl.id)).toEqual({ replayed: [], missing: [dl.id] });

		// A message that can never succeed is discarded instead.
		state.failing = true;
		await (broker as unknown as Sender).sendToChannel("test.flaky", { n: 8 });
		const [poison] = (await waitFor(
			async () => {
				const rows = await listDeadLetters(broker);
				return rows.length ? rows : null;
			},
			{ what: "a second dead letter", timeoutMs: 20_000 },
		))!;
		expect(poison.payload).toEqual({ n: 8 });
		expect(await discardDeadLetters(broker, "all")).toEqual({ discarded: [poison.id], missing: [] });
		expect(await listDeadLetters(broker)).toEqual([]);
	});

	it("lists no dead letters in a namespace that has none (no stream yet)", async () => {
		const cfg = loadConfig({ ...process.env, NAMESPACE: `t${randomUUID().slice(0, 8)}`, TRANSPORTER: NATS_URL });
		const broker = new ServiceBroker({ ...brokerOptions(cfg), logger: false, nodeID: `empty-${randomUUID().slice(0, 6)}`, metrics: false });
		brokers.push(broker);
		await broker.start();
		expect(await listDeadLetters(broker)).toEqual([]);
		expect(await replayDeadLetters(broker, "all")).toEqual({ replayed: [], missing: [] });
	});

	it("delivers a message published while the consumer node was down once it comes back", async () => {
		const processed: string[] = [];
		const consumer = (): ServiceSchema =>
			({
				name: "durable",
				channels: {
					"test.durable": {
						group: "durable",
						async handler(ctx: Context<{ id: string }>) {
							processed.push(ctx.params.id);
						},
					},
				},
			}) as ServiceSchema;
		const consumerNode = `consumer-${randomUUID().slice(0, 6)}`;
		const publisher = makeBroker(`pub-${randomUUID().slice(0, 6)}`);
		brokers.push(publisher);
		await publisher.start();

		// First life of the consumer: creates the stream and its durable consumer group.
		let node = makeBroker(consumerNode, [consumer()]);
		await node.start();
		await (publisher as unknown as Sender).sendToChannel("test.durable", { id: "before" });
		await waitFor(() => processed.includes("before"), { what: "the first message", timeoutMs: 20_000 });
		await node.stop();

		await (publisher as unknown as Sender).sendToChannel("test.durable", { id: "while-down" });

		// Back under another node id, as a restarted pod would be: the durable consumer group is what matters.
		node = makeBroker(`${consumerNode}-again`, [consumer()]);
		brokers.push(node);
		await node.start();
		await waitFor(() => processed.includes("while-down"), { what: "the message sent while down", timeoutMs: 20_000 });
		expect(processed).toEqual(["before", "while-down"]);
	});

	it("starts every node of a group when they all create the group's consumers at once", async () => {
		// fresh channels, so each start creates its consumers; four nodes at once race for each of them
		const channels = Array.from({ length: 8 }, (_, i) => `test.race.${randomUUID().slice(0, 6)}.${i}`);
		const got: string[] = [];
		const nodes = Array.from({ length: 4 }, (_, n) =>
			makeBroker(`race-${n}-${randomUUID().slice(0, 6)}`, [
				{
					name: "racers",
					channels: Object.fromEntries(
						channels.map(c => [c, { group: "racers", handler: (ctx: Context<{ c: string }>) => void got.push(ctx.params.c) }]),
					),
				} as ServiceSchema,
			]),
		);
		brokers.push(...nodes);
		await Promise.all(nodes.map(b => b.start()));
		for (const c of channels) await (nodes[0] as unknown as Sender).sendToChannel(c, { c });
		await waitFor(() => got.length === channels.length, { what: "each channel's message, once", timeoutMs: 15_000 });
		expect(got.sort()).toEqual([...channels].sort());
	});

	it("waits for a service that has no node yet instead of dead-lettering after maxRetries (a node restarting)", async () => {
		const state = { deliveries: 0, booked: [] as number[] };
		const consumer = makeBroker(`wait-c-${randomUUID().slice(0, 6)}`, [
			{
				name: "bookers",
				channels: {
					"test.needs-ledger": {
						group: "bookers",
						maxRetries: 2,
						deadLettering: { enabled: true },
						async handler(ctx: Context<{ n: number }>) {
							state.deliveries++;
							state.booked.push((await ctx.call("ledger.book", ctx.params)) as number);
						},
					},
				},
			} as ServiceSchema,
		]);
		brokers.push(consumer);
		await consumer.start();
		await (consumer as unknown as Sender).sendToChannel("test.needs-ledger", { n: 3 });

		// maxRetries 2 dead-letters after 2 deliveries; the ledger's node is still missing after 5
		await waitFor(() => state.deliveries >= 5, { what: "five failed deliveries", timeoutMs: 20_000 });
		expect(await listDeadLetters(consumer)).toEqual([]);
		const ledgerNode = makeBroker(`wait-l-${randomUUID().slice(0, 6)}`, [
			{ name: "ledger", actions: { book: { visibility: "public", handler: (ctx: Context<{ n: number }>) => ctx.params.n } } } as ServiceSchema,
		]);
		brokers.push(ledgerNode);
		await ledgerNode.start();
		await waitFor(() => state.booked.length === 1, { what: "the message, once the ledger's node runs", timeoutMs: 30_000 });
		expect(state.booked).toEqual([3]);
		expect(await listDeadLetters(consumer)).toEqual([]);
	});
});
