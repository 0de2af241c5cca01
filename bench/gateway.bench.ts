/**
 * Gateway benchmark: requests/s and p50/p99 latency of `GET /api/greeter/hello` (a public, cached
 * read) through the real gateway, against a bare Node `http` server answering the same JSON.
 *
 *   raw        bench/raw-http.ts: node:http, no framework (the ceiling on this machine)
 *   embedded   one Valence process: SERVICES=gateway,greeter (memory cacher, no transporter)
 *   cluster    a gateway node + a greeter node over NATS, Redis cacher and Redis rate-limit counters
 *
 * Every target runs in its own child process(es), one target at a time, each with a warm-up first;
 * autocannon runs in this process. Any error, timeout or non-2xx answer fails the run (exit 1).
 *
 *   npm run bench
 *   BENCH_DURATION_S=5 BENCH_CONNECTIONS=32 npm run bench -- --targets raw,embedded
 *
 * Environment (or --name=value arguments: --duration, --connections, --warmup, --pipelining, --targets):
 *   BENCH_DURATION_S=10      measured seconds per target
 *   BENCH_WARMUP_S=3         warm-up seconds per target (not measured)
 *   BENCH_CONNECTIONS=50     concurrent keep-alive connections
 *   BENCH_PIPELINING=1       requests in flight per connection
 *   BENCH_TARGETS=raw,embedded,cluster
 *   BENCH_TRANSPORTER=nats://127.0.0.1:4222   BENCH_CACHER=redis://127.0.0.1:6379   (cluster target)
 *   BENCH_RUNTIME=tsx|dist   run the nodes from source through tsx (default) or from the build in dist/
 *   BENCH_RATE_LIMIT_MAX=1000000000   the gateway's RATE_LIMIT_MAX (every request comes from one address)
 *   BENCH_JSON=path          also write the results as JSON
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import autocannon from "autocannon";
import { HELLO_BODY } from "./raw-http";

const ROOT = path.resolve(__dirname, "..");
const PATH = "/api/greeter/hello";

// ── options ───────────────────────────────────────────────────────────────────────────────────────
function usageError(message: string): never {
	console.error(`bench: ${message}`);
	process.exit(2);
}
function option(name: string, env: string, fallback: string): string {
	const arg = process.argv.find(a => a.startsWith(`--${name}=`));
	return arg ? arg.slice(name.length + 3) : (process.env[env] ?? fallback);
}
function positive(name: string, env: string, fallback: number, min = 1): number {
	const raw = option(name, env, String(fallback));
	const value = Number(raw);
	if (!Number.isInteger(value) || value < min) usageError(`${env} (--${name}) must be an integer >= ${min}, got '${raw}'`);
	return value;
}

const opts = {
	duration: positive("duration", "BENCH_DURATION_S", 10),
	warmup: positive("warmup", "BENCH_WARMUP_S", 3, 0),
	connections: positive("connections", "BENCH_CONNECTIONS", 50),
	pipelining: positive("pipelining", "BENCH_PIPELINING", 1),
	targets: option("targets", "BENCH_TARGETS", "raw,embedded,cluster")
		.split(",")
		.map(s => s.trim())
		.filter(Boolean),
	transporter: option("transporter", "BENCH_TRANSPORTER", "nats://127.0.0.1:4222"),
	cacher: option("cacher", "BENCH_CACHER", "redis://127.0.0.1:6379"),
	runtime: option("runtime", "BENCH_RUNTIME", "tsx"),
	json: option("json", "BENCH_JSON", ""),
	// One client address sends every request: the default limit (600/min) would answer 429s.
	rateLimitMax: positive("rate-limit-max", "BENCH_RATE_LIMIT_MAX", 1_000_000_000),
};
for (const t of opts.targets)
	if (!["raw", "embedded", "cluster"].includes(t)) usageError(`unknown target '${t}' (have: raw, embedded, cluster)`);
if (!["tsx", "dist"].includes(opts.runtime)) usageError(`BENCH_RUNTIME must be tsx or dist, got '${opts.runtime}'`);

// ── child processes: every one is tracked and killed by its PID, also on error and on signals ─────
interface Child {
	name: string;
	proc: ChildProcess;
	output: string[];
	exited: Promise<void>;
}
const children = new Set<Child>();
const tmpDirs: string[] = [];

function spawnChild(name: string, args: string[], env: Record<string, string>): Child {
	const proc = spawn(process.execPath, args, {
		cwd: ROOT,
		env: { ...process.env, ...env },
		stdio: ["ignore", "pipe", "pipe"],
	});
	const output: string[] = [];
	const keep = (chunk: Buffer) => {
		output.push(...chunk.toString().split("\n").filter(Boolean));
		if (output.length > 200) output.splice(0, output.length - 200);
	};
	proc.stdout!.on("data", keep);
	proc.stderr!.on("data", keep);
	const exited = new Promise<void>(resolve => proc.once("exit", () => resolve()));
	const child = { name, proc, output, exited };
	children.add(child);
	return child;
}

async function stopChild(child: Child): Promise<void> {
	const { proc } = child;
	if (proc.exitCode === null && proc.signalCode === null && proc.pid) {
		process.kill(proc.pid, "SIGTERM");
		const timer = setTimeout(() => proc.pid && proc.exitCode === null && process.kill(proc.pid, "SIGKILL"), 5000);
		await child.exited;
		clearTimeout(timer);
	}
	children.delete(child);
}

async function stopAll(): Promise<void> {
	await Promise.all([...children].map(stopChild));
}

function killAllNow() {
	for (const { proc } of children) if (proc.pid && proc.exitCode === null && proc.signalCode === null) proc.kill("SIGKILL");
	for (const dir of tmpDirs) fs.rmSync(dir, { recursive: true, force: true });
}
process.on("exit", killAllNow);
for (const signal of ["SIGINT", "SIGTERM"] as const)
	process.on(signal, () => {
		console.error(`\n${signal}: stopping the benchmark's processes`);
		killAllNow();
		process.exit(130);
	});

// ── helpers ───────────────────────────────────────────────────────────────────────────────────────
function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.unref();
		srv.once("error", reject);
		srv.listen(0, "127.0.0.1", () => {
			const { port } = srv.address() as net.AddressInfo;
			srv.close(() => resolve(port));
		});
	});
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Polls every URL until each answers 200 (and the hello body when it is the benchmark path). */
async function waitReady(urls: string[], nodes: Child[], timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	let last = "";
	for (const url of urls) {
		for (;;) {
			const dead = nodes.find(c => c.proc.exitCode !== null || c.proc.signalCode !== null);
			if (dead) throw new Error(`${dead.name} exited during start-up (code ${dead.proc.exitCode}):\n${dead.output.slice(-30).join("\n")}`);
			try {
				const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
				const text = await res.text();
				if (res.status === 200 && (!url.endsWith(PATH) || JSON.stringify(JSON.parse(text)) === HELLO_BODY)) break;
				last = `${res.status} ${text.slice(0, 200)}`;
			} catch (err) {
				last = (err as Error).message;
			}
			if (Date.now() > deadline)
				throw new Error(`${url} not ready after ${timeoutMs / 1000}s (last: ${last})\n${nodes.map(n => `--- ${n.name}\n${n.output.slice(-20).join("\n")}`).join("\n")}`);
			await sleep(250);
		}
	}
}

