/**
 * Where the seed sends its requests. In this order:
 *   1. SEED_URL, when set (a Valence gateway on this machine);
 *   2. the gateway of the process holding DATA_DIR's lock (`npm start` records its URL there);
 *   3. a Valence gateway answering at 127.0.0.1:PORT;
 *   4. otherwise the embedded platform, booted in this process on DATA_DIR (the files `npm start` uses)
 *      on a free port, holding the DATA_DIR lock while it runs, stopped at the end.
 * A DATA_DIR held by a process without a gateway is refused: two processes must never open the same
 * NeDB files.
 */
import type { AddressInfo } from "node:net";
import type { Service, ServiceBroker } from "moleculer";
import { checkLoopback, SeedError } from "./client";

export interface Target {
	base: string;
	/** how it was reached, for the first line of output */
	how: string;
	stop(): Promise<void>;
}

async function isValence(base: string): Promise<boolean> {
	try {
		const res = await fetch(`${base}/health/services`, { signal: AbortSignal.timeout(2000) });
		if (!res.ok) return false;
		const body = (await res.json()) as unknown;
		return JSON.stringify(body).includes('"api"');
	} catch {
		return false;
	}
}

/** Waits until the gateway answers ready (its services started). */
async function ready(base: string, timeoutMs = 60_000): Promise<void> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		try {
			const res = await fetch(`${base}/health/ready`, { signal: AbortSignal.timeout(2000) });
			if (res.ok) return;
		} catch {
			/* not yet */
		}
		if (Date.now() > deadline) throw new SeedError(`${base} did not become ready within ${timeoutMs / 1000} s`);
		await new Promise(r => setTimeout(r, 200));
	}
}

export async function resolveTarget(env: NodeJS.ProcessEnv = process.env): Promise<Target> {
	const none = async () => undefined;
	if (env.SEED_URL) {
		const base = checkLoopback(env.SEED_URL);
		if (!(await isValence(base))) throw new SeedError(`SEED_URL: no Valence gateway answers at ${base}`);
		await ready(base);
		return { base, how: `the running platform at ${base} (SEED_URL)`, stop: none };
	}

	const { loadConfig, ConfigError } = await import("../../lib/config");
	let cfg;
	try {
		cfg = loadConfig(env);
	} catch (err) {
		if (err instanceof ConfigError) throw new SeedError(err.message);
		throw err;
	}
	const { readDataLock, lockFile } = await import("../../lib/data-lock");
	const holder = readDataLock(cfg.DATA_DIR);
	if (holder) {
		if (!holder.url)
			throw new SeedError(
				`${lockFile(cfg.DATA_DIR)}: DATA_DIR is in use by process ${holder.pid} (${holder.by}), which has no gateway to seed through. Stop it first.`,
			);
		const base = checkLoopback(holder.url);
		if (!(await isValence(base)))
			throw new SeedError(`DATA_DIR is in use by process ${holder.pid}, whose gateway (${base}) does not answer. Stop it first.`);
		await ready(base);
		return { base, how: `the running platform at ${base} (process ${holder.pid} on ${cfg.DATA_DIR})`, stop: none };
	}
	const local = `http://127.0.0.1:${cfg.PORT}`;
	if (cfg.PORT && (await isValence(local))) {
		await ready(local);
		return { base: local, how: `the running platform at ${local}`, stop: none };
	}
	if (cfg.TRANSPORTER)
		throw new SeedError("TRANSPORTER is set but no gateway answers: start the cluster, then seed it with SEED_URL=http://127.0.0.1:<port>");
	return bootEmbedded(env);
}

/**
 * The embedded platform in this process, as `npm start` runs it (every service, NeDB files under
 * DATA_DIR), on a free loopback port. Nothing the seed causes may leave this machine: the Graph API base
 * URL points at a closed loopback port (the messaging data arrives as webhooks and sends nothing), mail
 * goes to files, payments to the offline sandbox provider.
 */
async function bootEmbedded(env: NodeJS.ProcessEnv): Promise<Target> {
	Object.assign(env, {
		PORT: "0",
		HOST: "127.0.0.1",
		LOG_LEVEL: env.SEED_LOG_LEVEL ?? "error",
		// our own private instance: the seed's burst of requests is not a client to slow down
		RATE_LIMIT_MAX: "100000",
		GRAPH_API_URL: "http://127.0.0.1:9/v21.0",
		GRAPH_MAX_ATTEMPTS: "1",
		// invitations to the demo addresses become .eml files under DATA_DIR/mail; payments stay in the sandbox
		SMTP_URL: "",
		PAYMENTS_PROVIDER: "sandbox",
	});
	const { loadConfig, resetConfig, dbDriver } = await import("../../lib/config");
	resetConfig();
	const cfg = loadConfig(env);
	const { acquireDataLock, DataDirLockedError } = await import("../../lib/data-lock");
	let lock: import("../../lib/data-lock").DataLock | undefined;
	if (dbDriver(cfg) === "nedb") {
		try {
			lock = acquireDataLock(cfg.DATA_DIR, "seed");
		} catch (err) {
			if (err instanceof DataDirLockedError) throw new SeedError(err.message);
			throw err;
		}
	}
	const { ServiceBroker } = await import("moleculer");
	const { brokerOptions } = await import("../../moleculer.config");
	const { selectServices } = await import("../../services/catalog");
	let broker: ServiceBroker | undefined;
	try {
		broker = new ServiceBroker(brokerOptions(cfg));
		for (const f of selectServices(cfg.SERVICES)) broker.loadService(f.file);
		await broker.start();
		const api = broker.getLocalService("api") as (Service & { server: { address(): AddressInfo } }) | undefined;
		if (!api) throw new SeedError("SERVICES does not include the gateway: the seed drives the platform through its HTTP API");
		const base = `http://127.0.0.1:${api.server.address().port}`;
		await ready(base);
		const b = broker;
		return {
			base,
			how: `the embedded platform on ${cfg.DATA_DIR} (started for the seed, stopped at the end)`,
			async stop() {
				try {
					await b.stop();
				} finally {
					lock?.release();
				}
			},
		};
	} catch (err) {
		await broker?.stop().catch(() => undefined);
		lock?.release();
		throw err;
	}
}
