/**
 * One contract for the data mixins, run against every adapter available here: NeDB in memory,
 * NeDB files, and MongoDB whenever MONGO_URI is set (it says so plainly when it is not).
 * The file format part: every string a user can write survives a restart from the file exactly,
 * through DbMixin and through `Collection` (secondary collections and outboxes).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker, type Context } from "moleculer";
import { resetConfig } from "../../lib/config";
import { TenantDbMixin } from "../../mixins/tenant.mixin";
import { Collection } from "../../mixins/collection";
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
			make: {
				params: { code: "string|max:200", label: "string|max:200|optional", tenantId: "string|max:200|optional" },
				handler(this: any, ctx: Context) {
					return this._create(ctx, ctx.params);
				},
			},
			listThings: {
				params: {},
				handler(this: any, ctx: Context) {
					return this._list(ctx, { sort: "code" });
				},
			},
			one: {
				params: { id: "string|max:200" },
				handler(this: any, ctx: Context<{ id: string }>) {
					return this._get(ctx, { id: ctx.params.id });
				},
			},
			change: {
				params: { id: "string|max:200", label: "string|max:200|optional", tenantId: "string|max:200|optional" },
				handler(this: any, ctx: Context) {
					return this._update(ctx, ctx.params);
				},
			},
			drop: {
				params: { id: "string|max:200" },
				handler(this: any, ctx: Context<{ id: string }>) {
					return this._remove(ctx, { id: ctx.params.id });
				},
			},
			// the caller's params handed through whole, as a careless list action would
			passThrough: {
				handler(this: any, ctx: Context) {
					return this._list(ctx, ctx.params);
				},
			},
			// one of the mixin's methods with service-built arguments
			method: {
				params: { name: "string|max:64", args: "array" },
				handler(this: any, ctx: Context<{ name: string; args: unknown[] }>) {
					return ctx.params.name === "unscopedFindOne"
						? this.unscopedFindOne(...ctx.params.args)
						: this[ctx.params.name](ctx, ...ctx.params.args);
				},
			},
		},
	};
	const accounts = {
		name: "accounts",
		mixins: [DbMixin({ collection: `accounts_${collectionSuffix}`, indexes: [{ fields: ["email"], unique: true }] })],
		settings: { fields: ["id", "email", "createdAt", "updatedAt"] },
		actions: {
			make: {
				auth: "public",
				params: { email: "email|max:254" },
				handler(this: any, ctx: Context) {
					return this._create(ctx, ctx.params);
				},
			},
		},
	};
	const blobs = {
		name: "blobs",
		mixins: [DbMixin({ collection: `blobs_${collectionSuffix}` })],
		actions: {
			put: {
				auth: "public",
				params: { doc: "object" },
				handler(this: any, ctx: Context<{ doc: object }>) {
					return this._create(ctx, ctx.params.doc);
				},
			},
			change: {
				auth: "public",
				params: { id: "string|max:200", doc: "object" },
				handler(this: any, ctx: Context<{ id: string; doc: object }>) {
					return this._update(ctx, { ...ctx.params.doc, id: ctx.params.id });
				},
			},
			read: {
				auth: "public",
				params: { id: "string|max:200" },
				handler(this: any, ctx: Context<{ id: string }>) {
					return this._get(ctx, { id: ctx.params.id });
				},
			},
		},
	};
	return [things, accounts, blobs];
}

/**
 * What NeDB's line reader treats as a line end (U+2028, U+2029, NEL, \r, \n, \v, \f), lone surrogates
 * (JSON can carry them as escapes), the literal escape text a user may type, and a few characters that
 * are easy to get wrong (NUL, quote, backslash, DEL, BOM, an astral emoji).
 */
