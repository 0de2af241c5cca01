/**
 * A delayed embedded job never runs before it is due, even when Date.now() reads a little behind the
 * monotonic clock Node's timers run on (a wall clock stepped back, or the two clocks' rounding: a timer
 * fired 1 ms early in a CI run and the job ran 1 ms before its time). The engine's timer then re-arms
 * for the rest instead of calling the job ready.
 */
import { ServiceBroker } from "moleculer";
import { MemoryJobEngine } from "../../services/platform/jobs/memory-engine";
import { waitFor } from "../helpers/wait";

describe("embedded engine: a delayed job and a wall clock behind the timers", () => {
	const broker = new ServiceBroker({ logger: false, nodeID: "jobs-delay-clock" });
	const engine = new MemoryJobEngine("jobs-delay-clock", 60_000);
	const realNow = Date.now.bind(Date);
	let lagMs = 0;

	beforeAll(async () => {
		await broker.start();
		await engine.open(broker);
		jest.spyOn(Date, "now").mockImplementation(() => realNow() - lagMs);
	});
	afterAll(async () => {
		jest.restoreAllMocks();
		await engine.close();
		await broker.stop();
	});

	it("runs the job only once Date.now() has reached its due time", async () => {
		const ran: number[] = [];
		await engine.work("test.delayed", 1, async () => {
			ran.push(Date.now());
			return null;
		});
		const delayMs = 40;
		const record = await engine.enqueue({
			type: "test.delayed",
			tenantId: null,
			payload: {},
			delayMs,
			attempts: 1,
			backoff: { delayMs: 10, maxDelayMs: 10, jitter: 0 },
			timeoutMs: 5_000,
		});
		const dueAt = Date.parse(record.createdAt) + delayMs;
		// the wall clock falls 15 ms behind once the timer is armed: it fires while Date.now() still reads dueAt - 15
		lagMs = 15;
		await waitFor(async () => (await engine.get(record.id))?.status === "completed", { what: "the delayed job to complete" });
		expect(ran).toHaveLength(1);
		expect(ran[0]).toBeGreaterThanOrEqual(dueAt);
	});
});