function valenceArgs(): string[] {
	if (opts.runtime === "dist") {
		const entry = path.join(ROOT, "dist/bin/valence.js");
		if (!fs.existsSync(entry)) throw new Error("BENCH_RUNTIME=dist needs `npm run build` first");
		return [entry];
	}
	return ["--import", "tsx", path.join(ROOT, "bin/valence.ts")];
}

function nodeEnv(extra: Record<string, string>): Record<string, string> {
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-bench-"));
	tmpDirs.push(dataDir);
	return {
		NODE_ENV: "production",
		LOG_LEVEL: "warn",
		LOG_FORMAT: "json",
		DATA_DIR: dataDir,
		HOST: "127.0.0.1",
		RATE_LIMIT_MAX: String(opts.rateLimitMax),
		RATE_LIMIT_WINDOW_S: "60",
		METRICS: "true",
		...extra,
	};
}

// ── targets ───────────────────────────────────────────────────────────────────────────────────────
interface Target {
	name: string;
	description: string;
	start(): Promise<{ url: string; nodes: Child[] }>;
}

const targets: Record<string, Target> = {
	raw: {
		name: "raw",
		description: "node:http server, same JSON (bench/raw-http.ts)",
		async start() {
			const port = await freePort();
			const node = spawnChild("raw-http", ["--import", "tsx", path.join(ROOT, "bench/raw-http.ts")], { PORT: String(port) });
			const base = `http://127.0.0.1:${port}`;
			await waitReady([`${base}${PATH}`], [node]);
			return { url: base + PATH, nodes: [node] };
		},
	},
	embedded: {
		name: "embedded",
		description: "one process: gateway + greeter, memory cacher",
		async start() {
			const port = await freePort();
			const node = spawnChild("embedded", valenceArgs(), nodeEnv({ SERVICES: "gateway,greeter", PORT: String(port), NAMESPACE: `bench-${randomUUID().slice(0, 8)}` }));
			const base = `http://127.0.0.1:${port}`;
			await waitReady([`${base}/health/ready`, `${base}${PATH}`], [node]);
			return { url: base + PATH, nodes: [node] };
		},
	},
	cluster: {
		name: "cluster",
		description: "gateway node + greeter node over NATS, Redis cacher",
		async start() {
			const port = await freePort();
			const common = { NAMESPACE: `bench-${randomUUID().slice(0, 8)}`, TRANSPORTER: opts.transporter, CACHER: opts.cacher };
			const greeter = spawnChild("cluster-greeter", valenceArgs(), nodeEnv({ ...common, SERVICES: "greeter", PORT: "0" }));
			const gateway = spawnChild("cluster-gateway", valenceArgs(), nodeEnv({ ...common, SERVICES: "gateway", PORT: String(port) }));
			const base = `http://127.0.0.1:${port}`;
			await waitReady([`${base}/health/ready`, `${base}${PATH}`], [gateway, greeter]);
			return { url: base + PATH, nodes: [gateway, greeter] };
		},
	},
};

