/**
 * The API scopes (README, "API clients" → "Scopes"): every scope an action declares is in lib/access.ts
 * API_SCOPES, every listed scope is declared by some action, and the README's scopes table is exactly
 * that list with the actions of each, so neither can drift from the code.
 */
import fs from "node:fs";
import path from "node:path";
import { ServiceBroker, type Service } from "moleculer";
import { API_SCOPES } from "../../lib/access";
import { serviceFiles } from "../../services/catalog";

describe("API scopes", () => {
	const broker = new ServiceBroker({ logger: false });
	const services: Service[] = serviceFiles()
		.filter(f => f.name !== "api")
		.map(f => broker.loadService(f.file));
	afterAll(() => Promise.all(services.map(s => broker.destroyService(s))));

	/** scope → the actions declaring it, sorted */
	const declared = new Map<string, string[]>();
	for (const svc of services)
		for (const [name, a] of Object.entries((svc.schema.actions ?? {}) as Record<string, { scopes?: string[] }>))
			for (const s of (a && typeof a === "object" && a.scopes) || [])
				declared.set(s, [...(declared.get(s) ?? []), `${svc.name}.${name}`].sort());

	it("every declared scope is a known one, and every known one is declared", () => {
		expect([...declared.keys()].filter(s => !Object.hasOwn(API_SCOPES, s))).toEqual([]);
		expect(Object.keys(API_SCOPES).filter(s => !declared.has(s))).toEqual([]);
	});

	it("the README's scopes table lists exactly the known scopes and the actions of each", () => {
		const readme = fs.readFileSync(path.join(__dirname, "../../README.md"), "utf8");
		const start = readme.indexOf("| Scope | Allows | Actions |");
		expect(start).toBeGreaterThan(0);
		const rows = readme
			.slice(start)
			.split("\n")
			.slice(2)
			.filter((l, i, all) => l.startsWith("|") && all.slice(0, i).every(x => x.startsWith("|")));
		const expected = Object.entries(API_SCOPES).map(
			([s, allows]) =>
				`| \`${s}\` | ${allows} | ${declared
					.get(s)!
					.map(a => `\`${a}\``)
					.join(", ")} |`,
		);
		expect(rows).toEqual(expected);
	});
});
