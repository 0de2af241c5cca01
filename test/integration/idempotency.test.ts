/**
 * The Idempotency middleware on two brokers sharing one Redis (as two nodes do): a key used on one is
 * seen by the other — replayed when the request is the same, 422 when it is not, 409 while it runs —
 * and a 5xx leaves the key free for a retry. A toy service: the middleware is generic.
 */
import { randomUUID } from "node:crypto";
import { ServiceBroker } from "moleculer";
import { resetConfig } from "../../lib/config";
import { IdempotencyKeyInProgressError, IdempotencyKeyReusedError, IdempotencyKeyRequiredError } from "../../lib/errors";
import { brokerOptions } from "../../moleculer.config";
import { waitFor } from "../helpers/wait";

describe("Idempotency middleware across two brokers (Redis)", () => {
	const runs: string[] = [];
	let release: (() => void) | undefined;
	const brokers: ServiceBroker[] = [];
	const user = { id: "u1", tenantId: "t1", roles: ["member"] };
	const call = (b: ServiceBroker, key: string | undefined, params: Record<string, unknown>) =>
		b.call("sends.send", params, { meta: { user, headers: key === undefined ? {} : { "idempotency-key": key } } });

	beforeAll(async () => {
		Object.assign(process.env, { REDIS_URL: "redis://127.0.0.1:6379", NAMESPACE: `idem${randomUUID().slice(0, 8)}` });
		resetConfig();
		for (const name of ["a", "b"]) {
			const broker = new ServiceBroker({ ...brokerOptions(), nodeID: `idem-${name}`, transporter: null });
			broker.createService({
				name: "sends",
				actions: {
					send: {
						idempotencyKey: "required",
						params: {
							to: { type: "string", max: 50 },
							fail: { type: "boolean", optional: true },
							wait: { type: "boolean", optional: true },
						},
						async handler(ctx) {
							runs.push(`${name}:${ctx.params.to}`);
							if (ctx.params.wait) await new Promise<void>(resolve => (release = resolve));
							if (ctx.params.fail) throw new Error("the provider fell over");
							ctx.meta.$statusCode = 202;
							return { sent: ctx.params.to, by: name };
						},
					},
				},
			});
			await broker.start();
			brokers.push(broker);
		}
	});
	afterAll(async () => {
		for (const b of brokers) await b.stop();
	});

	it("a key used on one node is replayed on the other; another request with it is 422; none is 400", async () => {
		const key = randomUUID();
		expect(await call(brokers[0], key, { to: "ada" })).toEqual({ sent: "ada", by: "a" });
		expect(await call(brokers[1], key, { to: "ada" })).toEqual({ sent: "ada", by: "a" });
		expect(runs.filter(r => r.endsWith(":ada"))).toEqual(["a:ada"]);
		await expect(call(brokers[1], key, { to: "grace" })).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
		await expect(call(brokers[1], undefined, { to: "grace" })).rejects.toBeInstanceOf(IdempotencyKeyRequiredError);
	});

	it("a retry on the other node while the first runs is 409; a 5xx stores nothing, so the retry runs", async () => {
		const key = randomUUID();
		const first = call(brokers[0], key, { to: "linus", wait: true });
		await waitFor(() => runs.includes("a:linus"), { what: "the first send running" });
		await expect(call(brokers[1], key, { to: "linus", wait: true })).rejects.toBeInstanceOf(IdempotencyKeyInProgressError);
		release!();
		await first;
		const failing = randomUUID();
		await expect(call(brokers[0], failing, { to: "ken", fail: true })).rejects.toThrow("fell over");
		await expect(call(brokers[1], failing, { to: "ken", fail: true })).rejects.toThrow("fell over");
		expect(runs.filter(r => r.endsWith(":ken"))).toEqual(["a:ken", "b:ken"]);
	});
});
