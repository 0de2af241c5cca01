/** Small text utilities (lib/text.ts). */
import { withoutTrailingSlashes } from "../../lib/text";

describe("withoutTrailingSlashes", () => {
	it("drops every slash a base URL ends with, and nothing else", () => {
		expect(withoutTrailingSlashes("https://graph.example/v19.0///")).toBe("https://graph.example/v19.0");
		expect(withoutTrailingSlashes("http://127.0.0.1:9411")).toBe("http://127.0.0.1:9411");
		expect(withoutTrailingSlashes("///")).toBe("");
		expect(withoutTrailingSlashes("")).toBe("");
	});

	it("takes linear time on a long run of slashes that does not end the string", () => {
		// `/\/+$/` retried that run from each of its slashes: quadratic (test/unit/regex-audit.test.ts)
		const hostile = "/".repeat(200_000) + "x";
		const started = performance.now();
		expect(withoutTrailingSlashes(hostile)).toBe(hostile);
		expect(performance.now() - started).toBeLessThan(50);
	});
});
