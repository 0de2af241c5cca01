/**
 * The compiled matcher of read-only scans (mixins/nedb-match.ts) answers exactly what NeDB's own
 * matcher answers: the same documents for every query, over documents and queries drawn at random
 * from values where the two could part (missing fields, null, arrays, mixed types, dates, NaN, nested
 * objects, dotted paths, RegExps, every operator the mixin allows).
 */
import { compileMatch, nedbModel } from "../../mixins/nedb-match";

// A small deterministic generator, so a failure can be replayed.
function rng(seed: number) {
	let s = seed >>> 0;
	return () => {
		s = (s * 1664525 + 1013904223) >>> 0;
		return s / 2 ** 32;
	};
}

const VALUES: unknown[] = [
	"a",
	"b",
	"",
	"10",
	0,
	1,
	10,
	-1,
	2.5,
	Number.NaN,
	true,
	false,
	null,
	undefined,
	new Date(1000),
	new Date(2000),
	["a", 1],
	[],
	[["a"]],
	{ x: 1 },
	{ x: "a", y: null },
];
const FIELDS = ["f", "g", "h", "constructor"];
const PLAIN = ["a", "b", "", "10", 0, 1, 10, 2.5, true, false, null];

describe("compiled NeDB matcher", () => {
	const next = rng(20261202);
	const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)];

	const docs = Array.from({ length: 400 }, () => {
		const d: Record<string, unknown> = { _id: String(next()) };
		for (const f of FIELDS) if (next() < 0.8) d[f] = pick(VALUES);
		if (next() < 0.3) d.n = { f: pick(VALUES) };
		return d;
	});

	function condition(depth: number): unknown {
		const r = next();
		if (r < 0.25) return pick([...PLAIN, ...VALUES]);
		if (r < 0.3) return /a/;
		const ops = ["$in", "$nin", "$ne", "$gt", "$gte", "$lt", "$lte", "$exists", "$size", "$elemMatch", "$regex"];
		const cond: Record<string, unknown> = {};
		for (let i = 0, n = 1 + Math.floor(next() * 2); i < n; i++) {
			const op = pick(ops);
			if (op === "$in" || op === "$nin") cond[op] = Array.from({ length: Math.floor(next() * 4) }, () => pick(next() < 0.8 ? PLAIN : VALUES));
			else if (op === "$exists") cond[op] = pick([true, false, 0, 1, "", null]);
			else if (op === "$size") cond[op] = Math.floor(next() * 3);
			else if (op === "$elemMatch") cond[op] = depth > 0 ? pick(PLAIN) : { $gt: pick(PLAIN) };
			else if (op === "$regex") cond[op] = /a|1/;
			else cond[op] = pick([...PLAIN, new Date(1500), Number.NaN]);
		}
		return cond;
	}

	function query(depth: number): Record<string, unknown> {
		const q: Record<string, unknown> = {};
		for (let i = 0, n = Math.floor(next() * 3); i < n; i++) {
			const r = next();
			if (depth < 2 && r < 0.15) q.$or = Array.from({ length: 1 + Math.floor(next() * 3) }, () => query(depth + 1));
			else if (depth < 2 && r < 0.25) q.$and = Array.from({ length: 1 + Math.floor(next() * 2) }, () => query(depth + 1));
			else if (depth < 2 && r < 0.3) q.$not = query(depth + 1);
			else q[next() < 0.1 ? "n.f" : pick(FIELDS)] = condition(depth);
		}
		return q;
	}

	const outcome = (fn: () => boolean) => {
		try {
			return fn();
		} catch (err) {
			return `throws: ${(err as Error).message}`;
		}
	};

	it("selects the same documents as NeDB's match for 2,000 random queries", () => {
		for (let i = 0; i < 2000; i++) {
			const q = query(0);
			const compiled = (() => {
				try {
					return compileMatch(q);
				} catch (err) {
					return () => {
						throw err;
					};
				}
			})();
			for (const d of docs) {
				const expected = outcome(() => nedbModel.match(d, q));
				const got = outcome(() => compiled(d));
				if (got !== expected)
					throw new Error(`query ${i} differs on ${JSON.stringify(d)}: ${String(got)} vs NeDB ${String(expected)} — ${JSON.stringify(q)}`);
			}
		}
	});

	it("answers the scans the CRM runs", () => {
		const week = "2026-11-23T00:00:00.000Z";
		const rows = [
			{ tenantId: "t1", status: "new", assignedTo: "u1", assignedAt: "2026-11-01T00:00:00.000Z" },
			{ tenantId: "t1", status: "won", assignedTo: "u2", assignedAt: "2026-11-24T00:00:00.000Z" },
			{ tenantId: "t1", status: "won", assignedTo: "u2", assignedAt: "2026-11-01T00:00:00.000Z" },
			{ tenantId: "t1", status: "new", assignedTo: null, assignedAt: null },
			{ tenantId: "t2", status: "new", assignedTo: "u1", assignedAt: week },
		];
		const q = {
			assignedTo: { $ne: null },
			$or: [{ status: { $in: ["new", "contacted", "qualified"] } }, { assignedAt: { $gte: week } }],
			tenantId: "t1",
		};
		expect(rows.filter(compileMatch(q))).toEqual([rows[0], rows[1]]);
		expect(rows.filter(d => nedbModel.match(d, q))).toEqual([rows[0], rows[1]]);
	});
});
