/**
 * Realtime fan-out benchmark: BENCH_SOCKETS (2,000) Socket.IO clients connected to one gateway node,
 * and the time from a service's event to each socket.
 *
 *   the gateway node   a child process, SERVICES=gateway (api + realtime), over NATS
 *   this process       a Moleculer node on the same NATS namespace: `auth` (the JWKS the gateway verifies
 *                      tokens with) and the producer of the events; and the socket.io-client sockets
 *
 * Scenarios (each after a warm-up round that is not counted):
 *   tenant   `realtime.toTenant` to one tenant every socket belongs to: one event, BENCH_SOCKETS deliveries;
 *            BENCH_ROUNDS rounds, one at a time. Reported: each delivery's latency, and each round's
 *            latency to the last socket (the whole fan-out).
 *   users    one `realtime.toUser` per user, all at once (BENCH_SOCKETS events, one delivery each);
 *            BENCH_ROUNDS rounds.
 * Latency = receive time − emit time, both on this process' monotonic clock (the sender and the clients are
 * in one process), so it includes NATS both ways, the gateway node, and this process' own queueing of
 * the incoming messages: an upper bound of what a client on the same host would see.
 *
 *   npx tsx bench/realtime.bench.ts
 *   BENCH_SOCKETS=500 BENCH_ROUNDS=5 npx tsx bench/realtime.bench.ts
 *
 * Environment: BENCH_SOCKETS=2000, BENCH_ROUNDS=20, BENCH_TRANSPORTER=nats://127.0.0.1:4222, BENCH_JSON=path.
 * Every child is killed by its PID at the end, on error and on Ctrl-C.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ServiceBroker } from "moleculer";
import { io as connectClient, type Socket } from "socket.io-client";
import { loadConfig } from "../lib/config";
import { loadKeyRing, toJwks } from "../lib/keys";
import { signAccessToken } from "../lib/tokens";

const ROOT = path.resolve(__dirname, "..");
const int = (name: string, fallback: number) => {
	const v = Number(process.env[name] ?? fallback);
	if (!Number.isInteger(v) || v < 1) {
		console.error(`bench: ${name} must be a positive integer`);
		process.exit(2);
	}
	return v;
};
const SOCKETS = int("BENCH_SOCKETS", 2000);
const ROUNDS = int("BENCH_ROUNDS", 20);
const NATS = process.env.BENCH_TRANSPORTER ?? "nats://127.0.0.1:4222";
const TENANT = "bench-tenant";

let gateway: ChildProcess | undefined;
const output: string[] = [];
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-rt-bench-"));
function killNow() {
	if (gateway?.pid && gateway.exitCode === null && gateway.signalCode === null) gateway.kill("SIGKILL");
	fs.rmSync(dataDir, { recursive: true, force: true });
}
process.on("exit", killNow);
for (const signal of ["SIGINT", "SIGTERM"] as const)
	process.on(signal, () => {
		killNow();
		process.exit(130);
	});

function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.once("error", reject);
		srv.listen(0, "127.0.0.1", () => {
			const { port } = srv.address() as net.AddressInfo;
			srv.close(() => resolve(port));
		});
	});
}
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
const summary = (values: number[]) => {
	const s = [...values].sort((a, b) => a - b);
	const r = (x: number) => Math.round(x * 10) / 10;
	return { count: s.length, p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s[s.length - 1]) };
};

async function main() {
	const namespace = `rtb${randomUUID().slice(0, 8)}`;
	const port = await freePort();
	const cfg = loadConfig({ DATA_DIR: dataDir, NAMESPACE: namespace });
	const ring = loadKeyRing(cfg);

	const broker = new ServiceBroker({
		namespace,
		nodeID: `bench-${namespace}`,
		transporter: { type: "NATS", options: { url: NATS } },
		logger: false,
		disableBalancer: true,
		heartbeatInterval: 1,
		heartbeatTimeout: 3,
	});
	broker.createService({
		name: "auth",
		actions: {
			jwks: { visibility: "public", handler: () => toJwks(ring) },
			revocations: { visibility: "public", handler: () => ({ entries: [] }) },
		},
	});
	await broker.start();

	gateway = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "bin/valence.ts")], {
		cwd: ROOT,
		env: {
			...process.env,
			NODE_ENV: "production",
			LOG_LEVEL: "warn",
			LOG_FORMAT: "json",
			SERVICES: "gateway",
			TRANSPORTER: NATS,
			NAMESPACE: namespace,
			NODE_ID: `gw-${namespace}`,
			PORT: String(port),
			HOST: "127.0.0.1",
			DATA_DIR: dataDir,
			RATE_LIMIT_MAX: "1000000000",
		},
		stdio: ["ignore", "pipe", "pipe"],
	});
	for (const stream of [gateway.stdout!, gateway.stderr!])
		stream.on("data", (c: Buffer) => output.push(...c.toString().split("\n").filter(Boolean)));
	const base = `http://127.0.0.1:${port}`;
	for (let i = 0; ; i++) {
		if (gateway.exitCode !== null) throw new Error(`the gateway exited:\n${output.slice(-20).join("\n")}`);
		const ok = await fetch(`${base}/health/ready`).then(
			r => r.ok,
			() => false,
		);
		if (
			ok &&
			(await broker.waitForServices(["realtime"], 1000).then(
				() => true,
				() => false,
			))
		)
			break;
		if (i > 240) throw new Error(`the gateway is not ready:\n${output.slice(-20).join("\n")}`);
		await sleep(250);
	}

	// ── connect the sockets, 100 at a time ──────────────────────────────────────────────────────────
	const latencies = new Map<string, (ms: number) => void>();
	const sockets: Socket[] = [];
	const connectStart = performance.now();
	for (let i = 0; i < SOCKETS; i += 100) {
		await Promise.all(
			Array.from({ length: Math.min(100, SOCKETS - i) }, (_, j) => {
				const userId = `u${i + j}`;
				const token = signAccessToken(ring, cfg, { sub: userId, tid: TENANT, roles: ["member"], sid: `s-${userId}`, ttlSec: 3600 });
				const socket = connectClient(base, {
					auth: { token },
					transports: ["websocket"],
					reconnection: false,
					forceNew: true,
					timeout: 20_000,
				});
				socket.on("bench", (data: { sentAt: number; round: string }) => latencies.get(data.round)?.(performance.now() - data.sentAt));
				sockets.push(socket);
				return new Promise<void>((resolve, reject) => {
					socket.once("ready", () => resolve());
					socket.once("connect_error", reject);
				});
			}),
		);
	}
	const connectMs = performance.now() - connectStart;
	const stats = (await broker.call("realtime.stats")) as { sockets: number; users: number };
	if (stats.sockets !== SOCKETS) throw new Error(`the gateway counts ${stats.sockets} sockets, expected ${SOCKETS}`);

	/** Sends with `send`, resolves with each delivery's latency once `expected` arrived (fails after 30 s). */
	async function round(expected: number, send: (round: string, sentAt: number) => Promise<unknown>): Promise<number[]> {
		const id = randomUUID();
		const got: number[] = [];
		const done = new Promise<void>((resolve, reject) => {
			const timer = setTimeout(() => reject(new Error(`round ${id}: ${got.length}/${expected} deliveries after 30 s`)), 30_000);
			latencies.set(id, ms => {
				got.push(ms);
				if (got.length === expected) {
					clearTimeout(timer);
					resolve();
				}
			});
		});
		await send(id, performance.now());
		await done;
		latencies.delete(id);
		return got;
	}
	const tenantRound = () =>
		round(SOCKETS, (r, sentAt) => broker.broadcast("realtime.toTenant", { tenantId: TENANT, event: "bench", data: { round: r, sentAt } }));
	const usersRound = () =>
		round(SOCKETS, (r, sentAt) =>
			Promise.all(
				Array.from({ length: SOCKETS }, (_, i) =>
					broker.broadcast("realtime.toUser", { userId: `u${i}`, event: "bench", data: { round: r, sentAt } }),
				),
			),
		);

	await tenantRound(); // warm-up
	await usersRound();
	const tenantAll: number[] = [];
	const tenantLast: number[] = [];
	for (let i = 0; i < ROUNDS; i++) {
		const r = await tenantRound();
		tenantAll.push(...r);
		tenantLast.push(Math.max(...r));
		await sleep(100);
	}
	const usersAll: number[] = [];
	const usersLast: number[] = [];
	for (let i = 0; i < ROUNDS; i++) {
		const r = await usersRound();
		usersAll.push(...r);
		usersLast.push(Math.max(...r));
		await sleep(100);
	}

	const result = {
		at: new Date().toISOString(),
		node: process.version,
		cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}`,
		loadavg: os.loadavg().map(l => Math.round(l * 100) / 100),
		sockets: SOCKETS,
		rounds: ROUNDS,
		connectSeconds: Math.round(connectMs / 100) / 10,
		tenantFanOut: { perDelivery: summary(tenantAll), wholeRound: summary(tenantLast) },
		perUser: { perDelivery: summary(usersAll), wholeRound: summary(usersLast) },
	};
	console.log(`realtime fan-out, ${SOCKETS} sockets on one gateway node over NATS, ${ROUNDS} rounds each (ms)`);
	console.log(`connected in ${result.connectSeconds} s; load average ${result.loadavg.join(" ")}; ${result.cpus}; Node ${result.node}`);
	console.log("| scenario | measured | count | p50 | p90 | p99 | max |");
	console.log("| --- | --- | --- | --- | --- | --- | --- |");
	const row = (name: string, what: string, s: ReturnType<typeof summary>) =>
		console.log(`| ${name} | ${what} | ${s.count} | ${s.p50} | ${s.p90} | ${s.p99} | ${s.max} |`);
	row("tenant (1 event → all sockets)", "each delivery", result.tenantFanOut.perDelivery);
	row("tenant (1 event → all sockets)", "last socket of a round", result.tenantFanOut.wholeRound);
	row(`users (${SOCKETS} events at once)`, "each delivery", result.perUser.perDelivery);
	row(`users (${SOCKETS} events at once)`, "last socket of a round", result.perUser.wholeRound);
	if (process.env.BENCH_JSON) fs.writeFileSync(process.env.BENCH_JSON, JSON.stringify(result, null, 2));

	for (const s of sockets) s.close();
	if (gateway.pid && gateway.exitCode === null) {
		gateway.kill("SIGTERM");
		await new Promise(resolve => gateway!.once("exit", resolve));
	}
	await broker.stop();
}

main().then(
	() => process.exit(0),
	err => {
		console.error(`bench: ${err?.stack ?? err}`);
		console.error(output.slice(-20).join("\n"));
		process.exit(1);
	},
);
