/**
 * The embedded channels adapter: retries, dead letters (list and replay) and maxInFlight, through
 * the project's broker options (the same middleware stack as production, no transporter).
 */
import { randomUUID } from "node:crypto";
import { ServiceBroker, type Context } from "moleculer";
import { loadConfig } from "../../lib/config";
import { discardDeadLetters, listDeadLetters, replayDeadLetters } from "../../lib/dead-letters";
import { replCommands } from "../../lib/repl-commands";
import { brokerOptions } from "../../moleculer.config";
import { waitFor } from "../helpers/wait";

interface Job {
	n: number;
}

function makeBroker() {
	const cfg = loadConfig({ ...process.env, NAMESPACE: `t${randomUUID().slice(0, 8)}`, CHANNELS_RETRY_DELAY_MS: "5" });
	return new ServiceBroker({ ...brokerOptions(cfg), logger: false, nodeID: `chan-${randomUUID().slice(0, 8)}`, metrics: false });
}

describe("embedded channels adapter", () => {
	let broker: ServiceBroker;
	const state = { failing: true, calls: [] as number[], processed: [] as number[], active: 0, peak: 0, gates: [] as (() => void)[] };

	beforeAll(async () => {
		broker = makeBroker();
		broker.createService({
			name: "workers",
			channels: {
				"test.flaky": {
					group: "workers",
					maxRetries: 2,
					deadLettering: { enabled: true },
					async handler(ctx: Context<Job>) {
						state.calls.push(ctx.params.n);
						if (state.failing) throw new Error("boom");
						state.processed.push(ctx.params.n);
					},
				},
				"test.slow": {
					group: "workers",
					maxInFlight: 2,
					async handler() {
						state.active++;
						state.peak = Math.max(state.peak, state.active);
						await new Promise<void>(resolve => state.gates.push(resolve));
						state.active--;
					},
				},
			},
		});
		await broker.start();
	});
	afterAll(() => broker.stop());

	it("retries a failing message maxRetries times, then dead-letters it; replay after the fix processes it once", async () => {
		await (broker as unknown as { sendToChannel(c: string, p: unknown): Promise<void> }).sendToChannel("test.flaky", { n: 1 });

		const [dl] = (await waitFor(
			async () => {
				const rows = await listDeadLetters(broker);
				return rows.length ? rows : null;
			},
			{ what: "a dead letter" },
		))!;
		expect(state.calls).toEqual([1, 1, 1]); // first delivery + 2 retries
		expect(dl).toMatchObject({ channel: "test.flaky", group: "workers", payload: { n: 1 }, attempts: 3, error: "boom" });
		expect(state.processed).toEqual([]);

		state.failing = false;
		const res = await replayDeadLetters(broker, dl.id);
		expect(res).toEqual({ replayed: [dl.id], missing: [] });
		await waitFor(() => state.processed.length === 1, { what: "the replayed message" });
		expect(state.processed).toEqual([1]);
		expect(await listDeadLetters(broker)).toEqual([]);
		expect(await replayDeadLetters(broker, dl.id)).toEqual({ replayed: [], missing: [dl.id] });
	});

	it("replays all dead letters", async () => {
		state.failing = true;
		state.processed = [];
		const send = (broker as unknown as { sendToChannel(c: string, p: unknown): Promise<void> }).sendToChannel.bind(broker);
		await send("test.flaky", { n: 2 });
		await send("test.flaky", { n: 3 });
		await waitFor(async () => (await listDeadLetters(broker)).length === 2, { what: "two dead letters" });
		state.failing = false;
		const res = await replayDeadLetters(broker, "all");
		expect(res.replayed).toHaveLength(2);
		await waitFor(() => state.processed.length === 2, { what: "both replayed" });
		expect(state.processed.sort()).toEqual([2, 3]);
		expect(await listDeadLetters(broker)).toEqual([]);
	});

	it("operators list, replay and discard dead letters with the REPL command", async () => {
		const command = replCommands().find(c => c.command.startsWith("deadletters"))!;
		const out: string[] = [];
		const log = jest.spyOn(console, "log").mockImplementation((...a: unknown[]) => void out.push(a.join(" ")));
		const table = jest.spyOn(console, "table").mockImplementation((rows: unknown) => void out.push(JSON.stringify(rows)));
		try {
			state.failing = true;
			state.processed = [];
			const send = (broker as unknown as { sendToChannel(c: string, p: unknown): Promise<void> }).sendToChannel.bind(broker);
			await send("test.flaky", { n: 4 });
			await send("test.flaky", { n: 5 });
			await waitFor(async () => (await listDeadLetters(broker)).length === 2, { what: "two dead letters" });
			const [first, second] = await listDeadLetters(broker);

			await command.action(broker, {});
			expect(out.pop()).toContain(first.id);

			state.failing = false;
			await command.action(broker, { action: "replay", id: first.id });
			expect(out.pop()).toBe(`Replayed 1 dead letter(s): ${first.id}.`);
			await waitFor(() => state.processed.length === 1, { what: "the replayed message" });

			await command.action(broker, { action: "discard", id: second.id });
			expect(out.pop()).toBe("Discarded 1 dead letter(s).");
			await command.action(broker, {});
			expect(out.pop()).toBe("No dead letters.");
			await command.action(broker, { action: "replay", id: "nope" });
			expect(out.slice(-2)).toEqual(["Replayed 0 dead letter(s).", "Not found: nope"]);
			expect(await discardDeadLetters(broker, "all")).toEqual({ discarded: [], missing: [] });
			expect(state.processed).toEqual([first.payload as { n: number }].map(p => p.n));
		} finally {
			log.mockRestore();
			table.mockRestore();
		}
	});

	it("handles at most maxInFlight messages of a channel at once", async () => {
		const send = (broker as unknown as { sendToChannel(c: string, p: unknown): Promise<void> }).sendToChannel.bind(broker);
		for (let n = 0; n < 6; n++) await send("test.slow", { n });
		let released = 0;
		while (released < 6) {
			await waitFor(() => state.gates.length > 0, { what: "a message in flight" });
			expect(state.active).toBeLessThanOrEqual(2);
			const gate = state.gates.shift()!;
			gate();
			released++;
		}
		await waitFor(() => state.active === 0, { what: "all handled" });
		expect(state.peak).toBe(2);
	});
});
