/**
 * Conventions of every read, checked on every service the codebase has (README, "Conventions every
 * service follows"):
 * - a GET route's action is `$$strict`: a param it does not declare never reaches its handler, so
 *   nothing a caller adds (`search`, `query[...]`, `populate`, …) can change the answer;
 * - a cached action's keys name every param it declares: two calls that may answer differently
 *   never share a cache entry;
 * - a cached action of a tenant-scoped service has the caller's tenant in its keys.
 */
import { ServiceBroker, type Service } from "moleculer";
import { isTenantScoped } from "../../mixins/tenant.mixin";
import { serviceFiles } from "../../services/catalog";

interface ActionDef {
	rest?: unknown;
	params?: Record<string, unknown>;
	cache?: boolean | { keys?: string[] };
}

const isGet = (rest: unknown): boolean =>
	(Array.isArray(rest) ? rest : [rest]).some(r =>
		typeof r === "string" ? /^GET\s/i.test(r) : !!r && /^GET$/i.test(String((r as { method?: string }).method)),
	);

describe("read conventions of every service", () => {
	const broker = new ServiceBroker({ logger: false });
	const services: Service[] = serviceFiles()
		.filter(f => f.name !== "api")
		.map(f => broker.loadService(f.file));
	const actions = services.flatMap(svc =>
		Object.entries((svc.schema.actions ?? {}) as Record<string, ActionDef>)
			.filter(([, a]) => a && typeof a === "object")
			.map(([name, a]) => ({ name: `${svc.name}.${name}`, svc, a })),
	);
	afterAll(() => broker.destroyService !== undefined && Promise.all(services.map(s => broker.destroyService(s))));

	it("finds the routes it checks", () => {
		expect(actions.filter(x => isGet(x.a.rest)).length).toBeGreaterThan(30);
		expect(actions.filter(x => x.a.cache).length).toBeGreaterThan(10);
	});

	it("declares $$strict on every GET route's params", () => {
		const loose = actions.filter(x => isGet(x.a.rest) && !x.a.params?.$$strict).map(x => x.name);
		expect(loose).toEqual([]);
	});

	it("puts every declared param of a cached action into its cache keys", () => {
		const missing: string[] = [];
		for (const { name, a } of actions) {
			if (!a.cache) continue;
			const keys = typeof a.cache === "object" ? a.cache.keys : undefined;
			if (!keys) continue; // no keys: moleculer hashes all params (and no meta)
			for (const p of Object.keys(a.params ?? {})) if (!p.startsWith("$$") && !keys.includes(p)) missing.push(`${name}: ${p}`);
		}
		expect(missing).toEqual([]);
	});

	it("keys every cached action of a tenant-scoped service by the caller's tenant", () => {
		const unkeyed = actions
			.filter(x => x.a.cache && isTenantScoped(x.svc))
			.filter(x => !(typeof x.a.cache === "object" && x.a.cache.keys?.includes("#user.tenantId")))
			.map(x => x.name);
		expect(actions.some(x => x.a.cache && isTenantScoped(x.svc))).toBe(true);
		expect(unkeyed).toEqual([]);
	});
});
