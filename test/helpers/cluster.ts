/**
 * A real cluster for tests: node processes over the machine's NATS and a private Redis. The test
 * process joins too (as `auth`, publishing the JWKS) so it can sign tokens and read the registry.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { loadConfig } from "../../lib/config";
import { loadKeyRing, toJwks } from "../../lib/keys";
import { signAccessToken, type AccessTokenInput } from "../../lib/tokens";
import { startNode, startRedis, type Proc } from "./processes";
import { waitFor } from "./wait";

export const NATS_URL = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";

export interface Cluster {
	namespace: string;
	redis: Proc & { url: string };
	procs: Proc[];
	observer: ServiceBroker;
	gateway(port: number, extra?: Record<string, string>): Promise<Proc>;
	node(services: string, extra?: Record<string, string>): Proc;
	/** node IDs that run `service`, as the registry of the test process sees them */
	nodesOf(service: string): string[];
	token(input: Omit<AccessTokenInput, "sid"> & { sid?: string }): string;
	stop(): Promise<void>;
}

export async function startCluster(env: Record<string, string> = {}): Promise<Cluster> {
	const namespace = `c${randomUUID().slice(0, 8)}`;
	const redis = await startRedis();
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-cluster-"));
	const common = { NAMESPACE: namespace, TRANSPORTER: NATS_URL, CACHER: redis.url, DATA_DIR: dataDir, ...env };
	const cfg = loadConfig({ ...process.env, ...common });
	const ring = loadKeyRing(cfg);
	const observer = new ServiceBroker({
		namespace,
		nodeID: `observer-${namespace}`,
		transporter: { type: "NATS", options: { url: NATS_URL } },
		logger: false,
		disableBalancer: true,
		heartbeatInterval: 1,
		heartbeatTimeout: 3,
	});
	observer.createService({
		name: "auth",
		actions: {
			jwks: { visibility: "public", handler: () => toJwks(ring) },
			revocations: { visibility: "public", handler: () => ({ entries: [] }) },
		},
	});
	await observer.start();
	const procs: Proc[] = [];
	return {
		namespace,
		redis,
		procs,
		observer,
		async gateway(port, extra = {}) {
			const proc = startNode({ ...common, SERVICES: "gateway", PORT: String(port), NODE_ID: `gw-${port}-${namespace}`, ...extra });
			procs.push(proc);
			await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, {
				what: `gateway on ${port}`,
				timeoutMs: 30_000,
				intervalMs: 200,
			}).catch(err => {
				throw new Error(`${err.message}\n${proc.output()}`);
			});
			return proc;
		},
		node(services, extra = {}) {
			const proc = startNode({ ...common, SERVICES: services, ...extra });
			procs.push(proc);
			return proc;
		},
		nodesOf(service) {
			return (observer.registry.getServiceList({}) as { name: string; nodeID: string }[]).filter(s => s.name === service).map(s => s.nodeID);
		},
		// Access tokens name their session; the test's sessions are never revoked.
		token: ({ sid, ...input }) => signAccessToken(ring, cfg, { ...input, sid: sid ?? `s-${input.sub}` }),
		async stop() {
			for (const p of procs) p.kill("SIGKILL");
			await Promise.all(procs.map(p => p.exited));
			await observer.stop();
			redis.kill("SIGCONT");
			redis.kill("SIGKILL");
			await redis.exited;
			fs.rmSync(dataDir, { recursive: true, force: true });
		},
	};
}
