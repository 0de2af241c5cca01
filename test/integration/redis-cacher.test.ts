/**
 * The Redis cacher never fails or hangs a request: with Redis frozen (SIGSTOP) or gone, cached
 * actions fall back to their handler, and caching resumes when Redis is back.
 */
import { ServiceBroker } from "moleculer";
import { resetConfig } from "../../lib/config";
import { brokerOptions } from "../../moleculer.config";
import GreeterService from "../../services/sample/greeter.service";
import { startRedis, type Proc } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

describe("Redis cacher under Redis failures", () => {
	let redis: Proc & { url: string };
	let broker: ServiceBroker;
	const served = async () => ((await broker.call("greeter.stats")) as { served: number }).served;

	beforeAll(async () => {
		redis = await startRedis();
		Object.assign(process.env, { CACHER: redis.url, CACHE_TIMEOUT_MS: "200", REQUEST_TIMEOUT_MS: "3000", RETRIES: "0" });
		resetConfig();
		broker = new ServiceBroker({ ...brokerOptions(), logger: false });
		broker.createService(GreeterService);
		let value = "v1";
		broker.createService({
			name: "setting",
			actions: {
				read: { visibility: "public", cache: { keys: [] }, handler: () => ({ value }) },
				write: {
					visibility: "public",
					params: { value: "string|max:200" },
					async handler(ctx) {
						value = ctx.params.value;
						await this.broker.cacher?.clean("setting.**");
						return { value };
					},
				},
			},
		});
		await broker.start();
		await waitFor(() => (broker.cacher as unknown as { connected: boolean }).connected, { what: "cacher connected" });
	});
	afterAll(async () => {
		redis.kill("SIGCONT");
		await broker.stop();
		redis.kill("SIGKILL");
		delete process.env.CACHER;
	});

	it("serves repeated reads from Redis", async () => {
		await broker.call("greeter.welcome", { name: "ann" });
		const before = await served();
		await broker.call("greeter.welcome", { name: "ann" });
		expect(await served()).toBe(before);
	});

	it("answers from the handler while Redis is frozen, then caches again once it thaws", async () => {
		redis.kill("SIGSTOP");
		try {
			const before = await served();
			// Each call would time out (REQUEST_TIMEOUT_MS) if the cacher waited for the frozen Redis.
			for (let i = 0; i < 5; i++) await expect(broker.call("greeter.welcome", { name: "bob" })).resolves.toEqual({ message: "Welcome, bob!" });
			expect(await served()).toBeGreaterThan(before);
		} finally {
			redis.kill("SIGCONT");
		}
		await waitFor(
			async () => {
				await broker.call("greeter.welcome", { name: "cid" });
				const n = await served();
				await broker.call("greeter.welcome", { name: "cid" });
				return (await served()) === n;
			},
			{ what: "caching to resume", timeoutMs: 15_000, intervalMs: 200 },
		);
	});

	it("never serves a value whose invalidation was missed during an outage", async () => {
		await broker.call("setting.read");
		expect(await broker.call("setting.read")).toEqual({ value: "v1" });
		redis.kill("SIGSTOP");
		try {
			await broker.call("setting.write", { value: "v2" });
		} finally {
			redis.kill("SIGCONT");
		}
		await waitFor(() => (broker.cacher as unknown as { connected: boolean }).connected, { what: "cacher back", timeoutMs: 15_000 });
		for (let i = 0; i < 3; i++) expect(await broker.call("setting.read")).toEqual({ value: "v2" });
	});

	it("answers from the handler when Redis is gone", async () => {
		redis.kill("SIGKILL");
		await redis.exited;
		for (let i = 0; i < 3; i++) await expect(broker.call("greeter.welcome", { name: "dee" })).resolves.toEqual({ message: "Welcome, dee!" });
	});
});
