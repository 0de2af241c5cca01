/**
 * The NATS adapter's retry delay: a failed message is NAKed with a delay that doubles with each
 * delivery (the stock adapter NAKs for immediate redelivery). Driven with a stand-in JetStream message.
 */
import { Errors } from "moleculer";
import { NatsChannelAdapter } from "../../lib/channels";

function adapterWithChannel(retryDelayMs: number, failure: () => Error = () => new Error("boom"), serviceWaitMs = 60_000) {
	const adapter = new NatsChannelAdapter({}, { retryDelayMs, serviceWaitMs }) as unknown as Record<string, unknown> & {
		createConsumerHandler(chan: unknown): (err: unknown, msg: unknown) => Promise<void>;
		initChannelActiveMessages(id: string): void;
	};
	adapter.serializer = { deserialize: (b: Buffer) => JSON.parse(b.toString()) };
	adapter.broker = { isMetricsEnabled: () => false };
	adapter.logger = { debug() {}, info() {}, warn() {}, error() {} };
	const chan = {
		id: "c1",
		name: "ns.test",
		group: "g",
		maxRetries: 5,
		deadLettering: { enabled: false },
		unsubscribing: false,
		handler: async () => {
			throw failure();
		},
	};
	adapter.initChannelActiveMessages(chan.id);
	return adapter.createConsumerHandler(chan);
}

const message = (redeliveryCount: number, publishedMsAgo = 1_000) => ({
	seq: redeliveryCount,
	info: { redeliveryCount, timestampNanos: (Date.now() - publishedMsAgo) * 1e6 },
	data: Buffer.from("{}"),
	working: jest.fn(),
	ack: jest.fn(),
	nak: jest.fn(),
});

describe("NATS channels adapter backoff", () => {
	it("NAKs a failed message with a delay doubling per delivery, capped at 30 s", async () => {
		const handle = adapterWithChannel(100);
		const delays: unknown[] = [];
		for (const count of [1, 2, 3, 4]) {
			const msg = message(count);
			const nak = msg.nak;
			await handle(null, msg);
			expect(nak).toHaveBeenCalledTimes(1);
			delays.push(nak.mock.calls[0][0]);
			expect(msg.ack).not.toHaveBeenCalled();
		}
		expect(delays).toEqual([100, 200, 400, 800]);

		const capped = message(4);
		const cappedNak = capped.nak;
		await adapterWithChannel(20_000)(null, capped);
		expect(cappedNak.mock.calls[0][0]).toBe(30_000);
	});

	it("acknowledges (drops or dead-letters) once the deliveries reach maxRetries", async () => {
		const msg = message(5);
		const nak = msg.nak;
		await adapterWithChannel(100)(null, msg);
		expect(nak).not.toHaveBeenCalled();
		expect(msg.ack).toHaveBeenCalledTimes(1);
	});

	it("keeps NAKing a message whose handler finds no node of a service it calls, past maxRetries, until the wait is over", async () => {
		const unreachable = () => new Errors.ServiceNotAvailableError({ action: "ledger.book", nodeID: "n1" });
		const waiting = message(9, 5_000);
		const waitingNak = waiting.nak;
		await adapterWithChannel(100, unreachable, 60_000)(null, waiting);
		expect(waitingNak).toHaveBeenCalledTimes(1);
		expect(waitingNak.mock.calls[0][0]).toBe(25_600); // the same backoff: 100 ms doubling per delivery

		const late = message(9, 61_000);
		const lateNak = late.nak;
		await adapterWithChannel(100, unreachable, 60_000)(null, late);
		expect(lateNak).not.toHaveBeenCalled();
		expect(late.ack).toHaveBeenCalledTimes(1); // counted like any failure: dropped or dead-lettered
	});
});
