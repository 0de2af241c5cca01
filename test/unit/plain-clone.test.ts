/**
 * The memory cacher's copy (lib/plain-clone.ts): equal to lodash's cloneDeep for JSON data and for
 * everything it hands to cloneDeep, and never the same objects.
 */
import { createRequire } from "node:module";
import { plainClone } from "../../lib/plain-clone";

const { cloneDeep } = createRequire(require.resolve("moleculer"))("lodash") as { cloneDeep<T>(v: T): T };

describe("plainClone", () => {
	it.each([
		["a post", { id: "p1", text: "hi", counts: { likes: 2 }, media: [{ id: "m", w: 1 }], editedAt: null, pinned: false }],
		["a page", { rows: [{ a: 1 }, { b: [1, [2, [3]]] }], total: 2, page: 1 }],
		["primitives", 42],
		["a string", "x"],
		["null", null],
		["an empty array", []],
		["no prototype", Object.assign(Object.create(null), { a: 1 })],
		["a date inside", { at: new Date(1000), nested: [new Date(2000)] }],
		["a buffer inside", { data: Buffer.from("abc") }],
		["a map inside", { m: new Map([["k", { v: 1 }]]) }],
		["a sparse array", [1, , 3]],
	])("copies %s like cloneDeep", (_what, value) => {
		const copy = plainClone(value);
		expect(copy).toStrictEqual(cloneDeep(value));
		if (value !== null && typeof value === "object") expect(copy).not.toBe(value);
	});

	it("is deep: changing the copy changes nothing of the original", () => {
		const value = { rows: [{ tags: ["a"] }], meta: { n: 1 } };
		const copy = plainClone(value);
		copy.rows[0].tags.push("b");
		copy.meta.n = 2;
		expect(value).toEqual({ rows: [{ tags: ["a"] }], meta: { n: 1 } });
	});

	it("hands circular data and class instances to cloneDeep", () => {
		const a: Record<string, unknown> = { x: 1 };
		a.self = a;
		const copy = plainClone(a);
		expect(copy.self).toBe(copy);
		class Point {
			constructor(public x: number) {}
		}
		const p = plainClone({ p: new Point(3) });
		expect(p.p).toBeInstanceOf(Point);
		expect(p.p.x).toBe(3);
	});
});
