/**
 * Gateway benchmark: Valence's gateway against stock moleculer-web, side by side in one run, so the
 * ratios between targets mean something even on a busy machine (bench/README.md).
 *
 *   raw          bench/raw-http.ts: node:http, no framework (the ceiling on this machine)
 *   stock-local  bench/stock-gateway.ts ROLE=local: stock moleculer-web + one local action (no auth, no cache)
 *   stock-nats   bench/stock-gateway.ts ROLE=gateway + ROLE=node: stock moleculer-web -> NATS -> one service node
 *   public       Valence, SERVICES=gateway,greeter: GET /api/greeter/welcome/:name (public, validated, cached)
 *   auth         Valence, every service: GET /api/posts/:id with a Bearer token (authenticated, cached per post and caller)
 *   cluster      Valence gateway node -> NATS -> greeter node, Redis cacher and rate-limit counters (hits read at the gateway)
 *   cluster-nats the same with CACHE_CALLER_READS=false: every request crosses NATS to the greeter node
 *
 * Every target runs in child processes of its own, all started before the first measurement and kept
 * running; then `rounds` rounds measure each target in turn (the order rotates each round), and the
 * table shows the median of the rounds (max: the slowest request of all rounds). The load generator is
 * a process of its own (wrk from Debian's package when installed, else autocannon's CLI), and with two or
 * more CPUs the servers are pinned to one half of them and the load generator to the other (`taskset`).
 * Any socket error, timeout or non-2xx answer fails the run (exit 1).
 *
 *   npm run bench
 *   npm run bench -- --targets=stock-local,public --rounds=1 --duration=5
 *   BENCH_DURATION_S=30 BENCH_ROUNDS=1 npm run bench          (the "no request over 250 ms in 30 s" check)
 *
 * Options (environment, or --name=value): see bench/README.md.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { loadConfig } from "../lib/config";
import { loadKeyRing, rotateKeys } from "../lib/keys";
import { signAccessToken } from "../lib/tokens";

const ROOT = path.resolve(__dirname, "..");
const WELCOME = "/api/greeter/welcome/bench";
const WELCOME_BODY = JSON.stringify({ message: "Welcome, bench!" });
const ALL_TARGETS = ["raw", "stock-local", "stock-nats", "public", "auth", "cluster", "cluster-nats"];
type TargetName = string;

// ── options ───────────────────────────────────────────────────────────────────────────────────────
function usageError(message: string): never {
	console.error(`bench: ${message}`);
	process.exit(2);
}
function option(name: string, env: string, fallback: string): string {
	const arg = process.argv.find(a => a.startsWith(`--${name}=`));
	return arg ? arg.slice(name.length + 3) : (process.env[env] ?? fallback);
}
function integer(name: string, env: string, fallback: number, min = 1): number {
	const raw = option(name, env, String(fallback));
	const value = Number(raw);
	if (!Number.isInteger(value) || value < min) usageError(`${env} (--${name}) must be an integer >= ${min}, got '${raw}'`);
	return value;
}
const has = (cmd: string) => {
	try {
		execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
		return true;
	} catch {
		return false;
	}
};

const opts = {
	duration: integer("duration", "BENCH_DURATION_S", 10),
	warmup: integer("warmup", "BENCH_WARMUP_S", 3, 0),
	rounds: integer("rounds", "BENCH_ROUNDS", 3),
	connections: integer("connections", "BENCH_CONNECTIONS", 64),
	threads: integer("threads", "BENCH_THREADS", 1),
	targets: option("targets", "BENCH_TARGETS", ALL_TARGETS.join(","))
		.split(",")
		.map(s => s.trim())
		.filter(Boolean),
	loadgen: option("loadgen", "BENCH_LOADGEN", has("wrk") ? "wrk" : "autocannon"),
	pin: option("pin", "BENCH_PIN", "auto"),
	transporter: option("transporter", "BENCH_TRANSPORTER", "nats://127.0.0.1:4222"),
	// "private": a redis-server of the benchmark's own (pinned with the servers); or a redis:// URL
	cacher: option("cacher", "BENCH_CACHER", "private"),
	runtime: option("runtime", "BENCH_RUNTIME", "tsx"),
	json: option("json", "BENCH_JSON", ""),
	cpuProf: option("cpu-prof", "BENCH_CPU_PROF", ""),
	acceptEncoding: option("accept-encoding", "BENCH_ACCEPT_ENCODING", ""),
	// extra environment for every Valence node, e.g. BENCH_VALENCE_ENV=TRACING_EXPORTER=zipkin,ZIPKIN_URL=http://127.0.0.1:9411
	valenceEnv: Object.fromEntries(
		option("valence-env", "BENCH_VALENCE_ENV", "")
			.split(",")
			.filter(Boolean)
			.map(kv => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
	) as Record<string, string>,
	// Valence targets get their /metrics scraped this often while measured, as Prometheus would (0: never)
	scrape: integer("scrape", "BENCH_SCRAPE_S", 5, 0),
	// One client address sends every request: the default limit (600/min) would answer 429s.
	rateLimitMax: integer("rate-limit-max", "BENCH_RATE_LIMIT_MAX", 1_000_000_000),
	// another checkout of Valence (with node_modules) whose targets run too, as public-base, auth-base, cluster-base
	baseline: option("baseline", "BENCH_BASELINE", "") ? path.resolve(option("baseline", "BENCH_BASELINE", "")) : "",
};
if (!["tsx", "dist"].includes(opts.runtime)) usageError(`BENCH_RUNTIME must be tsx or dist, got '${opts.runtime}'`);
if (!["wrk", "autocannon"].includes(opts.loadgen)) usageError(`BENCH_LOADGEN must be wrk or autocannon, got '${opts.loadgen}'`);
if (opts.loadgen === "wrk" && !has("wrk")) usageError("wrk is not installed (apt-get install wrk), or use BENCH_LOADGEN=autocannon");

/** Servers on the first half of the CPUs, the load generator on the rest (two CPUs: 0 and 1). */
const pinning = (() => {
	const n = os.cpus().length;
	if (opts.pin === "off" || n < 2 || !has("taskset")) return null;
	const half = Math.floor(n / 2);
	const range = (a: number, b: number) => (a === b ? String(a) : `${a}-${b}`);
	return { servers: range(0, half - 1), loadgen: range(half, n - 1) };
})();

