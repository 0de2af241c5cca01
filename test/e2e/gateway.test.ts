import { startPlatform, type Platform } from "../helpers/platform";

describe("gateway over HTTP", () => {
	let p: Platform;
	beforeAll(async () => {
		p = await startPlatform({ services: ["greeter", "notes"] });
	});
	afterAll(() => p.stop());

	it("serves a public cached action", async () => {
		const res = await p.http("GET", "/api/greeter/hello");
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ message: "Hello from Valence" });
	});

	it("passes the verified user to the action", async () => {
		const token = p.token({ sub: "u1", tid: "t1", roles: ["member"] });
		const res = await p.http("GET", "/api/greeter/me", { token });
		expect(res.status).toBe(200);
		expect(res.body.user).toEqual({ id: "u1", tenantId: "t1", roles: ["member"] });
	});
});