const HAZARDS: Record<string, string> = {
	LS: "\u2028",
	PS: "\u2029",
	NEL: "\u0085",
	CR: "\r",
	LF: "\n",
	CRLF: "\r\n",
	VT: "\u000b",
	FF: "\u000c",
	loneHigh: "\ud800",
	loneLow: "\udfff",
	reversedPair: "\udc00\ud800",
	escapeText: "\\u2028 \\u2029 \\u0085 \\n",
	backslashThenLS: "\\\u2028",
	NUL: "\u0000",
	quote: '"',
	backslash: "\\",
	DEL: "\u007f",
	BOM: "\ufeff",
	emoji: "\u{1F600}",
};
// MongoDB stores UTF-8: a lone surrogate cannot be encoded and comes back as U+FFFD (README, storage notes).
const LONE = new Set(["loneHigh", "loneLow", "reversedPair"]);
const hazardsFor = (driver: string) => Object.entries(HAZARDS).filter(([name]) => driver !== "mongo" || !LONE.has(name));

/** Every string shape a document has: a top-level value, a nested value, array elements, an object key. */
function shapes(driver: string) {
	const all = hazardsFor(driver);
	const joined = all.map(([, s]) => s).join("");
	// Object keys: NeDB and MongoDB refuse keys with "." or a leading "$"; NUL is not allowed in a BSON key.
	const keyed = Object.fromEntries(all.filter(([name]) => name !== "NUL").map(([name, s]) => [`k${s}${name}`, s]));
	return {
		top: joined,
		each: Object.fromEntries(all),
		nested: { deep: { deeper: joined } },
		list: [...all.map(([, s]) => s), { inside: joined }, [joined]],
		keyed,
		// longer than NeDB's read chunk (64 KiB), multi-byte characters across the boundaries
		long: `é\u{1F600}\u2028`.repeat(30_000),
	};
}

const parses = (line: string) => {
	try {
		JSON.parse(line);
		return true;
	} catch {
		return false;
	}
};

