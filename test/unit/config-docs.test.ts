/** Every validated variable is documented where an operator looks: .env.example and the README's table. */
import fs from "node:fs";
import path from "node:path";
import { configSchema } from "../../lib/config";

const root = path.join(__dirname, "../..");
const variables = Object.keys(configSchema).filter(k => !k.startsWith("$$"));

describe("configuration docs", () => {
	it("lists every variable in .env.example, with its default on a KEY= line", () => {
		const example = fs.readFileSync(path.join(root, ".env.example"), "utf8");
		const missing = variables.filter(k => !new RegExp(`^#? ?${k}=`, "m").test(example));
		expect(missing).toEqual([]);
	});

	it("names every variable in the README's configuration table", () => {
		const readme = fs.readFileSync(path.join(root, "README.md"), "utf8");
		const start = readme.indexOf("| group | variables |");
		const table = readme.slice(start, readme.indexOf("\n\n", start));
		expect(start).toBeGreaterThan(0);
		expect(variables.filter(k => !table.includes("`" + k + "`"))).toEqual([]);
	});
});
