/**
 * Every action that can answer 201 names what it made: the function that sets `ctx.meta.$statusCode` to
 * 201 (or to a choice that includes 201) also sets `ctx.meta.$location`. Without it the client gets no
 * Location header and moleculer-web logs "The 'ctx.meta.$location' is missing for status code '201'!".
 */
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");

function sourceFiles(dir: string): string[] {
	return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
		const p = path.join(dir, e.name);
		if (e.isDirectory()) return sourceFiles(p);
		return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [p] : [];
	});
}

const assignsTo = (node: ts.Node, name: string): node is ts.BinaryExpression =>
	ts.isBinaryExpression(node) &&
	node.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
	ts.isPropertyAccessExpression(node.left) &&
	node.left.name.text === name;

const contains = (node: ts.Node, test: (n: ts.Node) => boolean): boolean =>
	test(node) || (ts.forEachChild(node, n => contains(n, test) || undefined) ?? false);

const is201 = (n: ts.Node) => ts.isNumericLiteral(n) && n.text === "201";
const setsLocation = (n: ts.Node) =>
	assignsTo(n, "$location") || ((ts.isPropertyAssignment(n) || ts.isShorthandPropertyAssignment(n)) && n.name.getText() === "$location");

/** Each `….$statusCode = <…201…>` of the file, and whether its enclosing function also sets `$location`. */
function createdAnswers(file: string): { where: string; hasLocation: boolean }[] {
	const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
	const out: { where: string; hasLocation: boolean }[] = [];
	const visit = (node: ts.Node) => {
		if (assignsTo(node, "$statusCode") && contains(node.right, is201)) {
			let fn: ts.Node | undefined = node.parent;
			while (fn && !ts.isFunctionLike(fn)) fn = fn.parent;
			const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
			out.push({ where: `${path.relative(ROOT, file)}:${line}`, hasLocation: !!fn && contains(fn, setsLocation) });
		}
		ts.forEachChild(node, visit);
	};
	visit(source);
	return out;
}

describe("201 answers", () => {
	const all = sourceFiles(path.join(ROOT, "services")).flatMap(createdAnswers);

	it("finds the actions that answer 201", () => {
		expect(all.length).toBeGreaterThan(30);
	});

	it("set ctx.meta.$location in the same function", () => {
		expect(all.filter(a => !a.hasLocation).map(a => a.where)).toEqual([]);
	});
});
