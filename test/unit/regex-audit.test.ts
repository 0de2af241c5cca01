/**
 * Every regular expression literal in our code (services/, lib/, mixins/, middlewares/) is safe from
 * catastrophic backtracking (README: Security): on inputs of up to 2,048 characters built from the
 * characters it deals with (plus a character that makes it fail), each answers in under 50 ms. An
 * exponential pattern (`(a+)+$`) is that slow at about 20 characters, a cubic one at a few hundred; the
 * lengths grow step by step, so such a pattern fails here instead of hanging the test.
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");
const DIRS = ["services", "lib", "mixins", "middlewares"];

function sourceFiles(dir: string): string[] {
	return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
		const p = path.join(dir, e.name);
		if (e.isDirectory()) return sourceFiles(p);
		return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
	});
}

function regexLiterals(file: string): { where: string; re: RegExp }[] {
	const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
	const out: { where: string; re: RegExp }[] = [];
	const visit = (node: ts.Node) => {
		if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
			const text = node.getText(source);
			const end = text.lastIndexOf("/");
			const flags = text.slice(end + 1).replace(/[gy]/g, "");
			const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
			out.push({ where: `${path.relative(ROOT, file)}:${line} ${text}`, re: new RegExp(text.slice(1, end), flags) });
		}
		ts.forEachChild(node, visit);
	};
	visit(source);
	return out;
}

const UNITS = ["a", "A", "0", " ", "\t", "-", ".", "@", "_", "/", "#", ":", "é", "a@", "a.", "a-", "a/", "a ", "0-", "@.", "a@a."];
const SUFFIXES = ["", "!", "\u0000"];
const LENGTHS = [16, 18, 20, 22, 24, 32, 64, 128, 256, 512, 1024, 2048];
const SLOW_MS = 50;

/** Where `re` is slow: the first input (by growing length) it takes over SLOW_MS on, or undefined. */
function slowInput(re: RegExp): string | undefined {
	// The characters the pattern itself names, as well as the usual suspects.
	const own = [...new Set(re.source.replace(/\\[dDwWsSbBpPu]|\\.|[\^$|()[\]{}*+?]/g, "").split(""))];
	for (const unit of [...UNITS, ...own]) {
		for (const length of LENGTHS) {
			for (const suffix of SUFFIXES) {
				const input = unit.repeat(Math.ceil(length / unit.length)) + suffix;
				// The fastest of up to three runs: a shared machine may deschedule one of them (and V8 compiles
				// a pattern to machine code after its first run, so the fastest is the compiled pattern's time).
				let ms = Infinity;
				for (let run = 0; run < 3 && ms > SLOW_MS; run++) {
					const started = performance.now();
					re.test(input);
					ms = Math.min(ms, performance.now() - started);
				}
				// longer inputs would only take longer
				if (ms > SLOW_MS) return `${ms.toFixed(0)} ms on ${JSON.stringify(unit)}×${length}${JSON.stringify(suffix)}`;
			}
		}
	}
	return undefined;
}

describe("regular expressions in our code", () => {
	const all = DIRS.flatMap(d => sourceFiles(path.join(ROOT, d))).flatMap(regexLiterals);

	it("finds the patterns to audit", () => {
		expect(all.length).toBeGreaterThan(30);
	});

	it("has no pattern that backtracks catastrophically", () => {
		const slow = all.flatMap(({ where, re }) => {
			const input = slowInput(re);
			return input ? [`${where}: ${input}`] : [];
		});
		expect(slow).toEqual([]);
	});

	it("would catch an exponential pattern (the audit works)", () => {
		expect(slowInput(/^(a+)+$/)).toMatch(/ms on "a"×2\d"!"/);
	});
});
