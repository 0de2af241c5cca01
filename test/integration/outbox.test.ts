/**
 * The outbox mixin (mixins/outbox.mixin.ts): an event the channel refuses stays pending and the relay
 * delivers it once the channel works again; a restarted service (same DATA_DIR, NeDB files) relays what
 * was pending when it stopped. The channel fails at the edge: the embedded adapter's `publish` rejects.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { ServiceBroker, type Context, type ServiceSchema } from "moleculer";
import { config, resetConfig } from "../../lib/config";
import { OutboxMixin, type OutboxMethods, type OutboxRow } from "../../mixins/outbox.mixin";
import type { Collection } from "../../mixins/collection";
import { brokerOptions } from "../../moleculer.config";
import { waitFor } from "../helpers/wait";

type Publisher = OutboxMethods & { outbox: Collection<OutboxRow> };
interface Adapter {
	publish(name: string, payload: unknown, opts?: unknown): Promise<void>;
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-outbox-"));
const namespace = `t${randomUUID().slice(0, 8)}`;
const received: Record<string, unknown>[] = [];

function makeBroker(): ServiceBroker {
	Object.assign(process.env, {
		DB_DRIVER: "nedb",
		DATA_DIR: dataDir,
		NAMESPACE: namespace,
		OUTBOX_RELAY_INTERVAL_MS: "50",
		CHANNELS_RETRY_DELAY_MS: "5",
	});
	resetConfig();
	const broker = new ServiceBroker({ ...brokerOptions(config()), logger: false, metrics: false, nodeID: `outbox-${randomUUID().slice(0, 8)}` });
	broker.createService({ name: "things", mixins: [OutboxMixin({ collection: "things_outbox" })] } as ServiceSchema);
	broker.createService({
		name: "watchers",
		channels: {
			"things.happened": {
				group: "watchers",
				async handler(ctx: Context<Record<string, unknown>>) {
					received.push(ctx.params);
				},
			},
		},
	} as ServiceSchema);
	return broker;
}

const things = (broker: ServiceBroker) => broker.getLocalService("things") as unknown as Publisher;
const adapterOf = (broker: ServiceBroker) => (broker as unknown as { channelAdapter: Adapter }).channelAdapter;
const pending = (broker: ServiceBroker) => things(broker).outbox.find({ status: { $ne: "sent" } }, { sort: ["seq"] });

describe("outbox mixin", () => {
	const saved = { ...process.env };
	afterAll(() => {
		process.env = saved;
		resetConfig();
		fs.rmSync(dataDir, { recursive: true, force: true });
	});

	it("sends at once when the channel works, and marks the row sent", async () => {
		const broker = makeBroker();
		await broker.start();
		try {
			await things(broker).publishEvent("things.happened", { n: 0 });
			await waitFor(async () => received.some(e => e.n === 0) || undefined);
			const [row] = await things(broker).outbox.find({});
			expect(row).toMatchObject({ channel: "things.happened", status: "sent" });
			expect(row.payload).toMatchObject({ n: 0, eventId: expect.any(String), at: expect.any(String) });
			expect(received.find(e => e.n === 0)).toEqual(row.payload);
		} finally {
			await broker.stop();
		}
	});

	it("keeps a refused event pending, never fails the caller, and relays it in order once the channel works", async () => {
		const broker = makeBroker();
		await broker.start();
		try {
			const adapter = adapterOf(broker);
			const spy = jest.spyOn(adapter, "publish").mockRejectedValue(new Error("JetStream unavailable"));
			await expect(things(broker).publishEvent("things.happened", { n: 1 })).resolves.toBeUndefined();
			await expect(things(broker).publishEvent("things.happened", { n: 2 })).resolves.toBeUndefined();
			expect((await pending(broker)).map(r => r.payload.n)).toEqual([1, 2]);
			await new Promise(resolve => setTimeout(resolve, 200)); // a few relay rounds, all refused
			expect((await pending(broker)).map(r => r.payload.n)).toEqual([1, 2]);
			expect(received.some(e => e.n === 1 || e.n === 2)).toBe(false);

			spy.mockRestore(); // the channel is back
			await waitFor(async () => ((await pending(broker)).length === 0 ? true : undefined), { timeoutMs: 5000 });
			await waitFor(async () => (received.filter(e => e.n === 1 || e.n === 2).length === 2 ? true : undefined));
			expect(received.filter(e => e.n === 1 || e.n === 2).map(e => e.n)).toEqual([1, 2]);
		} finally {
			await broker.stop();
		}
	});

	it("a failing channel holds only its own events; a channel no stream captures (NATS 503) is not retried", async () => {
		const broker = makeBroker();
		await broker.start();
		try {
			const adapter = adapterOf(broker);
			const publish = adapter.publish.bind(adapter);
			const spy = jest.spyOn(adapter, "publish").mockImplementation((name, payload, o) => {
				if (name.endsWith("things.broken")) return Promise.reject(new Error("refused"));
				if (name.endsWith("things.nobody")) return Promise.reject(Object.assign(new Error("503"), { code: "503" }));
				return publish(name, payload, o);
			});
			await things(broker).publishEvent("things.broken", { n: 10 });
			await things(broker).publishEvent("things.nobody", { n: 11 });
			await things(broker).publishEvent("things.happened", { n: 12 });
			await waitFor(async () => (received.some(e => e.n === 12) ? true : undefined));
			expect((await pending(broker)).map(r => r.channel)).toEqual(["things.broken"]);
			expect(await things(broker).outbox.findOne({ "payload.n": 11 })).toMatchObject({ status: "sent", noStream: true });
			await waitFor(async () => ((await pending(broker))[0]?.attempts ?? 0) >= 1 || undefined);
			spy.mockRestore();
			await waitFor(async () => ((await pending(broker)).length === 0 ? true : undefined), { timeoutMs: 5000 });
		} finally {
			await broker.stop();
		}
	});

	it("a restarted service (same DATA_DIR) relays what was pending when it stopped", async () => {
		let broker = makeBroker();
		await broker.start();
		const spy = jest.spyOn(adapterOf(broker), "publish").mockRejectedValue(new Error("JetStream unavailable"));
		await things(broker).publishEvent("things.happened", { n: 3 });
		const [row] = await pending(broker);
		expect(row.payload.n).toBe(3);
		await broker.stop();
		spy.mockRestore();
		expect(received.some(e => e.n === 3)).toBe(false);

		broker = makeBroker();
		await broker.start();
		try {
			await waitFor(async () => (received.some(e => e.n === 3) ? true : undefined), { timeoutMs: 5000 });
			expect(received.filter(e => e.n === 3)).toEqual([row.payload]); // same event, same eventId, once
			expect(await pending(broker)).toEqual([]);
		} finally {
			await broker.stop();
		}
	});
});
