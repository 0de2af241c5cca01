/** The alias index answers exactly what moleculer-web's linear search answers. */
import { AliasIndex, aliasKey, urlKey, type AliasLike } from "../../lib/alias-index";

// moleculer-web's own Alias class (not in its type declarations)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Alias = require("moleculer-web/src/alias") as new (service: object, route: object, def: string, action: string) => unknown;

type A = AliasLike & { method: string; action: string };
const route = { path: "/api", opts: {} };
const make = (def: string, action: string) => new Alias({}, route, def, action) as unknown as A;

/** moleculer-web's own resolveAlias. */
function linear(aliases: A[], url: string, method: string) {
	for (const alias of aliases)
		if (alias.isMethod(method)) {
			const params = alias.match(url);
			if (params) return { alias, params };
		}
	return false;
}

/** URLs that an alias's path can produce, and some near misses. */
function urlsFor(fullPath: string): string[] {
	const fill = (p: string, v: string) =>
		p
			.replace(/\{([^}]*)\}/g, (_, inner: string) => inner)
			.replace(/\*\w+/g, `${v}/deeper`)
			.replace(/:\w+/g, v);
	const drop = (p: string) => p.replace(/\{[^}]*\}/g, "");
	const base = [fill(fullPath, "42"), fill(fullPath, "a%20b"), drop(fill(fullPath, "x")), fill(fullPath, "stats")];
	return base.flatMap(u => [u, u.toUpperCase(), `${u}/extra`, u.replace(/^\/api/, "/API"), u.replace(/^\/api\/\w+/, "/api/unknown")]);
}

describe("alias index", () => {
	const defs: [string, string][] = [
		["GET /posts/:id", "posts.getPost"],
		["GET /posts/:id/stats", "posts.stats"],
		["GET /posts/search/:query", "posts.search"],
		["PUT /posts/:id", "posts.update"],
		["* /posts/any", "posts.any"],
		["GET /users{/:id}", "users.get"],
		["GET /users/:id/followers", "users.followers"],
		["GET /:tenant/leads", "leads.byTenant"],
		["GET /:service/:id", "generic.get"],
		["GET /files/*path", "files.get"],
		["GET /Mixed/Case", "mixed.case"],
		["POST /auth/login", "auth.login"],
		["GET /auth", "auth.root"],
		["GET /health", "health"],
	];
	const aliases = defs.map(([d, a]) => make(d, a));

	it("keys aliases by their first two plain segments, and URLs likewise", () => {
		expect(aliasKey("/api/posts/:id")).toBe("api/posts");
		expect(aliasKey("/api/:service/:id")).toBeNull();
		expect(aliasKey("/api/users{/:id}")).toBeNull();
		expect(aliasKey("/api")).toBe("api");
		expect(urlKey("/api/posts/42")).toBe("api/posts");
		expect(urlKey("/API/Posts")).toBe("api/posts");
		expect(urlKey("/api")).toBe("api");
		expect(urlKey("/")).toBe("");
	});

	it("finds the same alias and params as trying every alias in order", () => {
		const index = new AliasIndex<A>();
		let compared = 0;
		// the order moleculer-web keeps, and a few others (the answer depends on the order, not on the index)
		const orders = [aliases, [...aliases].reverse(), [...aliases].sort((a, b) => a.fullPath.localeCompare(b.fullPath))];
		for (const list of orders)
			for (const alias of aliases)
				for (const url of urlsFor(alias.fullPath))
					for (const method of ["GET", "PUT", "POST", "DELETE"]) {
						const want = linear(list, url, method);
						const got = index.resolve(list, url, method);
						expect({ url, method, got: got && { action: got.alias.action, params: got.params } }).toEqual({
							url,
							method,
							got: want && { action: want.alias.action, params: want.params },
						});
						compared++;
					}
		expect(compared).toBeGreaterThan(1000);
	});

	it("follows the gateway when it replaces or extends its alias list", () => {
		const index = new AliasIndex<A>();
		const first = aliases.slice(0, 3);
		expect(index.resolve(first, "/api/auth/login", "POST")).toBe(false);
		const next = [...first, make("POST /auth/login", "auth.login")];
		expect(index.resolve(next, "/api/auth/login", "POST")).toMatchObject({ alias: { action: "auth.login" } });
		next.push(make("GET /late/added", "late.added"));
		expect(index.resolve(next, "/api/late/added", "GET")).toMatchObject({ alias: { action: "late.added" } });
	});
});
