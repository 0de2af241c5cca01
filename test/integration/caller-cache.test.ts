/**
 * Cached reads at the caller (middlewares/caller-cache.middleware.ts): with a shared Redis cacher, a node
 * calling a cached action on another node over NATS answers a hit itself, and only a hit the owner
 * would have answered the same way: same key (caller and tenant scoped), same access rule, fresh after
 * the owner's invalidation. Real NATS, a real redis-server, brokers built from moleculer.config.ts.
 */
import { randomUUID } from "node:crypto";
import { Errors, ServiceBroker, type Context, type Middleware } from "moleculer";
import type { AuthUser } from "../../lib/access";
import { resetConfig } from "../../lib/config";
import { brokerOptions } from "../../moleculer.config";
import { startRedis, type Proc } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

const NATS = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";

type Meta = { user?: AuthUser | null; $cache?: boolean };
const admin: AuthUser = { id: "u-admin", tenantId: "t1", roles: ["admin"] };
const member: AuthUser = { id: "u-member", tenantId: "t1", roles: ["member"] };
const otherAdmin: AuthUser = { id: "u-other", tenantId: "t2", roles: ["admin"] };

describe("cached reads at the caller", () => {
	let redis: Proc & { url: string };
	const namespace = `cc${randomUUID().slice(0, 8)}`;
	let owner: ServiceBroker;
	let caller: ServiceBroker;
	let noCallerReads: ServiceBroker;
	/** every call that reached the owner node, its own cache hits included */
	let reached = 0;
	const handled: Record<string, number> = {};
	const prices: Record<string, number> = { a: 1 };

	const countCalls: Middleware = {
		name: "CountCalls",
		localAction(handler) {
			return (ctx: Context) => (reached++, (handler as (c: Context) => Promise<unknown>)(ctx));
		},
	};

	function node(nodeID: string, env: Record<string, string>, extra: Middleware[] = []) {
		Object.assign(process.env, { NAMESPACE: namespace, TRANSPORTER: NATS, CACHER: redis.url, RETRIES: "0", ...env });
		resetConfig();
		const opts = brokerOptions();
		return new ServiceBroker({ ...opts, nodeID, logger: false, middlewares: [...(opts.middlewares ?? []), ...extra] });
	}

	const item = (broker: ServiceBroker, id: string, user: AuthUser | null, meta: Meta = {}) =>
		broker.call("catalog.item", { id }, { meta: { user, ...meta } }) as Promise<{ id: string; tenant: string | null; price: number; n: number }>;
	/** how many calls of `fn` reached the owner node */
	async function reaching(fn: () => Promise<unknown>): Promise<number> {
		const before = reached;
		await fn();
		return reached - before;
	}

	beforeAll(async () => {
		redis = await startRedis();
		owner = node(`owner-${namespace}`, { CACHE_CALLER_READS: "true" }, [countCalls]);
		const run = (name: string) => (handled[name] = (handled[name] ?? 0) + 1);
		owner.createService({
			name: "catalog",
			actions: {
				item: {
					roles: ["admin"],
					params: { id: "string|max:20" },
					cache: { keys: ["id", "#user.tenantId"] },
					handler: (ctx: Context<{ id: string }, Meta>) => ({
						id: ctx.params.id,
						tenant: ctx.meta.user?.tenantId ?? null,
						price: prices[ctx.params.id] ?? 0,
						n: run("item"),
					}),
				},
				setPrice: {
					roles: ["admin"],
					params: { id: "string|max:20", price: "number" },
					async handler(ctx: Context<{ id: string; price: number }>) {
						prices[ctx.params.id] = ctx.params.price;
						await this.broker.cacher!.clean("catalog.item**");
						return { ok: true };
					},
				},
				// decided per call by a function, which does not travel to callers: never read at the caller
				sometimes: { auth: "public", cache: { enabled: () => true, keys: [] }, handler: () => ({ n: run("sometimes") }) },
				// keyed by a function of the owner's: the caller could not compute the key
				keyed: { auth: "public", cache: { keygen: () => "catalog.keyed:one" }, handler: () => ({ n: run("keyed") }) },
			},
		});
		caller = node(`caller-${namespace}`, { CACHE_CALLER_READS: "true" });
		noCallerReads = node(`plain-${namespace}`, { CACHE_CALLER_READS: "false" });
		await Promise.all([owner.start(), caller.start(), noCallerReads.start()]);
		for (const b of [caller, noCallerReads])
			await waitFor(() => b.registry.getServiceList({}).some((s: { name: string }) => s.name === "catalog"), { what: "catalog on the caller" });
		await waitFor(() => (caller.cacher as unknown as { connected: boolean }).connected, { what: "cacher connected" });
	});
	afterAll(async () => {
		await Promise.all([caller?.stop(), noCallerReads?.stop(), owner?.stop()]);
		redis?.kill("SIGKILL");
		for (const k of ["NAMESPACE", "TRANSPORTER", "CACHER", "RETRIES", "CACHE_CALLER_READS"]) delete process.env[k];
		resetConfig();
	});

	it("answers a repeated read at the caller, without a request to the owner", async () => {
		const first = await item(caller, "a", admin);
		expect(first).toMatchObject({ id: "a", tenant: "t1", price: 1 });
		expect(await reaching(() => item(caller, "a", admin))).toBe(0);
		expect(await item(caller, "a", admin)).toEqual(first);
		// the owner offered the entry in its INFO
		const def = caller.registry.getActionList({}).find((a: { name: string }) => a.name === "catalog.item") as {
			action?: { callerCache?: boolean };
		};
		expect(def?.action?.callerCache).toBe(true);
	});

	it("keeps the owner's key: another tenant's read of the same id goes to the owner and gets its own answer", async () => {
		await item(caller, "a", admin);
		let other: Awaited<ReturnType<typeof item>> | undefined;
		expect(await reaching(async () => (other = await item(caller, "a", otherAdmin)))).toBe(1);
		expect(other).toMatchObject({ tenant: "t2" });
		expect(await reaching(() => item(caller, "a", otherAdmin))).toBe(0);
	});

	it("never serves a cached answer to a caller the access rule refuses: the owner refuses it", async () => {
		await item(caller, "a", admin); // cached for tenant t1, the key member's call would use
		let err: unknown;
		expect(await reaching(() => item(caller, "a", member).catch(e => (err = e)))).toBe(1);
		expect(err).toBeInstanceOf(Errors.MoleculerError);
		expect((err as Errors.MoleculerError).code).toBe(403);
		expect(await reaching(() => item(caller, "a", null).catch(e => (err = e)))).toBe(1);
		expect((err as Errors.MoleculerError).code).toBe(401);
	});

	it("reads the owner's answer again after the owner invalidated it", async () => {
		await item(caller, "b", admin);
		expect((await item(caller, "b", admin)).price).toBe(0);
		await caller.call("catalog.setPrice", { id: "b", price: 7 }, { meta: { user: admin } });
		expect((await item(caller, "b", admin)).price).toBe(7);
	});

	it("goes to the owner for `$cache: false`, for options a caller cannot repeat, and when the node does not read at the caller", async () => {
		await item(caller, "a", admin);
		expect(await reaching(() => item(caller, "a", admin, { $cache: false }))).toBe(1);
		expect(await reaching(() => item(noCallerReads, "a", admin))).toBe(1);
		for (const action of ["catalog.sometimes", "catalog.keyed"]) {
			await caller.call(action);
			expect(await reaching(() => caller.call(action))).toBe(1);
		}
		// the owner's own cache still answered those: its handlers ran once each
		expect(handled.sometimes).toBe(1);
		expect(handled.keyed).toBe(1);
	});
});
