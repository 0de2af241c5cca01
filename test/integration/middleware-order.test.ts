/**
 * What the order of the broker's middlewares (moleculer.config.ts) promises: a timeout counts as a
 * failure for the circuit breaker; cache hits count as successes for it; a cached answer still goes
 * through the access check.
 */
import { Errors, type Context } from "moleculer";
import { startPlatform, type Platform } from "../helpers/platform";

const state = { failing: false, handled: 0 };
const flaky = {
	name: "flaky",
	actions: {
		read: {
			visibility: "public",
			cache: { keys: ["id"] },
			params: { id: "number" },
			handler(ctx: Context<{ id: number }>) {
				state.handled++;
				if (state.failing) throw new Errors.MoleculerServerError("down", 500, "DOWN");
				return { id: ctx.params.id, at: state.handled };
			},
		},
		mine: {
			auth: "required",
			visibility: "published",
			cache: { keys: ["id"] },
			params: { id: "number" },
			handler: (ctx: Context<{ id: number }>) => ({ secret: ctx.params.id }),
		},
		hang: {
			visibility: "public",
			params: {},
			handler: () => new Promise(resolve => setTimeout(resolve, 2000).unref()),
		},
	},
};

describe("middleware order", () => {
	let p: Platform;
	beforeAll(async () => {
		p = await startPlatform({ gateway: false, extra: [flaky as never], env: { REQUEST_TIMEOUT_MS: "150", RETRIES: "0" } });
	});
	afterAll(() => p.stop());

	it("counts timeouts as failures: the breaker opens after enough of them (the endpoint is then unavailable)", async () => {
		const results = await Promise.all(Array.from({ length: 20 }, () => p.broker.call("flaky.hang").catch((e: Error) => e.name)));
		expect(results.every(r => r === "RequestTimeoutError")).toBe(true);
		const started = Date.now();
		await expect(p.broker.call("flaky.hang")).rejects.toMatchObject({ name: "ServiceNotAvailableError" });
		expect(Date.now() - started).toBeLessThan(100);
	});

	it("counts cache hits as successes: misses failing behind mostly cached answers do not open the breaker", async () => {
		state.failing = false;
		const cached = await p.broker.call("flaky.read", { id: 1 });
		state.failing = true;
		let failed = 0;
		for (let round = 0; round < 25; round++) {
			for (let i = 0; i < 10; i++) await expect(p.broker.call("flaky.read", { id: 1 })).resolves.toEqual(cached);
			const err = (await p.broker.call("flaky.read", { id: 100 + round }).catch((e: Error) => e)) as { code: number };
			expect(err).toMatchObject({ code: 500 });
			failed++;
		}
		expect(failed).toBe(25);
		await expect(p.broker.call("flaky.read", { id: 1 })).resolves.toEqual(cached);
	});

	it("checks access before the cache answers", async () => {
		const user = { id: "u1", tenantId: null, roles: [] };
		await expect(p.broker.call("flaky.mine", { id: 7 }, { meta: { user } })).resolves.toEqual({ secret: 7 });
		await expect(p.broker.call("flaky.mine", { id: 7 }, { meta: { user: null } })).rejects.toMatchObject({ code: 401 });
	});
});
