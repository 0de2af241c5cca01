/**
 * The tenant-scoping lint rule (eslint.config.mjs, TENANT_SCOPED) covers every service built on
 * TenantDbMixin, and refuses the store adapter in each of its forms. ESLint runs in a child process
 * (its flat config is an ES module, which jest's CommonJS runtime does not load).
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { serviceFiles } from "../../services/catalog";

const root = path.resolve(__dirname, "../..");

function eslint(script: string): any {
	const res = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8", timeout: 60_000 });
	if (res.status !== 0) throw new Error(`eslint script failed: ${res.stderr}`);
	return JSON.parse(res.stdout);
}

describe("tenant scoping lint rule", () => {
	it("applies to every service file that uses TenantDbMixin", () => {
		const tenantFiles = serviceFiles()
			.map(s => s.file)
			.filter(f => /TenantDbMixin\(/.test(fs.readFileSync(f, "utf8")));
		expect(tenantFiles.length).toBeGreaterThan(5);
		const configs = eslint(`
			import { ESLint } from "eslint";
			const eslint = new ESLint();
			const out = {};
			for (const f of ${JSON.stringify(tenantFiles)}) out[f] = (await eslint.calculateConfigForFile(f)).rules["no-restricted-syntax"] ?? null;
			process.stdout.write(JSON.stringify(out));
		`);
		const uncovered = tenantFiles.filter(f => !JSON.stringify(configs[f] ?? "").includes("adapter"));
		expect(uncovered.map(f => path.relative(root, f))).toEqual([]);
	});

	it("refuses this.adapter, its casts, computed access and destructuring, and DbMixin, in tenant-scoped code", () => {
		const probe = [
			'import { DbMixin } from "../../mixins/db.mixin";',
			"export const m = DbMixin;",
			"export function a(this: any) { return this.adapter.find({}); }",
			"export function b(this: any) { return (this as any).adapter.db.getAllData(); }",
			"export function c(this: any) { const { adapter } = this; return adapter; }",
			'export function d(this: any) { return this["adapter"]; }',
			"export function ok(this: any, ctx: any) { return this.scopedFindOne(ctx, { kind: 'x' }); }",
		].join("\n");
		const messages = eslint(`
			import { ESLint } from "eslint";
			const [result] = await new ESLint().lintText(${JSON.stringify(probe)}, { filePath: "services/crm/lint-probe.ts" });
			process.stdout.write(JSON.stringify(result.messages.map(m => ({ line: m.line, rule: m.ruleId }))));
		`) as { line: number; rule: string }[];
		expect(messages).toEqual([
			{ line: 1, rule: "no-restricted-imports" },
			{ line: 3, rule: "no-restricted-syntax" },
			{ line: 4, rule: "no-restricted-syntax" },
			{ line: 5, rule: "no-restricted-syntax" },
			{ line: 6, rule: "no-restricted-syntax" },
		]);
	});
});
