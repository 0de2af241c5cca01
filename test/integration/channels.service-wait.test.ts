/**
 * A channel handler that calls a service with no live node (restarting, being deployed) waits for it:
 * those failures do not use up `maxRetries`, so the message is handled once the service is back instead of
 * ending in the dead letters. Other failures still count. Embedded adapter, the project's broker options.
 */
import { randomUUID } from "node:crypto";
import { ServiceBroker, type Context, type ServiceSchema } from "moleculer";
import { loadConfig } from "../../lib/config";
import { listDeadLetters } from "../../lib/dead-letters";
import { brokerOptions } from "../../moleculer.config";
import { waitFor } from "../helpers/wait";

type Sender = { sendToChannel(c: string, p: unknown): Promise<void> };

function makeBroker(env: Record<string, string>, state: { deliveries: number; done: number[] }) {
	const cfg = loadConfig({ ...process.env, NAMESPACE: `t${randomUUID().slice(0, 8)}`, CHANNELS_RETRY_DELAY_MS: "5", ...env });
	const broker = new ServiceBroker({ ...brokerOptions(cfg), logger: false, nodeID: `wait-${randomUUID().slice(0, 8)}`, metrics: false });
	broker.createService({
		name: "consumer",
		channels: {
			"test.needs-ledger": {
				group: "consumer",
				maxRetries: 2,
				deadLettering: { enabled: true },
				async handler(ctx: Context<{ n: number }>) {
					state.deliveries++;
					state.done.push((await ctx.call("ledger.book", ctx.params)) as number);
				},
			},
		},
	} as ServiceSchema);
	return broker;
}

// an internal action (not published through the gateway), as services call each other
const ledger: ServiceSchema = { name: "ledger", actions: { book: { visibility: "public", handler: (ctx: Context<{ n: number }>) => ctx.params.n } } };

describe("channel messages wait for an unreachable service", () => {
	let broker: ServiceBroker | undefined;
	afterEach(() => broker?.stop());

	it("handles the message once the service starts, after more failed deliveries than maxRetries allows", async () => {
		const state = { deliveries: 0, done: [] as number[] };
		broker = makeBroker({}, state);
		await broker.start();
		await (broker as unknown as Sender).sendToChannel("test.needs-ledger", { n: 7 });

		// maxRetries 2 would dead-letter after 3 deliveries; the ledger is still missing after 6
		await waitFor(() => state.deliveries >= 6, { what: "six failed deliveries" });
		expect(await listDeadLetters(broker)).toEqual([]);
		broker.createService(ledger);
		await waitFor(() => state.done.length === 1, { what: "the message, once the ledger runs" });
		expect(state.done).toEqual([7]);
		expect(await listDeadLetters(broker)).toEqual([]);
	});

	it("dead-letters after maxRetries once CHANNELS_SERVICE_WAIT_MS is over", async () => {
		const state = { deliveries: 0, done: [] as number[] };
		broker = makeBroker({ CHANNELS_SERVICE_WAIT_MS: "0" }, state);
		await broker.start();
		await (broker as unknown as Sender).sendToChannel("test.needs-ledger", { n: 8 });
		const [dl] = (await waitFor(
			async () => {
				const rows = await listDeadLetters(broker!);
				return rows.length ? rows : null;
			},
			{ what: "the dead letter" },
		))!;
		expect(state.deliveries).toBe(3); // first delivery + maxRetries, as for any other failure
		expect(dl).toMatchObject({ channel: expect.stringMatching(/test\.needs-ledger$/), payload: { n: 8 }, attempts: 3 });
	});
});