// ── child processes: every one is tracked and killed by its PID, also on error and on signals ─────
interface Child {
	name: string;
	proc: ChildProcess;
	output: string[];
	exited: Promise<void>;
}
const children = new Set<Child>();
const tmpDirs: string[] = [];

/** A server process, pinned to the servers' CPUs (taskset execs the program: the PID is the program's). */
function spawnServer(name: string, command: string, args: string[], env: Record<string, string> = {}, cwd = ROOT): Child {
	const [cmd, argv] = pinning ? ["taskset", ["-c", pinning.servers, command, ...args]] : [command, args];
	const proc = spawn(cmd, argv, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
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

function profArgs(name: string): string[] {
	if (!opts.cpuProf) return [];
	fs.mkdirSync(opts.cpuProf, { recursive: true });
	return ["--cpu-prof", `--cpu-prof-dir=${path.resolve(opts.cpuProf)}`, `--cpu-prof-name=${name}.cpuprofile`];
}

function spawnNode(name: string, script: string[], env: Record<string, string>, cwd = ROOT): Child {
	return spawnServer(name, process.execPath, [...profArgs(name), ...script], env, cwd);
}

async function stopChild(child: Child): Promise<void> {
	const { proc } = child;
	if (proc.exitCode === null && proc.signalCode === null && proc.pid) {
		process.kill(proc.pid, "SIGTERM");
		const timer = setTimeout(() => proc.pid && proc.exitCode === null && process.kill(proc.pid, "SIGKILL"), 15_000);
		await child.exited;
		clearTimeout(timer);
	}
	children.delete(child);
}

function killAllNow() {
	for (const { proc } of children) if (proc.pid && proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, "SIGKILL");
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

/** Polls until `url` answers 200 (and `body`, when given). */
async function waitFor(
	url: string,
	nodes: Child[],
	o: { body?: string; headers?: Record<string, string>; timeoutMs?: number } = {},
): Promise<string> {
	const deadline = Date.now() + (o.timeoutMs ?? 90_000);
	let last = "";
	for (;;) {
		const dead = nodes.find(c => c.proc.exitCode !== null || c.proc.signalCode !== null);
		if (dead) throw new Error(`${dead.name} exited during start-up (code ${dead.proc.exitCode}):\n${dead.output.slice(-30).join("\n")}`);
		try {
			const res = await fetch(url, { headers: o.headers, signal: AbortSignal.timeout(2000) });
			const text = await res.text();
			if (res.status === 200 && (o.body === undefined || JSON.stringify(JSON.parse(text)) === o.body)) return text;
			last = `${res.status} ${text.slice(0, 200)}`;
		} catch (err) {
			last = (err as Error).message;
		}
		if (Date.now() > deadline)
			throw new Error(`${url} not ready (last: ${last})\n${nodes.map(n => `--- ${n.name}\n${n.output.slice(-20).join("\n")}`).join("\n")}`);
		await sleep(250);
	}
}

function valenceScript(root: string): string[] {
	if (opts.runtime === "dist") {
		const entry = path.join(root, "dist/bin/valence.js");
		if (!fs.existsSync(entry)) throw new Error(`BENCH_RUNTIME=dist needs \`npm run build\` first (in ${root})`);
		return [entry];
	}
	return ["--import", "tsx", path.join(root, "bin/valence.ts")];
}
const tsx = (file: string) => ["--import", "tsx", path.join(ROOT, file)];

function tempDir(): string {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-bench-"));
	tmpDirs.push(dir);
	return dir;
}

// production refuses to start without its encryption keys: one random pair per benchmark run, never stored
const secretKeys = { SECRETS_KEY: randomBytes(32).toString("base64url"), MESSAGING_SECRET_KEY: randomBytes(32).toString("base64") };

function valenceEnv(extra: Record<string, string>): Record<string, string> {
	return {
		NODE_ENV: "production",
		...secretKeys,
		LOG_LEVEL: "warn",
		LOG_FORMAT: "json",
		DATA_DIR: tempDir(),
		HOST: "127.0.0.1",
		RATE_LIMIT_MAX: String(opts.rateLimitMax),
		RATE_LIMIT_WINDOW_S: "60",
		METRICS: "true",
		...opts.valenceEnv,
		...extra,
	};
}

let privateRedis: Promise<string> | undefined;
let privateRedisChild: Child | undefined;
/** The cluster target's Redis: the benchmark's own redis-server unless BENCH_CACHER names one. */
function redisUrl(): Promise<string> {
	if (opts.cacher !== "private") return Promise.resolve(opts.cacher);
	privateRedis ??= (async () => {
		const port = await freePort();
		const redis = spawnServer("redis", "redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
		privateRedisChild = redis;
		const deadline = Date.now() + 10_000;
		for (;;) {
			const ok = await new Promise<boolean>(resolve => {
				const s = net.connect(port, "127.0.0.1", () => {
					s.end();
					resolve(true);
				});
				s.once("error", () => resolve(false));
			});
			if (ok) return `redis://127.0.0.1:${port}`;
			if (Date.now() > deadline) throw new Error(`redis-server did not start:\n${redis.output.join("\n")}`);
			await sleep(100);
		}
	})();
	return privateRedis;
}

// ── targets ───────────────────────────────────────────────────────────────────────────────────────
interface Running {
	url: string;
	headers: Record<string, string>;
	nodes: Child[];
	/** the gateway's /metrics (Valence targets) */
	metricsUrl?: string;
	/** processes whose CPU time counts for the target (default: `nodes`) */
	cpuNodes?: Child[];
}
interface Target {
	description: string;
	/** the stock target its ratio is taken against */
	versus?: TargetName;
	start(): Promise<Running>;
}

const targets: Record<string, Target> = {
	raw: {
		description: "node:http, same JSON (bench/raw-http.ts)",
		async start() {
			const port = await freePort();
			const node = spawnNode("raw", tsx("bench/raw-http.ts"), { PORT: String(port) });
			const url = `http://127.0.0.1:${port}${WELCOME}`;
			await waitFor(url, [node], { body: WELCOME_BODY });
			return { url, headers: {}, nodes: [node] };
		},
	},
	"stock-local": {
		description: "stock moleculer-web + local action (no auth, no cache)",
		async start() {
			const port = await freePort();
			const node = spawnNode("stock-local", tsx("bench/stock-gateway.ts"), { ROLE: "local", PORT: String(port) });
			const url = `http://127.0.0.1:${port}${WELCOME}`;
			await waitFor(url, [node], { body: WELCOME_BODY });
			return { url, headers: {}, nodes: [node] };
		},
	},
	"stock-nats": {
		description: "stock moleculer-web -> NATS -> one service node (JSON)",
		async start() {
			const port = await freePort();
			const common = { NAMESPACE: `bench-stock-${randomUUID().slice(0, 8)}`, TRANSPORTER: opts.transporter };
			const svc = spawnNode("stock-nats-node", tsx("bench/stock-gateway.ts"), { ...common, ROLE: "node" });
			const gw = spawnNode("stock-nats-gateway", tsx("bench/stock-gateway.ts"), { ...common, ROLE: "gateway", PORT: String(port) });
			const url = `http://127.0.0.1:${port}${WELCOME}`;
			await waitFor(url, [gw, svc], { body: WELCOME_BODY });
			return { url, headers: {}, nodes: [gw, svc] };
		},
	},
};

/**
 * The three Valence targets, run from `root` (this checkout, or BENCH_BASELINE: another checkout of
 * Valence, e.g. an older commit, measured in the same run as `<name>-base`).
 */
function valenceTargets(root: string, suffix: string): Record<string, Target> {
	const script = valenceScript(root);
	const run = (name: string, env: Record<string, string>) => spawnNode(name + suffix, script, env, root);
	const tag = suffix ? ` (${path.basename(root)})` : "";
	return {
		[`public${suffix}`]: {
			description: `Valence GET /api/greeter/welcome/:name (public, validated, cached), SERVICES=gateway,greeter${tag}`,
			versus: "stock-local",
			async start() {
				const port = await freePort();
				const node = run(
					"public",
					valenceEnv({ SERVICES: "gateway,greeter", PORT: String(port), NAMESPACE: `bench-${randomUUID().slice(0, 8)}` }),
				);
				const base = `http://127.0.0.1:${port}`;
				await waitFor(`${base}/health/ready`, [node]);
				await waitFor(base + WELCOME, [node], { body: WELCOME_BODY });
				return { url: base + WELCOME, headers: {}, nodes: [node], metricsUrl: `${base}/metrics` };
			},
		},
		[`auth${suffix}`]: {
			description: `Valence GET /api/posts/:id with a Bearer token (cached per post and caller), every service${tag}`,
			versus: "stock-local",
			async start() {
				const port = await freePort();
				const env = valenceEnv({ SERVICES: "*", PORT: String(port), NAMESPACE: `bench-${randomUUID().slice(0, 8)}` });
				// Production refuses to generate keys: the benchmark makes the signing key and signs the token itself.
				const keysDir = path.join(env.DATA_DIR, "keys");
				rotateKeys(keysDir);
				env.JWT_KEYS_DIR = keysDir;
				const cfg = loadConfig({ ...env });
				const token = signAccessToken(loadKeyRing(cfg), cfg, {
					sub: "bench-user",
					tid: null,
					roles: [],
					sid: `bench-session-${randomUUID()}`,
					ttlSec: 6 * 3600,
				});
				const headers = { authorization: `Bearer ${token}` };
				const node = run("auth", env);
				const base = `http://127.0.0.1:${port}`;
				await waitFor(`${base}/health/ready`, [node]);
				const created = await fetch(`${base}/api/posts`, {
					method: "POST",
					headers: { ...headers, "content-type": "application/json" },
					body: JSON.stringify({ text: "A post the benchmark reads #bench", visibility: "public" }),
				});
				const post = (await created.json()) as { id?: string };
				if (created.status !== 201 || !post.id)
					throw new Error(`could not create the benchmark's post: ${created.status} ${JSON.stringify(post)}`);
				const url = `${base}/api/posts/${post.id}`;
				await waitFor(url, [node], { headers });
				return { url, headers, nodes: [node], metricsUrl: `${base}/metrics` };
			},
		},
		[`cluster${suffix}`]: clusterTarget(
			`Valence gateway node + greeter node over NATS, Redis cacher (hits read at the gateway): GET /api/greeter/welcome/:name${tag}`,
			{},
		),
		// the same with hits answered by the greeter node: every request crosses NATS, as before caller reads
		[`cluster-nats${suffix}`]: clusterTarget(`the same, CACHE_CALLER_READS=false (every request crosses NATS to the greeter node)${tag}`, {
			CACHE_CALLER_READS: "false",
		}),
	};

	function clusterTarget(description: string, env: Record<string, string>): Target {
		return {
			description,
			versus: "stock-nats",
			async start() {
				const port = await freePort();
				const common = { NAMESPACE: `bench-${randomUUID().slice(0, 8)}`, TRANSPORTER: opts.transporter, CACHER: await redisUrl(), ...env };
				const greeter = run("cluster-greeter", valenceEnv({ ...common, SERVICES: "greeter", PORT: "0" }));
				const gateway = run("cluster-gateway", valenceEnv({ ...common, SERVICES: "gateway", PORT: String(port) }));
				const base = `http://127.0.0.1:${port}`;
				await waitFor(`${base}/health/ready`, [gateway, greeter]);
				await waitFor(base + WELCOME, [gateway, greeter], { body: WELCOME_BODY });
				// the benchmark's own Redis works for this target only while it is measured: its CPU time counts
				const cpuNodes = privateRedisChild ? [gateway, greeter, privateRedisChild] : [gateway, greeter];
				return { url: base + WELCOME, headers: {}, nodes: [gateway, greeter], cpuNodes, metricsUrl: `${base}/metrics` };
			},
		};
	}
}
Object.assign(targets, valenceTargets(ROOT, ""));
if (opts.baseline) Object.assign(targets, valenceTargets(opts.baseline, "-base"));
for (const t of opts.targets) if (!targets[t]) usageError(`unknown target '${t}' (have: ${Object.keys(targets).join(", ")})`);

// ── the load generator, a process of its own ──────────────────────────────────────────────────────
interface Sample {
	rps: number;
	requests: number;
	p50: number;
	p99: number;
	max: number;
	errors: number;
	non2xx: number;
	timeouts: number;
	/** the slowest /metrics scrape while measuring (ms), when scraped */
	scrapeMax?: number;
	/** CPU time the target's processes used per answered request (µs): less sensitive to a busy machine than req/s */
	cpuUsPerRequest?: number;
	/** the same, per process */
	cpuByProcess?: Record<string, number>;
}

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); undefined elsewhere. */
function cpuMs(pid: number | undefined): number | undefined {
	if (!pid) return undefined;
	try {
		const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
		const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
		// fields[11], fields[12]: utime and stime (fields 14 and 15 of proc(5)), in clock ticks of 10 ms
		return (Number(fields[11]) + Number(fields[12])) * 10;
	} catch {
		return undefined;
	}
}

/**
 * The machine's CPU time so far (ms, all CPUs) and the part of it the hypervisor took for others (`steal`),
 * from /proc/stat (Linux); undefined elsewhere. On a VM, a round with much steal measured the neighbours.
 */
function machineTime(): { total: number; steal: number } | undefined {
	try {
		const cpu = fs.readFileSync("/proc/stat", "utf8").split("\n", 1)[0].split(/\s+/).slice(1).map(Number);
		// user nice system idle iowait irq softirq steal (guest time is counted in user already)
		return { total: cpu.slice(0, 8).reduce((a, b) => a + b, 0) * 10, steal: (cpu[7] ?? 0) * 10 };
	} catch {
		return undefined;
	}
}
const stealPercent = (from: ReturnType<typeof machineTime>, to: ReturnType<typeof machineTime>) =>
	from && to && to.total > from.total ? (100 * (to.steal - from.steal)) / (to.total - from.total) : undefined;

/** Fetches /metrics every `opts.scrape` seconds until stopped; resolves to the slowest answer (ms). */
function scraper(url: string | undefined): () => Promise<number | undefined> {
	if (!url || opts.scrape === 0) return async () => undefined;
	let slowest = 0;
	let stopped = false;
	let inflight: Promise<void> = Promise.resolve();
	const timer = setInterval(() => {
		if (stopped) return;
		inflight = (async () => {
			const started = performance.now();
			const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
			await res.text();
			if (res.status !== 200) throw new Error(`${url} answered ${res.status}`);
			slowest = Math.max(slowest, performance.now() - started);
		})().catch(err => console.error(`scrape failed: ${(err as Error).message}`));
	}, opts.scrape * 1000);
	return async () => {
		stopped = true;
		clearInterval(timer);
		await inflight;
		return slowest;
	};
}

async function runLoad(run: Running, seconds: number): Promise<Sample> {
	const stopScraping = scraper(run.metricsUrl);
	const procs = run.cpuNodes ?? run.nodes;
	const before = procs.map(n => cpuMs(n.proc.pid));
	const sample = await generateLoad(run, seconds);
	const after = procs.map(n => cpuMs(n.proc.pid));
	sample.scrapeMax = await stopScraping();
	if (sample.requests > 0 && before.every(x => x !== undefined) && after.every(x => x !== undefined)) {
		const each = procs.map((_, i) => ((after[i]! - before[i]!) * 1000) / sample.requests);
		sample.cpuUsPerRequest = each.reduce((a, b) => a + b, 0);
		if (procs.length > 1) sample.cpuByProcess = Object.fromEntries(procs.map((n, i) => [n.name, Math.round(each[i])]));
	}
	return sample;
}

function generateLoad(run: Running, seconds: number): Promise<Sample> {
	const env: Record<string, string> = { ...process.env } as Record<string, string>;
	let cmd: string;
	let args: string[];
	const headerArgs = (flag: string) => [
		...Object.entries(run.headers).flatMap(([k, v]) => [flag, `${k}: ${v}`]),
		...(opts.acceptEncoding ? [flag, `accept-encoding: ${opts.acceptEncoding}`] : []),
	];
	if (opts.loadgen === "wrk") {
		cmd = "wrk";
		// the Lua script sets the headers (wrk -H and scripts do not mix well) and prints one JSON line
		if (run.headers.authorization) env.BENCH_AUTHORIZATION = run.headers.authorization;
		if (opts.acceptEncoding) env.BENCH_ACCEPT_ENCODING = opts.acceptEncoding;
		args = [
			"-t",
			String(opts.threads),
			"-c",
			String(opts.connections),
			"-d",
			`${seconds}s`,
			"--timeout",
			"10s",
			"-s",
			path.join(__dirname, "wrk-report.lua"),
			run.url,
		];
	} else {
		cmd = process.execPath;
		args = [
			path.join(ROOT, "node_modules/autocannon/autocannon.js"),
			"-j",
			"-c",
			String(opts.connections),
			"-d",
			String(seconds),
			"-t",
			"10",
			...headerArgs("-H"),
			run.url,
		];
	}
	const [command, argv] = pinning ? ["taskset", ["-c", pinning.loadgen, cmd, ...args]] : [cmd, args];
	return new Promise((resolve, reject) => {
		const proc = spawn(command, argv, { env, stdio: ["ignore", "pipe", "pipe"] });
		let out = "";
		let err = "";
		proc.stdout.on("data", d => (out += d));
		proc.stderr.on("data", d => (err += d));
		proc.once("error", reject);
		proc.once("exit", code => {
			try {
				if (opts.loadgen === "wrk") {
					const line = out.split("\n").find(l => l.startsWith("WRK_JSON "));
					if (!line) throw new Error(`wrk exited ${code} without its report:\n${out}\n${err}`);
					const r = JSON.parse(line.slice(9)) as {
						requests: number;
						durationUs: number;
						errors: Record<"connect" | "read" | "write" | "status" | "timeout", number>;
						latencyUs: Record<"p50" | "p99" | "max", number>;
					};
					resolve({
						rps: r.requests / (r.durationUs / 1e6),
						requests: r.requests,
						p50: r.latencyUs.p50 / 1000,
						p99: r.latencyUs.p99 / 1000,
						max: r.latencyUs.max / 1000,
						errors: r.errors.connect + r.errors.read + r.errors.write,
						non2xx: r.errors.status,
						timeouts: r.errors.timeout,
					});
				} else {
					const r = JSON.parse(out) as {
						requests: { total: number; average: number };
						latency: { p50: number; p99: number; max: number };
						errors: number;
						timeouts: number;
						non2xx: number;
					};
					resolve({
						rps: r.requests.average,
						requests: r.requests.total,
						p50: r.latency.p50,
						p99: r.latency.p99,
						max: r.latency.max,
						errors: r.errors,
						non2xx: r.non2xx,
						timeouts: r.timeouts,
					});
				}
			} catch (e) {
				reject(e);
			}
		});
	});
}

// ── measuring ─────────────────────────────────────────────────────────────────────────────────────
interface Row {
	target: TargetName;
	description: string;
	rps: number;
	p50: number;
	p99: number;
	max: number;
	/** median CPU µs per request, when known */
	cpu?: number;
	samples: Sample[];
}

const median = (xs: number[]) => {
	const s = [...xs].sort((a, b) => a - b);
	const m = s.length >> 1;
	return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function table(rows: Row[]): string {
	const by = new Map(rows.map(r => [r.target, r]));
	const raw = by.get("raw");
	const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
	const lines = [
		"| target | what runs | req/s | p50 (ms) | p99 (ms) | max (ms) | vs raw | vs stock (req/s) | vs stock (p99) | CPU µs/req | vs stock (CPU/req) | slowest /metrics (ms) |",
		"| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
		...rows.map(r => {
			const stock = targets[r.target].versus ? by.get(targets[r.target].versus!) : undefined;
			const vs = stock ? `${fmt(r.rps / stock.rps, 2)}× ${stock.target}` : "–";
			const vsP99 = stock ? `${fmt(r.p99 / stock.p99, 2)}×` : "–";
			const scrapes = r.samples.map(s => s.scrapeMax).filter((x): x is number => x !== undefined);
			const scrape = scrapes.length ? fmt(Math.max(...scrapes), 1) : "–";
			const cpu = r.cpu !== undefined ? fmt(r.cpu) : "–";
			// how many times the stock target's requests one CPU second serves: > 1 is cheaper than stock
			const vsCpu = stock?.cpu !== undefined && r.cpu !== undefined ? `${fmt(stock.cpu / r.cpu, 2)}×` : "–";
			return `| ${r.target} | ${targets[r.target].description} | ${fmt(r.rps)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(r.max, 1)} | ${raw ? `${fmt((100 * r.rps) / raw.rps, 1)} %` : "–"} | ${vs} | ${vsP99} | ${cpu} | ${vsCpu} | ${scrape} |`;
		}),
	];
	return lines.join("\n");
}

/** The issue's targets (bench/README.md), checked on this run's figures. */
function checks(rows: Row[]): string[] {
	const by = new Map(rows.map(r => [r.target, r]));
	const out: string[] = [];
	const ratio = (a: TargetName, b: TargetName, minRps: number, maxP99?: number) => {
		const x = by.get(a);
		const y = by.get(b);
		if (!x || !y) return;
		const r = x.rps / y.rps;
		const p = x.p99 / y.p99;
		const ok = r >= minRps && (maxP99 === undefined || p <= maxP99);
		out.push(
			`${ok ? "PASS" : "FAIL"} ${a}: ${r.toFixed(2)}× ${b} req/s (want ≥ ${minRps})${maxP99 === undefined ? "" : `, p99 ${p.toFixed(2)}× (want ≤ ${maxP99})`}`,
		);
	};
	ratio("auth", "stock-local", 0.6, 3);
	ratio("public", "stock-local", 0.85);
	ratio("cluster", "stock-nats", 1.0, 1.5);
	for (const r of rows) if (r.max > 250) out.push(`FAIL ${r.target}: slowest request ${r.max.toFixed(1)} ms (want ≤ 250 ms)`);
	if (rows.every(r => r.max <= 250))
		out.push(`PASS every target: no request over 250 ms (slowest ${Math.max(...rows.map(r => r.max)).toFixed(1)} ms)`);
	return out;
}

async function main() {
	const cpus = os.cpus();
	const header = [
		`${opts.connections} connections · ${opts.threads} load thread(s) · ${opts.loadgen} · ${opts.rounds} round(s) × ${opts.duration}s per target after a ${opts.warmup}s warm-up · median of the rounds · nodes from ${opts.runtime === "dist" ? "dist/ (built)" : "source (tsx)"}` +
			(opts.scrape ? ` · Valence /metrics scraped every ${opts.scrape}s` : "") +
			(opts.acceptEncoding ? ` · Accept-Encoding: ${opts.acceptEncoding}` : "") +
			(Object.keys(opts.valenceEnv).length ? ` · Valence env ${JSON.stringify(opts.valenceEnv)}` : ""),
		`${new Date().toISOString()} · Node ${process.version} · ${cpus.length}× ${cpus[0]?.model.trim() ?? "?"} · ${pinning ? `servers on CPU ${pinning.servers}, load generator on CPU ${pinning.loadgen}` : "not pinned"} · load average ${os
			.loadavg()
			.map(l => l.toFixed(2))
			.join(" ")}`,
	];
	process.stderr.write(`${header.join("\n")}\n`);

	const running = new Map<TargetName, Running>();
	for (const name of opts.targets) {
		process.stderr.write(`· ${name}: starting … `);
		running.set(name, await targets[name].start());
		process.stderr.write("ready\n");
	}
	if (opts.warmup > 0)
		for (const name of opts.targets) {
			process.stderr.write(`· ${name}: warm-up ${opts.warmup}s\n`);
			await runLoad(running.get(name)!, opts.warmup);
		}

	const samples = new Map<TargetName, Sample[]>(opts.targets.map(t => [t, []]));
	const measuredFrom = machineTime();
	for (let round = 0; round < opts.rounds; round++) {
		const order = opts.targets.map((_, i) => opts.targets[(i + round) % opts.targets.length]);
		for (const name of order) {
			const before = machineTime();
			const s = await runLoad(running.get(name)!, opts.duration);
			const steal = stealPercent(before, machineTime());
			samples.get(name)!.push(s);
			process.stderr.write(
				`  round ${round + 1} ${name.padEnd(11)} ${Math.round(s.rps).toString().padStart(6)} req/s  p50 ${s.p50.toFixed(2)}  p99 ${s.p99.toFixed(2)}  max ${s.max.toFixed(1)} ms` +
					(s.cpuUsPerRequest !== undefined ? `  ${s.cpuUsPerRequest.toFixed(0)} µs CPU/req` : "") +
					(s.cpuByProcess
						? ` (${Object.entries(s.cpuByProcess)
								.map(([k, v]) => `${k} ${v}`)
								.join(", ")})`
						: "") +
					(s.scrapeMax !== undefined ? `  slowest /metrics ${s.scrapeMax.toFixed(1)} ms` : "") +
					(s.errors || s.non2xx || s.timeouts ? `  (${s.errors} errors, ${s.non2xx} non-2xx, ${s.timeouts} timeouts)` : "") +
					(steal !== undefined ? `  steal ${steal.toFixed(1)} %` : "") +
					"\n",
			);
		}
	}

	const rows: Row[] = opts.targets.map(t => {
		const ss = samples.get(t)!;
		return {
			target: t,
			description: targets[t].description,
			rps: median(ss.map(s => s.rps)),
			p50: median(ss.map(s => s.p50)),
			p99: median(ss.map(s => s.p99)),
			max: Math.max(...ss.map(s => s.max)),
			cpu: ss.every(s => s.cpuUsPerRequest !== undefined) ? median(ss.map(s => s.cpuUsPerRequest!)) : undefined,
			samples: ss,
		};
	});

	const lines = checks(rows);
	const steal = stealPercent(measuredFrom, machineTime());
	if (steal !== undefined)
		lines.push(
			`the hypervisor took ${steal.toFixed(1)} % of the machine's CPU time while the rounds ran (steal, /proc/stat; each round's is on its line)`,
		);
	console.log(`\n${header.map(h => `${h}  `).join("\n")}\n\n${table(rows)}\n\n${lines.map(l => `- ${l}`).join("\n")}\n`);
	if (opts.json) fs.writeFileSync(opts.json, JSON.stringify({ options: opts, header, rows, checks: lines }, null, 2));

	const failed = rows.filter(r => r.samples.some(s => s.errors || s.timeouts || s.non2xx || s.requests === 0));
	if (failed.length) {
		for (const r of failed)
			console.error(
				`FAILED ${r.target}: ${r.samples.map(s => `${s.requests} answered, ${s.errors} socket errors, ${s.timeouts} timeouts, ${s.non2xx} non-2xx`).join("; ")}`,
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
		// Valence nodes first (a profiled node writes its profile when it exits), Redis last.
		const redis = [...children].filter(c => c.name === "redis");
		await Promise.all([...children].filter(c => c.name !== "redis").map(stopChild));
		await Promise.all(redis.map(stopChild));
		for (const dir of tmpDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
	});
