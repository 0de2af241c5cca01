/** Row ids sort in the order they were made, also many within one millisecond (timelines, paging by id). */
import { newId } from "../../mixins/db.mixin";

describe("newId", () => {
	it("makes 20-character URL-safe ids that sort in creation order, even within one millisecond", () => {
		const ids = Array.from({ length: 5000 }, () => newId());
		for (const id of ids) expect(id).toMatch(/^[\w-]{20}$/);
		// the case that matters happened: some millisecond made several ids (the first 9 characters are the time)
		const perMs = new Map<string, number>();
		for (const id of ids) perMs.set(id.slice(0, 9), (perMs.get(id.slice(0, 9)) ?? 0) + 1);
		expect(Math.max(...perMs.values())).toBeGreaterThan(1);
		expect([...ids].sort()).toEqual(ids);
		expect(new Set(ids).size).toBe(ids.length);
	});
});
