/**
 * Limits of sensitive actions, checked over the route table so that an action added later is held to
 * the same rules: anything anyone may call with a declared limit is counted per client address whatever
 * Bearer token comes along (login, its alias, register, password reset, refresh, the public lead intake);
 * routes naming one bucket share it; "ip+account" counts the address and the account.
 */
import type { RateLimitRule } from "../../lib/access";
import { startPlatform, type Platform } from "../helpers/platform";

interface Route {
	method: string;
	path: string;
	action: { name: string; auth?: string; visibility?: string; rateLimit?: RateLimitRule };
}

describe("rate limits of sensitive actions", () => {
	let p: Platform;
	let routes: Route[];
	let nextAddress = 1;
	const address = () => `198.18.${Math.floor(nextAddress / 250)}.${nextAddress++ % 250}`;
	const call = (r: Route, ip: string, token?: string) =>
		p.http(r.method, r.path, { token, headers: { "x-forwarded-for": ip }, ...(r.method === "GET" ? {} : { body: {} }) });
	const bucketOf = (r: Route) => r.action.rateLimit!.bucket ?? r.action.name;
	const groups = (list: Route[]) => {
		const by = new Map<string, Route[]>();
		for (const r of list) by.set(bucketOf(r), [...(by.get(bucketOf(r)) ?? []), r]);
		return by;
	};

	beforeAll(async () => {
		p = await startPlatform({ services: ["identity", "social", "crm"], env: { PASSWORD_SCRYPT_N: "1024", TRUSTED_PROXIES: "loopback" } });
		const api = p.broker.getLocalService("api") as unknown as { aliases: { method: string; fullPath: string; action?: string }[] };
		const defs = new Map(
			(p.broker.registry.getActionList({} as never) as { name: string; action: Route["action"] }[]).map(a => [a.name, a.action]),
		);
		routes = api.aliases
			.filter(a => a.action && a.fullPath.startsWith("/api"))
			.map(a => ({ method: a.method, path: a.fullPath.replace(/\{[^}]*\}/g, "").replace(/:\w+/g, "x"), action: defs.get(a.action!)! }))
			.filter(r => r.action?.rateLimit);
	});
	afterAll(() => p.stop());

	it("declares one limit per bucket: routes that share a bucket share its rule", () => {
		for (const [bucket, list] of groups(routes)) {
			const rules = new Set(list.map(r => `${r.action.rateLimit!.max}/${r.action.rateLimit!.windowSec}/${r.action.rateLimit!.by ?? "ip"}`));
			expect({ bucket, rules: [...rules] }).toEqual({ bucket, rules: [[...rules][0]] });
		}
	});

	it("counts every public rate-limited route per client address, whatever Bearer token comes along", async () => {
		const open = routes.filter(r => r.action.auth === "public" || r.action.auth === "optional");
		const buckets = groups(open);
		// not vacuous: the sensitive operations are all here, login with its alias in one bucket
		expect(
			buckets
				.get("auth.login")
				?.map(r => r.path)
				.sort(),
		).toEqual(["/api/auth/login", "/api/auth/session"]);
		for (const name of ["auth.register", "auth.forgotPassword", "auth.resetPassword", "auth.refresh", "intake.capture"])
			expect(buckets.has(name)).toBe(true);

		for (const [bucket, list] of buckets) {
			const ip = address();
			const max = list[0].action.rateLimit!.max;
			// every request with the token of another (valid) user: each would have had a bucket of its own before
			for (let i = 0; i < max; i++) {
				const res = await call(list[i % list.length], ip, p.token({ sub: `${bucket}-user-${i}` }));
				expect({ bucket, i, status: res.status }).not.toEqual({ bucket, i, status: 429 });
			}
			for (const r of list) {
				for (const token of [undefined, p.token({ sub: `${bucket}-fresh-user` })]) {
					const res = await call(r, ip, token);
					expect({ path: r.path, status: res.status, code: res.body?.code }).toEqual({ path: r.path, status: 429, code: "RATE_LIMITED" });
					expect(Number(res.headers.get("retry-after"))).toBeGreaterThan(0);
				}
				// another address has its own count
				expect((await call(r, address())).status).not.toBe(429);
			}
		}
	});

	it("shares one budget between POST /login and POST /session", async () => {
		const ip = address();
		const [login, session] = ["/api/auth/login", "/api/auth/session"].map(path => routes.find(r => r.path === path)!);
		for (let i = 0; i < 10; i++) {
			expect((await call(login, ip)).status).not.toBe(429);
			expect((await call(session, ip)).status).not.toBe(429);
		}
		expect((await call(login, ip)).status).toBe(429);
		expect((await call(session, ip)).status).toBe(429);
	});

	it("counts 'ip+account' routes per address and per account", async () => {
		const both = routes.filter(r => r.action.rateLimit!.by === "ip+account");
		expect(both.map(r => r.path)).toContain("/api/auth/password");
		for (const r of both) {
			const max = r.action.rateLimit!.max;
			const [ipA, ipB] = [address(), address()];
			const alice = p.token({ sub: `${r.path}-alice` });
			for (let i = 0; i < max; i++) expect((await call(r, ipA, alice)).status).not.toBe(429);
			// the same account from another address: its account count is spent
			expect((await call(r, ipB, alice)).status).toBe(429);
			// another account from the same address: the address count is spent
			expect((await call(r, ipA, p.token({ sub: `${r.path}-bob` }))).status).toBe(429);
			// anyone else, elsewhere, is not affected
			expect((await call(r, address(), p.token({ sub: `${r.path}-carol` }))).status).not.toBe(429);
		}
	});
});
