/** Every local action runs inside its request's context, nested calls included, without a context per call. */
import { ServiceBroker, type Context } from "moleculer";
import { currentRequestID } from "../../lib/request-context";
import { ConventionsMiddleware } from "../../middlewares/conventions.middleware";

describe("request context of local actions", () => {
	const broker = new ServiceBroker({ logger: false, middlewares: [ConventionsMiddleware] });
	broker.createService({
		name: "ctx",
		actions: {
			inner: { handler: () => currentRequestID() ?? null },
			outer: {
				async handler(ctx: Context<{ other?: string }>) {
					const before = currentRequestID();
					const nested = await ctx.call("ctx.inner");
					// a call that names another request id gets that id, nested or not
					const other = ctx.params.other ? await ctx.call("ctx.inner", {}, { requestID: ctx.params.other, parentCtx: undefined }) : null;
					const standalone = ctx.params.other ? await broker.call("ctx.inner", {}, { requestID: ctx.params.other }) : null;
					return { before, nested, other, standalone, after: currentRequestID() };
				},
			},
		},
	});
	beforeAll(() => broker.start());
	afterAll(() => broker.stop());

	it("gives the handler, nested calls and log lines the request id", async () => {
		await expect(broker.call("ctx.outer", {}, { requestID: "req-1" })).resolves.toEqual({
			before: "req-1",
			nested: "req-1",
			other: null,
			standalone: null,
			after: "req-1",
		});
	});

	it("switches to another request id when a call carries one, and back after it", async () => {
		const r = (await broker.call("ctx.outer", { other: "req-b" }, { requestID: "req-a" })) as Record<string, unknown>;
		expect(r).toEqual({ before: "req-a", nested: "req-a", other: "req-b", standalone: "req-b", after: "req-a" });
	});

	it("keeps concurrent requests apart", async () => {
		const ids = Array.from({ length: 20 }, (_, i) => `req-${i}`);
		const results = (await Promise.all(ids.map(id => broker.call("ctx.outer", {}, { requestID: id })))) as {
			before: string;
			nested: string;
			after: string;
		}[];
		results.forEach((r, i) => expect([r.before, r.nested, r.after]).toEqual([ids[i], ids[i], ids[i]]));
	});

	it("has no request id outside a call", () => {
		expect(currentRequestID()).toBeUndefined();
	});
});