/** UTF-16 code units, so a difference shows as the exact character that changed. */
const units = (v: unknown): unknown =>
	typeof v === "string"
		? Array.from({ length: v.length }, (_, i) => v.charCodeAt(i).toString(16)).join(" ")
		: Array.isArray(v)
			? v.map(units)
			: v && typeof v === "object"
				? Object.fromEntries(Object.entries(v).map(([k, x]) => [units(k) as string, units(x)]))
				: v;

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

	it("sets the caller's tenant last in every scoped method, whatever the query or the update says", async () => {
		const mine: any = await broker.call("things.make", { code: "m1", label: "mine" }, meta("t8"));
		const theirs: any = await broker.call("things.make", { code: "m2", label: "theirs" }, meta("t9"));
		const call = (name: string, ...args: unknown[]) => broker.call("things.method", { name, args }, meta("t8"));
		expect(await call("scopedFindById", theirs.id)).toBeNull();
		expect(await call("scopedFindById", mine.id)).toMatchObject({ _id: mine.id, tenantId: "t8", code: "m1" });
		expect(await call("scopedFindById", { $ne: null })).toBeNull();
		expect(await call("scopedFindOne", { code: "m2", tenantId: "t9" })).toBeNull();
		expect(await call("scopedFindOne", { id: mine.id })).toMatchObject({ code: "m1" });
		expect(await call("scopedCount", { tenantId: "t9" })).toBe(1);
		expect(await call("scopedCount", { $or: [{ tenantId: "t9" }, { code: "m2" }] })).toBe(0);
		expect(await call("scopedUpdateWhere", { _id: theirs.id }, { label: "taken" })).toBe(0);
		expect(await call("scopedUpdateWhere", { _id: mine.id, label: "mine" }, { label: "changed", tenantId: "t9" })).toBe(1);
		expect(await call("scopedUpdateWhere", { _id: mine.id, label: "mine" }, { label: "again" })).toBe(0); // compare-and-set: the label moved on
		expect(await broker.call("things.one", { id: mine.id }, meta("t8"))).toMatchObject({ label: "changed", tenantId: "t8" });
		expect(((await call("scopedScan", {}, ["code"])) as any[]).map(r => r.code)).toEqual(["m1"]);
		expect(await call("scopedRemoveWhere", { code: "m2" })).toBe(0);
		expect(await broker.call("things.one", { id: theirs.id }, meta("t9"))).toMatchObject({ label: "theirs" });
		// the one way out, for lookups before a tenant is known
		expect(await call("unscopedFindOne", { code: "m2" })).toMatchObject({ _id: theirs.id, tenantId: "t9" });
		expect(await call("scopedRemoveWhere", { id: mine.id })).toBe(1);
	});

	it("never lets a caller's search, searchFields, query, populate or fields reach the store", async () => {
		await broker.call("things.make", { code: "secret", label: "confidential" }, meta("t10"));
		await broker.call("things.make", { code: "open", label: "public" }, meta("t11"));
		for (const attack of [
			{ search: "confidential" },
			{ search: "confidential", searchFields: "label" },
			{ search: "t10", searchFields: ["tenantId"] },
			{ query: { tenantId: "t10" } },
			{ query: JSON.stringify({ tenantId: "t10" }) },
			{ query: { $where: "1" } },
			{ query: { label: { $regex: "" } } },
			{ populate: ["tenantId"], fields: ["tenantId", "label"], excludeFields: ["code"] },
		]) {
			const page: any = await broker.call("things.passThrough", attack, meta("t11"));
			expect(page.rows.map((r: any) => r.code)).toEqual(["open"]);
			expect(page.total).toBe(1);
		}
		for (const query of [{ $where: "1" }, { label: { $regex: "" } }, { label: { $function: "x" } }, { $expr: {} }])
			await expect(broker.call("things.method", { name: "_find", args: [{ query }] }, meta("t11"))).rejects.toMatchObject({
				code: 400,
				type: "INVALID_QUERY",
			});
		await expect(broker.call("things.method", { name: "_find", args: [{ sort: ["code; drop"] }] }, meta("t11"))).rejects.toMatchObject({
			code: 400,
		});
	});

	it("honours a service's own limit past 100 rows (no silent cut) and pages lists at 100", async () => {
		const entities = Array.from({ length: 120 }, (_, i) => ({ code: `bulk-${i}` }));
		await broker.call("things.method", { name: "_insert", args: [{ entities }] }, meta("t12"));
		const find = (params: object) => broker.call("things.method", { name: "_find", args: [params] }, meta("t12")) as Promise<unknown[]>;
		expect(await find({ limit: 100_000 })).toHaveLength(120);
		expect(await find({ limit: 110 })).toHaveLength(110);
		expect(await find({})).toHaveLength(120);
		const page: any = await broker.call("things.method", { name: "_list", args: [{ page: 1, pageSize: 500 }] }, meta("t12"));
		expect({ rows: page.rows.length, total: page.total, pageSize: page.pageSize }).toEqual({ rows: 100, total: 120, pageSize: 100 });
	});

	it("refuses tenant data to a caller without a tenant", async () => {
		await expect(broker.call("things.listThings", {}, meta(null))).rejects.toMatchObject({ code: 403, type: "TENANT_REQUIRED" });
	});

	it("registers none of moleculer-db's generic actions, on a tenant-scoped service or any other", async () => {
		// Their params pass `query`/`search` to the store, and their cache keys name no tenant: every service
		// publishes its own validated actions only.
		for (const service of ["accounts", "things"])
			for (const name of ["find", "count", "list", "get", "create", "insert", "update", "remove"])
				await expect(broker.call(`${service}.${name}`, {}, meta("t1"))).rejects.toMatchObject({ name: "ServiceNotFoundError" });
	});

	it("keeps a unique key unique under concurrent writes (409 for the rest)", async () => {
		const results = await Promise.allSettled(Array.from({ length: 20 }, () => broker.call("accounts.make", { email: "same@example.com" })));
		expect(results.filter(r => r.status === "fulfilled")).toHaveLength(1);
		for (const r of results.filter(r => r.status === "rejected") as PromiseRejectedResult[])
			expect(r.reason).toMatchObject({ code: 409, type: "CONFLICT" });
	});

	it("leaves rows without the field out of a sparse unique index (a field added later), and keeps the rest unique", async () => {
		const rows = new Collection<{ id: string } & Record<string, unknown>>({
			collection: `sparse_${suffix}`,
			indexes: [{ fields: ["slot"], unique: true, sparse: true }],
		});
		await rows.open(broker);
		try {
			await rows.insert({ label: "older row" });
			await rows.insert({ label: "another older row" });
			await rows.insert({ label: "holds the slot", slot: "s1" });
			await expect(rows.insert({ label: "same slot", slot: "s1" })).rejects.toMatchObject({ code: 409 });
			expect(await rows.count({})).toBe(3);
		} finally {
			await rows.close();
		}
	});

	it("scopes a compound unique key per tenant", async () => {
		await broker.call("things.make", { code: "same" }, meta("t5"));
		await expect(broker.call("things.make", { code: "same" }, meta("t6"))).resolves.toMatchObject({ code: "same" });
		const results = await Promise.allSettled(Array.from({ length: 10 }, () => broker.call("things.make", { code: "same" }, meta("t5"))));
		expect(results.every(r => r.status === "rejected" && (r.reason as any).code === 409)).toBe(true);
	});

	if (driver !== "memory")
		it("gives back every string exactly after a restart from the file, through entities and collections", async () => {
			const doc = shapes(driver);
			const created: any = await broker.call("blobs.put", { doc });
			const updated: any = await broker.call("blobs.put", { doc: { first: "plain" } });
			await broker.call("blobs.change", { id: updated.id, doc }); // an update is appended as a line of its own
			const rows = new Collection<{ id: string } & Record<string, unknown>>({ collection: `rows_${suffix}` });
			await rows.open(broker);
			const row = await rows.insert({ ...doc });
			await rows.close();
			const fieldsOf = ({ id: _id, createdAt: _c, updatedAt: _u, ...rest }: any) => rest;
			// The files themselves: one record per line, no raw character NeDB's reader would split on.
			// (Checked before the restart too: a broken file makes moleculer-db retry its connection forever.)
			const checkFiles = () => {
				if (driver !== "nedb") return;
				for (const name of [`blobs_${suffix}.db`, `rows_${suffix}.db`]) {
					const text = fs.readFileSync(path.join(dataDir, "db", name), "utf8");
					const raw = text.search(/[\u0085\u2028\u2029\r\v\f]/);
					expect(raw < 0 ? "none" : `U+${text.charCodeAt(raw).toString(16)} at ${raw} in ${name}`).toBe("none");
					const lines = text.split("\n").filter(Boolean);
					expect(lines.length).toBeGreaterThanOrEqual(name.startsWith("blobs") ? 2 : 1);
					expect(lines.filter(line => !parses(line))).toEqual([]);
				}
			};
			checkFiles();

			for (let restart = 0; restart < 2; restart++) {
				// the second start reads the file NeDB compacted at the first load
				await broker.stop();
				await start();
				for (const [id, expected] of [
					[created.id, doc],
					[updated.id, { first: "plain", ...doc }],
				] as const) {
					const back = fieldsOf(await broker.call("blobs.read", { id }));
					expect(units(back)).toEqual(units(expected));
					expect(back).toStrictEqual(expected);
				}
				const again = new Collection<{ id: string } & Record<string, unknown>>({ collection: `rows_${suffix}` });
				await again.open(broker);
				const stored = fieldsOf(await again.findOne({ id: row.id }));
				await again.close();
				expect(units(stored)).toEqual(units(doc));
				expect(stored).toStrictEqual(doc);
			}

			checkFiles(); // as compacted by NeDB at load
		});

	if (driver !== "memory")
		it("keeps acknowledged writes across a restart", async () => {
			const thing: any = await broker.call("things.make", { code: "durable" }, meta("t7"));
			await broker.stop();
			await start();
			await expect(broker.call("things.one", { id: thing.id }, meta("t7"))).resolves.toMatchObject({ code: "durable" });
		});
});
