/**
 * The per-tenant sorted lists of the embedded store (lib/nedb-sorted-index.ts) answer every page and
 * count exactly as NeDB's own cursor does (ties by `_id`, which NeDB is asked for explicitly here),
 * while rows are inserted one by one and in bulk, updated (also the sort field, also to another
 * tenant), removed, rolled back by a unique violation, and after the store is reloaded from its file.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import NeDB from "@seald-io/nedb";
import MoleculerDb from "moleculer-db";
import { NedbAdapter } from "../../lib/nedb-adapter";
import { SortedIndex } from "../../lib/nedb-sorted-index";

type Doc = Record<string, unknown> & { _id: string };

function rng(seed: number) {
	let s = seed >>> 0;
	return () => {
		s = (s * 1664525 + 1013904223) >>> 0;
		return s / 2 ** 32;
	};
}

const TENANTS = ["t1", "t2", "t3"];
const STATUSES = ["new", "won", "lost"];

async function expected(db: NeDB<Doc>, query: Record<string, unknown>, sort: string, offset: number, limit: number): Promise<Doc[]> {
	const dir = sort.startsWith("-") ? -1 : 1;
	const field = sort.replace(/^-/, "");
	let cursor = db.findAsync(query).sort({ [field]: dir, _id: dir });
	if (offset) cursor = cursor.skip(offset);
	if (limit) cursor = cursor.limit(limit);
	return (await cursor.execAsync()) as Doc[];
}

describe("NeDB sorted index", () => {
	const next = rng(20261202);
	const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];
	let seq = 0;
	const row = (): Doc => ({
		_id: `id-${String(Math.floor(next() * 1e6)).padStart(6, "0")}-${seq++}`,
		tenantId: pick(TENANTS),
		status: pick(STATUSES),
		// few distinct values: many ties
		createdAt: `2026-01-0${1 + Math.floor(next() * 5)}`,
		value: next() < 0.1 ? {} : { amount: Math.floor(next() * 5) },
		name: next() < 0.1 ? null : pick(["a", "b", "B", "c"]),
	});

	async function check(db: NeDB<Doc>, index: SortedIndex) {
		for (const sort of ["createdAt", "-createdAt", "value.amount", "-name"])
			for (const query of [
				{ tenantId: "t1" },
				{ tenantId: "t2", status: "won" },
				{ tenantId: "t3", status: { $in: ["new", "lost"] } },
				{ tenantId: "none" },
			])
				for (const [offset, limit] of [
					[0, 5],
					[7, 5],
					[0, 0],
					[40, 20],
				]) {
					const got = index.find({ query, sort: [sort], offset, limit });
					expect(got).toEqual(await expected(db, query, sort, offset, limit));
				}
		for (const query of [{ tenantId: "t1" }, { tenantId: "t2", status: "won" }, { tenantId: "nobody" }])
			expect(index.count(query)).toBe(await db.countAsync(query));
	}

	it("answers like NeDB through inserts, updates, removes, rollbacks and a reload", async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sorted-index-"));
		const filename = path.join(dir, "rows.db");
		try {
			const db = new NeDB<Doc>({ filename });
			const index = SortedIndex.attach(db)!;
			expect(index).toBeDefined();
			await db.loadDatabaseAsync();
			await db.ensureIndexAsync({ fieldName: "name", unique: false });
			await db.ensureIndexAsync({ fieldName: "uniq", unique: true, sparse: true });
			await db.insertAsync(Array.from({ length: 150 }, row));
			await check(db, index); // builds the lists
			expect(index.builds).toBe(3); // createdAt, value.amount, name
			for (let i = 0; i < 40; i++) await db.insertAsync(row());
			await db.insertAsync(Array.from({ length: 30 }, row));
			await check(db, index);

			// updates: the sort field, another field, a move to another tenant, many at once
			const all = (await db.findAsync({})) as Doc[];
			for (const d of all.slice(0, 30))
				await db.updateAsync({ _id: d._id }, { $set: { createdAt: `2026-01-0${1 + Math.floor(next() * 5)}`, "value.amount": 9 } });
			await db.updateAsync({ _id: all[31]._id }, { $set: { tenantId: "t2" } });
			await db.updateAsync({ tenantId: "t3", status: "won" }, { $set: { name: "z" } }, { multi: true });
			await db.updateAsync({ _id: all[32]._id }, { ...all[32], status: "lost" }); // whole-document replace
			await check(db, index);

			// removes, one and many
			await db.removeAsync({ _id: all[40]._id }, {});
			await db.removeAsync({ tenantId: "t1", status: "lost" }, { multi: true });
			await check(db, index);

			// a unique violation rolls the write back in NeDB's indexes: and in ours
			await db.insertAsync({ ...row(), uniq: "u" });
			await expect(db.insertAsync([row(), { ...row(), uniq: "u" }])).rejects.toThrow();
			await expect(db.updateAsync({ tenantId: "t2" }, { $set: { uniq: "u" } }, { multi: true })).rejects.toThrow();
			await check(db, index);

			// kept in step by every write: never rebuilt from all rows
			expect(index.builds).toBe(3); // createdAt, value.amount, name

			// rows without a tenant, or with one NeDB would match element-wise, are never answered from the lists
			await db.insertAsync({ _id: "no-tenant", createdAt: "2026-01-01" });
			expect(index.find({ query: {}, sort: ["createdAt"] })).toBeUndefined();
			await check(db, index);

			// reloaded from the file: lists dropped and rebuilt from the loaded rows
			const reloaded = new NeDB<Doc>({ filename });
			const again = SortedIndex.attach(reloaded)!;
			await reloaded.loadDatabaseAsync();
			await check(reloaded, again);
			await db.loadDatabaseAsync();
			await check(db, index);
			expect(index.builds).toBe(6);
			await db.insertAsync({ _id: "array-tenant", tenantId: ["t1", "t2"], createdAt: "2026-01-01" });
			expect(index.find({ query: { tenantId: "t1" }, sort: ["createdAt"] })).toBeUndefined();
			expect(index.count({ tenantId: "t1" })).toBeUndefined();
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});

	it("leaves to NeDB what it cannot answer exactly", async () => {
		const db = new NeDB<Doc>();
		const index = SortedIndex.attach(db)!;
		await db.loadDatabaseAsync();
		await db.insertAsync([row(), row()]);
		expect(index.find({ query: { tenantId: "t1" }, sort: ["createdAt", "name"] })).toBeUndefined();
		expect(index.find({ query: { tenantId: "t1" } })).toBeUndefined();
		expect(index.find({ query: { tenantId: { $in: ["t1"] } }, sort: ["createdAt"] })).toBeUndefined();
		expect(index.find({ query: { tenantId: "t1" }, sort: ["createdAt"], search: "x" })).toBeUndefined();
	});

	it("the adapter pages and counts from the lists, with copies of the rows", async () => {
		const adapter = new NedbAdapter({});
		await adapter.connect();
		const db = adapter.db as NeDB<Doc>;
		await db.insertAsync(Array.from({ length: 60 }, row));
		const stockFind = jest.spyOn(
			(MoleculerDb as unknown as { MemoryAdapter: { prototype: { find(): unknown } } }).MemoryAdapter.prototype,
			"find",
		);
		const params = { query: { tenantId: "t1" }, sort: ["-createdAt"], limit: 10, offset: 10 };
		const page = (await adapter.find(params)) as Doc[];
		expect(stockFind).not.toHaveBeenCalled();
		expect(page).toEqual(await expected(db, params.query, "-createdAt", 10, 10));
		expect(await adapter.count({ query: { tenantId: "t1" } })).toBe(await db.countAsync({ tenantId: "t1" }));
		// a copy: changing it changes nothing stored
		page[0].status = "changed";
		expect(((await db.findOneAsync({ _id: page[0]._id })) as Doc).status).not.toBe("changed");
		stockFind.mockRestore();
	});
});
