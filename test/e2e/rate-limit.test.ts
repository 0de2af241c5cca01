/** Rate limits as clients see them: per caller, per action, with RateLimit and Retry-After headers. */
import { startPlatform, type Platform } from "../helpers/platform";

const login = {
	name: "probe",
	actions: {
		signIn: { rest: "POST /sign-in", auth: "public", rateLimit: { max: 2, windowSec: 60 }, params: {}, handler: () => ({ ok: true }) },
	},
};

describe("rate limiting at the gateway (memory store)", () => {
	let p: Platform;
	beforeAll(async () => {
		p = await startPlatform({
			services: ["greeter"],
			extra: [login as never],
			env: { RATE_LIMIT_MAX: "5", RATE_LIMIT_WINDOW_S: "60", TRUSTED_PROXIES: "" },
		});
	});
	afterAll(() => p.stop());

	it("lets a client make RATE_LIMIT_MAX requests, then answers 429 with Retry-After", async () => {
		const statuses: number[] = [];
		let last;
		for (let i = 0; i < 6; i++) {
			last = await p.http("GET", "/api/greeter/hello", { headers: { "x-forwarded-for": `10.0.0.${i}` } });
			statuses.push(last.status);
			if (i === 0) {
				expect(last.headers.get("ratelimit-limit")).toBe("5");
				expect(last.headers.get("ratelimit-remaining")).toBe("4");
			}
		}
		// X-Forwarded-For from an untrusted peer is ignored: all six count against one address.
		expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
		expect(last!.body.code).toBe("RATE_LIMITED");
		expect(Number(last!.headers.get("retry-after"))).toBeGreaterThan(0);
		expect(last!.headers.get("ratelimit-remaining")).toBe("0");
	});

	it("counts authenticated callers by user, not by address", async () => {
		const alice = p.token({ sub: "alice" });
		const bob = p.token({ sub: "bob" });
		for (let i = 0; i < 5; i++) expect((await p.http("GET", "/api/greeter/me", { token: alice })).status).toBe(200);
		expect((await p.http("GET", "/api/greeter/me", { token: alice })).status).toBe(429);
		expect((await p.http("GET", "/api/greeter/me", { token: bob })).status).toBe(200);
	});

	it("applies an action's stricter limit", async () => {
		const carol = p.token({ sub: "carol" });
		expect((await p.http("POST", "/api/probe/sign-in", { token: carol })).status).toBe(200);
		expect((await p.http("POST", "/api/probe/sign-in", { token: carol })).status).toBe(200);
		const third = await p.http("POST", "/api/probe/sign-in", { token: carol });
		expect(third.status).toBe(429);
		expect(third.headers.get("ratelimit-limit")).toBe("2");
	});
});
