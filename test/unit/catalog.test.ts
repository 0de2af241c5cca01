import { knownServiceNames, selectServices, UnknownServiceError } from "../../services/catalog";

describe("service catalog (SERVICES)", () => {
	const names = (spec: string) => selectServices(spec).map(s => s.name);

	it("runs every product service for '*', and no sample service", () => {
		const all = names("*");
		expect(all).toEqual(expect.arrayContaining(["api", "auth", "users", "posts", "leads"]));
		expect(all).not.toContain("greeter");
		expect(all).not.toContain("notes");
		expect(knownServiceNames()).not.toContain("greeter");
	});

	it("runs the samples only when named, by domain or by service", () => {
		expect(names("sample").sort()).toEqual(["greeter", "notes"]);
		expect(names("gateway,greeter").sort()).toEqual(["api", "greeter", "realtime"]);
		const withSamples = names("*,sample");
		expect(withSamples).toEqual(expect.arrayContaining(["api", "leads", "greeter", "notes"]));
	});

	it("refuses a name that matches nothing", () => {
		expect(() => selectServices("gateway,nope")).toThrow(UnknownServiceError);
	});
});
