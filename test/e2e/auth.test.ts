/**
 * Registration and sign-in over HTTP through the real gateway, with the real `users` service.
 */
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const PASSWORD = "correct-horse-42";
const HASHES = /passwordHash|tokenHash|scrypt\$/;

describe("auth: register and login", () => {
	let p: Platform;
	const http: Platform["http"] = (method, path, opts) => p.http(method, path, opts);
	const register = (email: string, password = PASSWORD, name = "Test User") =>
		http("POST", "/api/auth/register", { body: { email, password, name } });

	beforeAll(async () => {
		p = await startPlatform({ services: ["auth", "tenants", "users"], env: { PASSWORD_SCRYPT_N: "1024", TRUSTED_PROXIES: "loopback" } });
	});
	afterAll(() => p.stop());

	it("registers: 201 with the profile and a token pair that works", async () => {
		const res = await register("  Alice@Example.COM ", PASSWORD, "Alice");
		expect(res.status).toBe(201);
		expect(res.body).toMatchObject({
			user: { id: expect.any(String), name: "Alice" },
			tokenType: "Bearer",
			expiresIn: 900,
			tenantId: null,
			roles: [],
		});
		expect(typeof res.body.accessToken).toBe("string");
		expect(res.body.refreshToken).toMatch(/^[\w-]{43}$/);
		const me = await http("GET", "/api/auth/me", { token: res.body.accessToken });
		expect(me.status).toBe(200);
		expect(me.body.user).toMatchObject({ id: res.body.user.id, name: "Alice", email: "alice@example.com" });
		expect(me.body.memberships).toEqual([]);
	});

	it("refuses a second account for the same email, however it is written: 409 EMAIL_TAKEN", async () => {
		const res = await register("ALICE@example.com ");
		expect(res.status).toBe(409);
		expect(res.body.code).toBe("EMAIL_TAKEN");
	});

	it("lets exactly one of several simultaneous registrations of one email win", async () => {
		const results = await Promise.all(Array.from({ length: 5 }, () => register("race@example.com")));
		const statuses = results.map(r => r.status).sort();
		expect(statuses).toEqual([201, 409, 409, 409, 409]);
		for (const r of results.filter(r => r.status === 409)) expect(r.body.code).toBe("EMAIL_TAKEN");
		// and that one account can sign in
		const login = await http("POST", "/api/auth/login", { body: { email: "race@example.com", password: PASSWORD } });
		expect(login.status).toBe(200);
	});

	it("rejects weak passwords with 422 and the rule that failed", async () => {
		const short = await register("weak@example.com", "short");
		expect(short.status).toBe(422);
		expect(short.body.code).toBe("VALIDATION_ERROR");
		expect(short.body.errors).toEqual([{ field: "password", message: expect.stringContaining("10 characters") }]);
		const derived = await register("bob.smith@example.com", "bob.smith-2026");
		expect(derived.status).toBe(422);
		expect(derived.body.errors[0].field).toBe("password");
		const tooLong = await register("long@example.com", "x".repeat(300));
		expect(tooLong.status).toBe(422);
		// nothing was created
		expect((await register("weak@example.com")).status).toBe(201);
	});

	it("rejects malformed input with 422", async () => {
		const res = await http("POST", "/api/auth/register", { body: { email: "not-an-email", password: PASSWORD, name: "X" } });
		expect(res.status).toBe(422);
		expect(res.body.errors.some((e: { field: string }) => e.field === "email")).toBe(true);
	});

	it("signs in with POST /login and POST /session alike", async () => {
		await register("carol@example.com");
		for (const path of ["/api/auth/login", "/api/auth/session"]) {
			const res = await http("POST", path, { body: { email: " Carol@example.com", password: PASSWORD } });
			expect(res.status).toBe(200);
			expect(res.body).toMatchObject({ user: { id: expect.any(String), email: "carol@example.com" }, tokenType: "Bearer", expiresIn: 900 });
			// a stricter per-address limit than the gateway default
			expect(res.headers.get("ratelimit-policy")).toBe("20;w=60");
			expect(typeof res.body.accessToken).toBe("string");
			expect(typeof res.body.refreshToken).toBe("string");
		}
	});

	it("answers a wrong password and an unknown email identically: 401 INVALID_CREDENTIALS", async () => {
		await register("dave@example.com");
		const wrongPassword = await http("POST", "/api/auth/login", { body: { email: "dave@example.com", password: "not-the-password" } });
		const unknownEmail = await http("POST", "/api/auth/login", { body: { email: "nobody-here@example.com", password: "not-the-password" } });
		for (const r of [wrongPassword, unknownEmail]) {
			expect(r.status).toBe(401);
			expect(r.body.code).toBe("INVALID_CREDENTIALS");
		}
		const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined });
		expect(strip(wrongPassword.body)).toEqual(strip(unknownEmail.body));
	});

	it("slows a stranger guessing from one address with a growing delay, without locking the owner out", async () => {
		await p.broker.call("auth.register", { email: "eve@example.com", password: PASSWORD, name: "Eve" });
		const from = (ip: string, password: string) =>
			http("POST", "/api/auth/session", { body: { email: "eve@example.com", password }, headers: { "x-forwarded-for": ip } });
		const stranger = "203.0.113.9";
		// five free failures, then the sixth earns this address a one-second wait
		for (let i = 0; i < 6; i++) expect((await from(stranger, `wrong-password-${i}`)).status).toBe(401);
		const slowed = await from(stranger, PASSWORD);
		expect(slowed.status).toBe(429);
		expect(slowed.body.code).toBe("TOO_MANY_ATTEMPTS");
		expect(slowed.headers.get("retry-after")).toBe("1");
		// the owner, from their own address, signs in at once, with the right password and after a typo
		expect((await from("198.51.100.20", "a-typo-password")).status).toBe(401);
		expect((await from("198.51.100.20", PASSWORD)).status).toBe(200);
		// once the wait is over the stranger may guess again; the next failure doubles the wait
		await waitFor(async () => (await from(stranger, "wrong-password-7")).status === 401, { intervalMs: 400, what: "the stranger's wait to end" });
		const slower = await from(stranger, "wrong-password-8");
		expect(slower.status).toBe(429);
		expect(slower.headers.get("retry-after")).toBe("2");
		// other accounts are not affected
		await p.broker.call("auth.register", { email: "frank@example.com", password: PASSWORD, name: "Frank" });
		expect(
			(
				await http("POST", "/api/auth/session", {
					body: { email: "frank@example.com", password: PASSWORD },
					headers: { "x-forwarded-for": stranger },
				})
			).status,
		).toBe(200);
	});

	it("sends Retry-After with every 429", () => {
		const tooMany = p.responses.filter(r => r.status === 429);
		expect(tooMany.length).toBeGreaterThan(0);
		for (const r of tooMany) expect(Number(r.headers.get("retry-after"))).toBeGreaterThan(0);
	});

	it("never puts a password or token hash in a response", () => {
		expect(p.responses.length).toBeGreaterThan(10);
		for (const r of p.responses) expect(JSON.stringify(r.body)).not.toMatch(HASHES);
	});
});
