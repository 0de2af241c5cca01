/**
 * The services this codebase has: `services/<domain>/<name>.service.ts`, one service per file, the
 * file named after the service. SERVICES picks which a node runs: `*` for all, or a comma list of
 * service names and domain folders (`gateway,identity`, `greeter`). Names that match nothing stop
 * the start with a clear message. The `sample` domain (greeter, notes: for tests and benchmarks) is not
 * part of `*`; name it (`SERVICES=sample` or `gateway,greeter`) to run it.
 */
import fs from "node:fs";
import path from "node:path";

export interface ServiceFile {
	name: string;
	domain: string;
	file: string;
}

const ext = path.extname(__filename); // .ts from source (tsx, jest), .js when built

let cache: ServiceFile[] | undefined;
export function serviceFiles(): ServiceFile[] {
	if (cache) return cache;
	const out: ServiceFile[] = [];
	for (const domain of fs.readdirSync(__dirname, { withFileTypes: true })) {
		if (!domain.isDirectory()) continue;
		for (const f of fs.readdirSync(path.join(__dirname, domain.name))) {
			if (f.endsWith(`.service${ext}`) && !f.endsWith(".d.ts"))
				out.push({ name: f.slice(0, -`.service${ext}`.length), domain: domain.name, file: path.join(__dirname, domain.name, f) });
		}
	}
	return (cache = out.sort((a, b) => a.file.localeCompare(b.file)));
}

/** Services that are examples for tests and benchmarks, not product: never in `*`. */
const SAMPLE_DOMAIN = "sample";

/** The product's services (what `*` runs), without the gateway itself. */
export function knownServiceNames(): string[] {
	return serviceFiles()
		.filter(s => s.domain !== SAMPLE_DOMAIN)
		.map(s => s.name)
		.filter(n => n !== "api");
}

/** Every service of this codebase, samples included (a path under one of them that no node runs is a 503, not a 404). */
export function codebaseServiceNames(): string[] {
	return serviceFiles()
		.map(s => s.name)
		.filter(n => n !== "api");
}

export class UnknownServiceError extends Error {}

export function selectServices(spec: string): ServiceFile[] {
	const all = serviceFiles();
	const wanted = spec
		.split(",")
		.map(s => s.trim())
		.filter(Boolean);
	const everything = wanted.includes("*") || wanted.includes("all");
	const named = wanted.filter(w => w !== "*" && w !== "all");
	const unknown = named.filter(w => !all.some(s => s.name === w || s.domain === w));
	if (unknown.length)
		throw new UnknownServiceError(
			`SERVICES: unknown service or domain '${unknown.join("', '")}' (have: ${[...new Set(all.flatMap(s => [s.domain, s.name]))].join(", ")})`,
		);
	// `*` is every product service; anything named (a sample, say) comes on top.
	return all.filter(s => (everything && s.domain !== SAMPLE_DOMAIN) || named.includes(s.name) || named.includes(s.domain));
}
