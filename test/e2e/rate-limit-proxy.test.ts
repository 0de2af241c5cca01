/** Behind a trusted proxy, the client address comes from X-Forwarded-For. */
import { startPlatform, type Platform } from "../helpers/platform";

describe("rate limiting behind a trusted proxy", () => {
	let p: Platform;
	beforeAll(async () => {
		p = await startPlatform({ services: ["greeter"], env: { RATE_LIMIT_MAX: "2", TRUSTED_PROXIES: "loopback" } });
	});
	afterAll(() => p.stop());

	it("counts each forwarded client separately", async () => {
		const from = (ip: string) => p.http("GET", "/api/greeter/hello", { headers: { "x-forwarded-for": ip } });
		expect((await from("203.0.113.1")).status).toBe(200);
		expect((await from("203.0.113.1")).status).toBe(200);
		expect((await from("203.0.113.1")).status).toBe(429);
		expect((await from("203.0.113.2")).status).toBe(200);
	});
});
