/**
 * Starts a Valence node: the services chosen by SERVICES (all of them by default) on a broker
 * configured from the environment. `--repl` adds the operator's REPL.
 *
 *   npm start                      every service in one process (embedded default)
 *   SERVICES=gateway TRANSPORTER=nats://127.0.0.1:4222 npm start     one node of a cluster
 */
// first: V8 settings that must be in place before the services allocate anything
import "../lib/v8-tuning";
import type { AddressInfo } from "node:net";
import { ServiceBroker, type Service } from "moleculer";
import { ConfigError, dbDriver, loadConfig, type Config } from "../lib/config";
import { acquireDataLock, DataDirLockedError, type DataLock } from "../lib/data-lock";
import { handleShutdownSignals } from "../lib/lifecycle";
import { selectServices, UnknownServiceError } from "../services/catalog";

function fail(message: string): never {
	process.stderr.write(`valence: ${message}\n`);
	process.exit(1);
}

function gatewayBase(broker: ServiceBroker, cfg: Config): string | null {
	const api = broker.getLocalService("api") as (Service & { server?: { address(): AddressInfo | string | null } }) | undefined;
	const address = api?.server?.address();
	if (!address || typeof address === "string") return null;
	const host = cfg.HOST === "0.0.0.0" || cfg.HOST === "::" ? "localhost" : cfg.HOST;
	return `http://${host.includes(":") ? `[${host}]` : host}:${address.port}`;
}

function gatewayUrls(base: string | null): string[] {
	if (!base) return [];
	return [
		`Gateway:   ${base}/api`,
		`Docs:      ${base}/docs  (OpenAPI: ${base}/openapi.json)`,
		`Web app:   ${base}/`,
		`Health:    ${base}/health/ready`,
	];
}

async function main() {
	const repl = process.argv.includes("--repl");
	let cfg: Config;
	try {
		cfg = loadConfig();
	} catch (err) {
		if (err instanceof ConfigError) fail(err.message);
		throw err;
	}
	// A REPL joining a cluster is an operator's node: it runs no services unless asked to.
	const spec = repl && cfg.TRANSPORTER && !process.env.SERVICES ? "" : cfg.SERVICES;
	let files;
	try {
		files = spec ? selectServices(spec) : [];
	} catch (err) {
		if (err instanceof UnknownServiceError) fail(err.message);
		throw err;
	}

	// The embedded node owns its NeDB files: a second process on them (another npm start, npm run seed) is refused.
	let lock: DataLock | undefined;
	if (!cfg.TRANSPORTER && dbDriver(cfg) === "nedb" && files.length) {
		try {
			lock = acquireDataLock(cfg.DATA_DIR, "valence");
		} catch (err) {
			if (err instanceof DataDirLockedError) fail(err.message);
			throw err;
		}
	}

	// Loaded after validation so that a bad environment fails with one line, not a stack.
	const { brokerOptions } = await import("../moleculer.config");
	const options = brokerOptions(cfg);
	if (repl) {
		const { replCommands } = await import("../lib/repl-commands");
		options.replOptions = { customCommands: replCommands() } as unknown as typeof options.replOptions;
	}
	const broker = new ServiceBroker(options);
	for (const f of files) broker.loadService(f.file);
	handleShutdownSignals(broker, cfg.SHUTDOWN_DRAIN_MS);

	await broker.start();
	const mode = cfg.TRANSPORTER ? `cluster node over ${new URL(cfg.TRANSPORTER).host}` : "embedded (one process)";
	broker.logger.info(`Valence ${mode}: ${files.map(f => f.name).join(", ") || "no services"}`);
	const base = gatewayBase(broker, cfg);
	if (base) lock?.setUrl(base);
	for (const line of gatewayUrls(base)) broker.logger.info(line);

	if (repl) broker.repl();
}

main().catch(err => {
	process.stderr.write(`valence: failed to start: ${err?.stack ?? err}\n`);
	process.exit(1);
});
