/**
 * What the gateway's fast paths keep (README, "The gateway" → "What moved, and why it is as safe"):
 * a remembered token is still checked against the revocation list and never stands in for another
 * token; a tampered or expired token right after a hit for a genuine one is refused; the alias index
 * routes every real route as moleculer-web's linear search does; responses keep every header.
 */
import { randomUUID } from "node:crypto";
import jwt from "jsonwebtoken";
import type { Service } from "moleculer";
import type { AliasLike } from "../../lib/alias-index";
import { startPlatform, type Platform } from "../helpers/platform";

const admin = {
	name: "fastpath",
	actions: {
		adminOnly: { rest: "GET /admin-only", auth: "required", roles: ["admin"], params: {}, handler: () => ({ ok: true }) },
	},
};

describe("gateway fast paths", () => {
	let p: Platform;
	beforeAll(async () => {
		p = await startPlatform({
			services: ["identity", "social", "crm", "greeter", "notes"],
			extra: [admin as never],
			env: { PASSWORD_SCRYPT_N: "1024" },
		});
	});
	afterAll(() => p.stop());

	const me = (token: string) => p.http("GET", "/api/greeter/me", { token });
	const revoke = async (kind: "session" | "user", id: string) => {
		// what auth broadcasts when a session ends or a user is deleted (lib/revocations.ts)
		p.broker.broadcast("auth.revoked", { entries: [{ kind, id, until: new Date(Date.now() + 3_600_000).toISOString() }] });
		await new Promise(r => setTimeout(r, 20));
	};
	const tamper = (token: string) => {
		const i = token.length - 7;
		return token.slice(0, i) + (token[i] === "A" ? "B" : "A") + token.slice(i + 1);
	};

	it("refuses a remembered token on the first request after its session ended", async () => {
		const sid = `s-${randomUUID()}`;
		const token = p.token({ sub: `u-${randomUUID()}`, sid });
		expect((await me(token)).status).toBe(200);
		expect((await me(token)).status).toBe(200);
		await revoke("session", sid);
		const res = await me(token);
		expect(res.status).toBe(401);
		expect(res.body.code).toBe("TOKEN_REVOKED");
	});

	it("refuses a remembered token on the first request after its user was deleted", async () => {
		const sub = `u-${randomUUID()}`;
		const token = p.token({ sub });
		expect((await me(token)).status).toBe(200);
		await revoke("user", sub);
		expect((await me(token)).body.code).toBe("TOKEN_REVOKED");
	});

	it("refuses a tampered token right after a hit for the genuine one, and keeps serving the genuine one", async () => {
		const token = p.token({ sub: `u-${randomUUID()}` });
		expect((await me(token)).status).toBe(200);
		expect((await me(token)).status).toBe(200);
		const bad = await me(tamper(token));
		expect(bad.status).toBe(401);
		expect(bad.body.code).toBe("INVALID_TOKEN");
		expect((await me(token)).status).toBe(200);
	});

	it("refuses an expired token right after a hit for a valid one", async () => {
		const token = p.token({ sub: `u-${randomUUID()}` });
		expect((await me(token)).status).toBe(200);
		const expired = jwt.sign({ typ: "access", tid: null, roles: [], sid: "s-old" }, p.keys.current.privateKey, {
			algorithm: "RS256",
			keyid: p.keys.current.kid,
			issuer: "valence",
			audience: "valence-api",
			subject: "u-expired",
			expiresIn: -60,
		});
		const res = await me(expired);
		expect(res.status).toBe(401);
		expect(res.body.code).toBe("TOKEN_EXPIRED");
	});

	it("never answers one token with another token's user or roles", async () => {
		const member = p.token({ sub: "u-same", tid: "t1", roles: ["member"] });
		const promoted = p.token({ sub: "u-same", tid: "t1", roles: ["admin"] });
		expect((await p.http("GET", "/api/fastpath/admin-only", { token: member })).status).toBe(403);
		expect((await p.http("GET", "/api/fastpath/admin-only", { token: promoted })).status).toBe(200);
		expect((await p.http("GET", "/api/fastpath/admin-only", { token: member })).status).toBe(403);
		const tokens = ["a", "b", "c"].map(id => p.token({ sub: `u-${id}`, tid: `t-${id}`, roles: ["member"] }));
		const answers = await Promise.all([...tokens, ...tokens].map(t => me(t)));
		expect(answers.map(a => a.body.user.id)).toEqual(["u-a", "u-b", "u-c", "u-a", "u-b", "u-c"]);
	});

	it("routes every real route exactly as moleculer-web's linear search does", () => {
		const api = p.broker.getLocalService("api") as unknown as Service & {
			aliases: (AliasLike & { method: string; action?: string })[];
			resolveAlias(url: string, method: string): false | { alias: AliasLike; params: Record<string, unknown> };
		};
		const linear = (url: string, method: string) => {
			for (const alias of api.aliases)
				if (alias.isMethod(method)) {
					const params = alias.match(url);
					if (params) return { alias, params };
				}
			return false;
		};
		expect(api.aliases.length).toBeGreaterThan(100);
		let compared = 0;
		for (const alias of api.aliases) {
			const filled = alias.fullPath.replace(/\{([^}]*)\}/g, "$1").replace(/[:*]\w+/g, "x1");
			for (const url of [filled, filled.toUpperCase(), `${filled}/more`, filled.replace(/x1/g, "search"), filled.replace(/x1/g, "stats")])
				for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
					const want = linear(url, method);
					const got = api.resolveAlias(url, method);
					expect({ url, method, got: got && [got.alias, got.params] }).toEqual({ url, method, got: want && [want.alias, want.params] });
					compared++;
				}
		}
		expect(compared).toBeGreaterThan(1000);
	});

	it("keeps every security, rate-limit and request-id header on API answers", async () => {
		const res = await p.http("GET", "/api/greeter/hello");
		for (const h of [
			"content-security-policy",
			"cross-origin-opener-policy",
			"cross-origin-resource-policy",
			"origin-agent-cluster",
			"referrer-policy",
			"strict-transport-security",
			"x-content-type-options",
			"x-dns-prefetch-control",
			"x-download-options",
			"x-frame-options",
			"x-permitted-cross-domain-policies",
			"x-xss-protection",
			"ratelimit-limit",
			"ratelimit-remaining",
			"ratelimit-reset",
			"ratelimit-policy",
			"x-request-id",
		])
			expect({ h, present: res.headers.has(h) }).toEqual({ h, present: true });
		expect(res.headers.get("x-content-type-options")).toBe("nosniff");
	});
});
