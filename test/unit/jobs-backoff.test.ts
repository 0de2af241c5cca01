/** Retry delays of jobs: exponential, capped, with jitter that only ever shortens a delay by up to its share. */
import { retryDelayMs } from "../../services/platform/jobs/backoff";

describe("job retry delays", () => {
	const backoff = { delayMs: 100, maxDelayMs: 1000, jitter: 0.2 };

	it("doubles from the first retry and stops at the cap", () => {
		const none = () => 0;
		expect([1, 2, 3, 4, 5, 6].map(n => retryDelayMs(backoff, n, none))).toEqual([100, 200, 400, 800, 1000, 1000]);
	});

	it("draws each delay from [d × (1 − jitter), d]", () => {
		expect(retryDelayMs(backoff, 3, () => 1)).toBe(320);
		expect(retryDelayMs(backoff, 3, () => 0.5)).toBe(360);
		const drawn = Array.from({ length: 200 }, () => retryDelayMs(backoff, 2));
		expect(Math.min(...drawn)).toBeGreaterThanOrEqual(160);
		expect(Math.max(...drawn)).toBeLessThanOrEqual(200);
		expect(new Set(drawn).size).toBeGreaterThan(5);
	});
});
