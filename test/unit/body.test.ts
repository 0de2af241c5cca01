/** Body limits and the JSON depth check of the gateway's body parsers (lib/body.ts). */
import { bodyLimitBytes, limitFor, MAX_JSON_DEPTH, nestsDeeperThan } from "../../lib/body";

describe("request bodies", () => {
	it("reads the configured sizes", () => {
		expect(bodyLimitBytes("16kb")).toBe(16 * 1024);
		expect(bodyLimitBytes("1mb")).toBe(1024 * 1024);
		expect(bodyLimitBytes("300b")).toBe(300);
		expect(() => bodyLimitBytes("lots")).toThrow(/not a body size/);
	});

	it("gives actions anyone may call the small limit, unless they declare their own", () => {
		const opts = { limit: "1mb", publicLimit: "16kb" };
		expect(limitFor({ auth: "public" }, opts)).toBe("16kb");
		expect(limitFor({ auth: "optional" }, opts)).toBe("16kb");
		expect(limitFor(undefined, opts)).toBe("16kb"); // no such route: it will be a 404 anyway
		expect(limitFor({ auth: "required" }, opts)).toBe("1mb");
		expect(limitFor({}, opts)).toBe("1mb"); // "required" is the default
		expect(limitFor({ auth: "public", bodyLimit: "64kb" }, opts)).toBe("64kb");
	});

	it("measures nesting without recursion, so 100,000 levels cannot overflow the stack", () => {
		const nest = (depth: number) => {
			let v: unknown = [];
			for (let i = 1; i < depth; i++) v = i % 2 ? [v] : { k: v };
			return v;
		};
		expect(nestsDeeperThan(nest(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
		expect(nestsDeeperThan(nest(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
		expect(nestsDeeperThan(JSON.parse("[".repeat(100_000) + "]".repeat(100_000)), MAX_JSON_DEPTH)).toBe(true);
		expect(nestsDeeperThan({ a: [1, "x", null], b: { c: {} } }, 3)).toBe(false);
		expect(nestsDeeperThan("text", 0)).toBe(false);
	});
});