// ── measuring ─────────────────────────────────────────────────────────────────────────────────────
interface Row {
	target: string;
	description: string;
	rps: number;
	p50: number;
	p99: number;
	requests: number;
	bad: { errors: number; timeouts: number; non2xx: number; statusCodes: Record<string, number> };
}

async function measure(target: Target): Promise<Row> {
	process.stderr.write(`· ${target.name}: starting … `);
	const { url, nodes } = await target.start();
	try {
		const base = { url, connections: opts.connections, pipelining: opts.pipelining, timeout: 10 };
		if (opts.warmup > 0) {
			process.stderr.write(`warm-up ${opts.warmup}s … `);
			await autocannon({ ...base, duration: opts.warmup });
		}
		process.stderr.write(`measuring ${opts.duration}s … `);
		const r = await autocannon({ ...base, duration: opts.duration, title: target.name });
		process.stderr.write("done\n");
		const statusCodes = Object.fromEntries(Object.entries(r.statusCodeStats).map(([code, s]) => [code, s.count]));
		return {
			target: target.name,
			description: target.description,
			rps: r.requests.average,
			p50: r.latency.p50,
			p99: r.latency.p99,
			requests: r.requests.total ?? 0,
			bad: { errors: r.errors, timeouts: r.timeouts, non2xx: r.non2xx, statusCodes },
		};
	} finally {
		for (const n of nodes) await stopChild(n);
	}
}

function table(rows: Row[]): string {
	const raw = rows.find(r => r.target === "raw");
	const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
	const lines = [
		"| target | what runs | req/s | p50 (ms) | p99 (ms) | vs raw |",
		"| --- | --- | ---: | ---: | ---: | ---: |",
		...rows.map(r => `| ${r.target} | ${r.description} | ${fmt(r.rps)} | ${fmt(r.p50, 1)} | ${fmt(r.p99, 1)} | ${raw ? `${fmt((100 * r.rps) / raw.rps, 1)} %` : "–"} |`),
	];
	return lines.join("\n");
}

async function main() {
	const cpus = os.cpus();
	const header = [
		`GET ${PATH} · ${opts.connections} connections · pipelining ${opts.pipelining} · ${opts.duration}s measured after ${opts.warmup}s warm-up · nodes from ${opts.runtime === "dist" ? "dist/ (built)" : "source (tsx)"}`,
		`${new Date().toISOString()} · Node ${process.version} · ${cpus.length}× ${cpus[0]?.model.trim() ?? "?"} · load average ${os.loadavg().map(l => l.toFixed(2)).join(" ")}`,
	];
	process.stderr.write(`${header.join("\n")}\n`);

	const rows: Row[] = [];
	for (const name of opts.targets) rows.push(await measure(targets[name]));

	console.log(`\n${header.map(h => `${h}  `).join("\n")}\n\n${table(rows)}\n`);
	if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ options: opts, header, rows }, null, 2));

	const failed = rows.filter(r => r.bad.errors || r.bad.timeouts || r.bad.non2xx || r.requests === 0);
	if (failed.length) {
		for (const r of failed)
			console.error(
				`FAILED ${r.target}: ${r.requests} answered, ${r.bad.errors} errors, ${r.bad.timeouts} timeouts, ${r.bad.non2xx} non-2xx; status codes ${JSON.stringify(r.bad.statusCodes)}`,
			);
		process.exitCode = 1;
	}
}

main()
	.catch(err => {
		console.error(`\nbenchmark failed: ${err instanceof Error ? err.message : String(err)}`);
		process.exitCode = 1;
	})
	.finally(async () => {
		await stopAll();
		for (const dir of tmpDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
	});
