/**
 * The top self-time entries of a V8 CPU profile (`node --cpu-prof`, or BENCH_CPU_PROF=dir with the
 * gateway benchmark), as a percentage of busy time (everything but "(idle)"), by function and by file.
 *
 * A profiled node also starts up and waits while other targets are measured: by default only the
 * seconds under load count (at least `--busy` (50) % busy, leaving out the first busy stretch, which is
 * the start-up). `--all` counts everything; `--from=S --to=S` a window in seconds since the profile began.
 *
 *   npx tsx bench/cpu-profile-top.ts profiles/auth.cpuprofile [--top=25] [--all | --from=20 --to=35] [--total]
 *
 * `--total` adds each function's total time (itself and everything it called): where a request's time goes.
 */
import fs from "node:fs";
import path from "node:path";

interface ProfileNode {
	id: number;
	callFrame: { functionName: string; url: string; lineNumber: number };
	children?: number[];
}
interface Profile {
	nodes: ProfileNode[];
	samples: number[];
	timeDeltas: number[];
}

const file = process.argv[2];
if (!file) {
	console.error("usage: npx tsx bench/cpu-profile-top.ts <file.cpuprofile> [--top=25]");
	process.exit(2);
}
const arg = (name: string) => process.argv.find(a => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const top = Number(arg("top") ?? 25);
const profile = JSON.parse(fs.readFileSync(file, "utf8")) as Profile;
const byId = new Map(profile.nodes.map(n => [n.id, n]));

// Which second of the profile each sample falls in, and how busy each second was.
const idleIds = new Set(profile.nodes.filter(n => n.callFrame.functionName === "(idle)").map(n => n.id));
const second: number[] = [];
const busyBySecond: number[] = [];
let t = 0;
profile.samples.forEach((id, i) => {
	t += profile.timeDeltas[i] ?? 0;
	const s = Math.floor(t / 1e6);
	second.push(s);
	busyBySecond[s] ??= 0;
	if (!idleIds.has(id)) busyBySecond[s] += profile.timeDeltas[i] ?? 0;
});
const threshold = Number(arg("busy") ?? 50) * 1e4;
let counted: (s: number) => boolean;
if (process.argv.includes("--all")) counted = () => true;
else if (arg("from") || arg("to")) {
	const from = Number(arg("from") ?? 0);
	const to = Number(arg("to") ?? Infinity);
	counted = s => s >= from && s < to;
} else {
	// skip the first busy stretch (start-up), then count every busy second
	let s = 0;
	while (s < busyBySecond.length && !((busyBySecond[s] ?? 0) >= threshold)) s++;
	while (s < busyBySecond.length && (busyBySecond[s] ?? 0) >= threshold) s++;
	const startupEnd = s;
	counted = x => x >= startupEnd && (busyBySecond[x] ?? 0) >= threshold;
}
console.log(`busy % per second: ${busyBySecond.map(b => Math.round((b ?? 0) / 1e4)).join(" ")}`);
const self = new Map<number, number>();
profile.samples.forEach((id, i) => {
	if (counted(second[i])) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});

const root = process.cwd();
const where = (url: string) => {
	if (!url) return "";
	const p = url.replace(/^file:\/\//, "");
	const nm = p.lastIndexOf("node_modules/");
	if (nm >= 0) return p.slice(nm + "node_modules/".length);
	return p.startsWith(root) ? path.relative(root, p) : p;
};

let total = 0;
let idle = 0;
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of self) {
	const node = byId.get(id)!;
	const { functionName, url, lineNumber } = node.callFrame;
	total += us;
	if (functionName === "(idle)") {
		idle += us;
		continue;
	}
	const loc = where(url);
	const fn = `${functionName || "(anonymous)"}${loc ? `  ${loc}:${lineNumber + 1}` : ""}`;
	byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
	const key = loc ? loc.replace(/^((?:@[^/]+\/)?[^/]+)\/.*$/, (m, pkg) => (url.includes("node_modules/") ? pkg : m)) : functionName;
	byFile.set(key, (byFile.get(key) ?? 0) + us);
}
const busy = total - idle;
const pct = (us: number) => `${((100 * us) / busy).toFixed(1).padStart(5)} %`;
const print = (title: string, map: Map<string, number>) => {
	console.log(`\n${title}`);
	for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${k}`);
};
console.log(`${file}: ${(total / 1e6).toFixed(1)} s counted, ${(busy / 1e6).toFixed(1)} s busy (${((100 * busy) / total).toFixed(0)} %)`);
print("self time by function (% of busy time)", byFunction);
print("self time by package / file (% of busy time)", byFile);

// Total (inclusive) time: a function's own time plus what it called, each function once per sample.
if (process.argv.includes("--total")) {
	const parent = new Map<number, number>();
	for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
	const name = (n: ProfileNode) => {
		const loc = where(n.callFrame.url);
		return `${n.callFrame.functionName || "(anonymous)"}${loc ? `  ${loc}:${n.callFrame.lineNumber + 1}` : ""}`;
	};
	const inclusive = new Map<string, number>();
	for (const [id, us] of self) {
		if (idleIds.has(id)) continue;
		const seen = new Set<string>();
		for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
			const fn = name(byId.get(at)!);
			if (seen.has(fn)) continue;
			seen.add(fn);
			inclusive.set(fn, (inclusive.get(fn) ?? 0) + us);
		}
	}
	print("total time by function: itself and what it called (% of busy time)", inclusive);
}
