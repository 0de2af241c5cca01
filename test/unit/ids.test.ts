/** Row ids sort in the order they were made, also many within one millisecond (timelines, paging by id). */
import { newId } from "../../mixins/db.mixin";

describe("newId", () => {
	it("makes 20-character URL-safe ids that sort in creation order, even within one millisecond", () => {
		const ids = Array.from({ length: 5000 }, () => newId());
		for (const id of ids) expect(id).toMatch(/^[\w-]{20}$/);
		const sameMs = ids.filter(id => id.slice(0, 9) === ids[0].slice(0, 9));
		expect(sameMs.length).toBeGreaterThan(1);
		expect([...ids].sort()).toEqual(ids);
		expect(new Set(ids).size).toBe(ids.length);
	});
});
