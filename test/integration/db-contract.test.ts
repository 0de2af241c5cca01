/**
 * One contract for the data mixins, run against every adapter available here: NeDB in memory,
 * NeDB files, and MongoDB whenever MONGO_URI is set (it says so plainly when it is not).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker, type Context } from "moleculer";
import { resetConfig } from "../../lib/config";
import { TenantDbMixin } from "../../mixins/tenant.mixin";
import { DbMixin } from "../../mixins/db.mixin";
import { brokerOptions } from "../../moleculer.config";

const drivers: { driver: string; env: Record<string, string> }[] = [
	{ driver: "memory", env: { DB_DRIVER: "memory" } },
	{ driver: "nedb", env: { DB_DRIVER: "nedb" } },
];
if (process.env.MONGO_URI) drivers.push({ driver: "mongo", env: { DB_DRIVER: "mongo" } });
else process.stdout.write("db contract: MONGO_URI is not set, so the MongoDB adapter was NOT exercised in this run\n");

const meta = (tenantId: string | null, id = "u1") => ({ meta: { user: { id, tenantId, roles: ["member"] } } });

function services(collectionSuffix: string) {
	const things = {
		name: "things",
		mixins: [TenantDbMixin({ collection: `things_${collectionSuffix}`, indexes: [{ fields: ["tenantId", "code"], unique: true }] })],
		settings: { fields: ["id", "code", "label", "tenantId", "createdAt", "updatedAt"] },
		actions: {
			make: { params: { code: "string|max:200", label: "string|max:200|optional", tenantId: "string|max:200|optional" }, handler(this: any, ctx: Context) { return this._create(ctx, ctx.params); } },
			listThings: { params: {}, handler(this: any, ctx: Context) { return this._list(ctx, { sort: "code" }); } },
			one: { params: { id: "string|max:200" }, handler(this: any, ctx: Context<{ id: string }>) { return this._get(ctx, { id: ctx.params.id }); } },
			change: { params: { id: "string|max:200", label: "string|max:200|optional", tenantId: "string|max:200|optional" }, handler(this: any, ctx: Context) { return this._update(ctx, ctx.params); } },
			drop: { params: { id: "string|max:200" }, handler(this: any, ctx: Context<{ id: string }>) { return this._remove(ctx, { id: ctx.params.id }); } },
		},
	};
	const accounts = {
		name: "accounts",
		mixins: [DbMixin({ collection: `accounts_${collectionSuffix}`, indexes: [{ fields: ["email"], unique: true }] })],
		settings: { fields: ["id", "email", "createdAt", "updatedAt"] },
		actions: {
			make: { auth: "public", params: { email: "email|max:254" }, handler(this: any, ctx: Context) { return this._create(ctx, ctx.params); } },
		},
	};
	return [things, accounts];
}

describe.each(drivers)("data mixins on $driver", ({ driver, env }) => {
	let broker: ServiceBroker;
	let dataDir: string;
	const suffix = `${driver}_${process.pid}_${Date.now()}`;

	async function start() {
		Object.assign(process.env, env, { DATA_DIR: dataDir });
		resetConfig();
		broker = new ServiceBroker({ ...brokerOptions(), logger: false, cacher: null, metrics: false });
		for (const s of services(suffix)) broker.createService(s as never);
		await broker.start();
	}

	beforeAll(async () => {
		dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-db-"));
		await start();
	});
	afterAll(async () => {
		await broker.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	});

	it("exposes id (never _id) and ISO timestamps", async () => {
		const thing: any = await broker.call("things.make", { code: "a1", label: "first" }, meta("t1"));
		expect(thing.id).toMatch(/^[\w-]{20}$/);
		expect(thing._id).toBeUndefined();
		expect(new Date(thing.createdAt).toISOString()).toBe(thing.createdAt);
		expect(thing.updatedAt).toBe(thing.createdAt);
	});

	it("stamps the caller's tenant and ignores one given in params", async () => {
		const thing: any = await broker.call("things.make", { code: "b1", tenantId: "t2" }, meta("t1"));
		expect(thing.tenantId).toBe("t1");
	});

	it("answers another tenant's row exactly like a missing one", async () => {
		const thing: any = await broker.call("things.make", { code: "c1" }, meta("t1"));
		const missing = (await broker.call("things.one", { id: "nope" }, meta("t2")).catch(e => e)) as Error;
		for (const attempt of [
			broker.call("things.one", { id: thing.id }, meta("t2")),
			broker.call("things.change", { id: thing.id, label: "x" }, meta("t2")),
			broker.call("things.drop", { id: thing.id }, meta("t2")),
		]) {
			const err = await attempt.catch(e => e);
			expect(err).toMatchObject({ code: 404, type: "NOT_FOUND", message: missing.message });
		}
		const still: any = await broker.call("things.one", { id: thing.id }, meta("t1"));
		expect(still.label).toBeUndefined();
	});

	it("never moves a row to another tenant on update", async () => {
		const thing: any = await broker.call("things.make", { code: "d1" }, meta("t1"));
		const updated: any = await broker.call("things.change", { id: thing.id, label: "moved?", tenantId: "t2" }, meta("t1"));
		expect(updated.tenantId).toBe("t1");
		expect(updated.label).toBe("moved?");
		expect(updated.updatedAt >= updated.createdAt).toBe(true);
	});

	it("lists only the caller's tenant, with a total", async () => {
		await broker.call("things.make", { code: "e1" }, meta("t3"));
		await broker.call("things.make", { code: "e2" }, meta("t3"));
		await broker.call("things.make", { code: "e3" }, meta("t4"));
		const page: any = await broker.call("things.listThings", {}, meta("t3"));
		expect(page.total).toBe(2);
		expect(page.rows.map((r: any) => r.code)).toEqual(["e1", "e2"]);
	});

	it("refuses tenant data to a caller without a tenant", async () => {
		await expect(broker.call("things.listThings", {}, meta(null))).rejects.toMatchObject({ code: 403, type: "TENANT_REQUIRED" });
	});

	it("keeps a unique key unique under concurrent writes (409 for the rest)", async () => {
		const results = await Promise.allSettled(Array.from({ length: 20 }, () => broker.call("accounts.make", { email: "same@example.com" })));
		expect(results.filter(r => r.status === "fulfilled")).toHaveLength(1);
		for (const r of results.filter(r => r.status === "rejected") as PromiseRejectedResult[])
			expect(r.reason).toMatchObject({ code: 409, type: "CONFLICT" });
	});

	it("scopes a compound unique key per tenant", async () => {
		await broker.call("things.make", { code: "same" }, meta("t5"));
		await expect(broker.call("things.make", { code: "same" }, meta("t6"))).resolves.toMatchObject({ code: "same" });
		const results = await Promise.allSettled(Array.from({ length: 10 }, () => broker.call("things.make", { code: "same" }, meta("t5"))));
		expect(results.every(r => r.status === "rejected" && (r.reason as any).code === 409)).toBe(true);
	});

	if (driver !== "memory")
		it("keeps acknowledged writes across a restart", async () => {
			const thing: any = await broker.call("things.make", { code: "durable" }, meta("t7"));
			await broker.stop();
			await start();
			await expect(broker.call("things.one", { id: thing.id }, meta("t7"))).resolves.toMatchObject({ code: "durable" });
		});
});
