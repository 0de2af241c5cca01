/**
 * Real processes for integration and cluster tests: a private redis-server (so a test may freeze or
 * kill it without touching the machine's own), and Valence nodes started from bin/valence.ts.
 * Every process is tracked and killed by its PID.
 */
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import Redis from "ioredis";
import { projectRoot } from "../../lib/paths";
import { waitFor } from "./wait";

export function freePort(): Promise<number> {
	return new Promise((resolve, reject) => {
		const srv = net.createServer();
		srv.listen(0, "127.0.0.1", () => {
			const port = (srv.address() as net.AddressInfo).port;
			srv.close(() => resolve(port));
		});
		srv.on("error", reject);
	});
}

export interface Proc {
	child: ChildProcess;
	output: () => string;
	kill(signal?: NodeJS.Signals): void;
	exited: Promise<number | null>;
}

function track(child: ChildProcess): Proc {
	let out = "";
	child.stdout?.on("data", d => (out += d));
	child.stderr?.on("data", d => (out += d));
	const exited = new Promise<number | null>(resolve => child.once("exit", code => resolve(code)));
	return {
		child,
		output: () => out,
		exited,
		kill(signal = "SIGKILL") {
			if (child.exitCode === null && child.signalCode === null) child.kill(signal);
		},
	};
}

export async function startRedis(): Promise<Proc & { url: string; port: number }> {
	const port = await freePort();
	const proc = track(spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "pipe" }));
	const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true, retryStrategy: () => 50, maxRetriesPerRequest: 1 });
	client.on("error", () => undefined);
	await waitFor(async () => (await client.ping()) === "PONG", { what: `redis on ${port}` }).finally(() => client.disconnect());
	return Object.assign(proc, { url: `redis://127.0.0.1:${port}`, port });
}

/** A Valence node as a real process: `tsx bin/valence.ts` with the given environment. */
export function startNode(env: Record<string, string>): Proc {
	// `node --import tsx`, not the tsx CLI: the CLI runs the program in a child process, so a SIGKILL
	// meant for the node would only kill the wrapper.
	return track(
		spawn(process.execPath, ["--import", "tsx", path.join(projectRoot, "bin", "valence.ts")], {
			cwd: projectRoot,
			env: { ...process.env, NODE_ENV: "test", LOG_LEVEL: "warn", ...env },
			stdio: "pipe",
		}),
	);
}

/** Deletes the JetStream streams a test namespace left on the shared NATS (channels create one per channel). */
export async function deleteStreams(namespace: string, servers = "127.0.0.1:4222"): Promise<void> {
	const { connect } = await import("nats");
	const nc = await connect({ servers });
	try {
		const jsm = await nc.jetstreamManager();
		const names: string[] = [];
		for await (const s of jsm.streams.list()) if (s.config.name.startsWith(`${namespace}_`)) names.push(s.config.name);
		for (const name of names) await jsm.streams.delete(name);
	} finally {
		await nc.close();
	}
}
