/**
 * The job engine of this process, chosen by configuration: BullMQ when Redis is configured (REDIS_URL,
 * or a redis:// CACHER), else the in-process engine. One per process: the `jobs` service and every
 * service registering handlers (JobHandlersMixin) share it.
 */
import os from "node:os";
import { config, splitList, type Config } from "../../../lib/config";
import { BullJobEngine } from "./bull-engine";
import { MemoryJobEngine } from "./memory-engine";
import type { Backoff, JobEngine } from "./types";

let engine: JobEngine | undefined;
let users = 0;

function create(cfg: Config): JobEngine {
	const node = cfg.NODE_ID ?? `${os.hostname()}-${process.pid}`;
	if (cfg.REDIS_URL)
		return new BullJobEngine({
			redisUrl: cfg.REDIS_URL,
			prefix: `${cfg.NAMESPACE}:jobs`,
			node,
			lockMs: cfg.JOBS_LOCK_MS,
			heartbeatMs: cfg.JOBS_HEARTBEAT_MS,
			retentionMs: cfg.JOBS_RETENTION_S * 1000,
			deadRetentionMs: cfg.JOBS_DEAD_RETENTION_S * 1000,
		});
	return new MemoryJobEngine(node, cfg.JOBS_RETENTION_S * 1000);
}

/** The engine, opened on first use; each user calls `releaseJobEngine()` when it stops. */
export function acquireJobEngine(): JobEngine {
	users++;
	return (engine ??= create(config()));
}

/** The last user to stop closes the engine (a test's next broker gets a fresh one). */
export async function releaseJobEngine(): Promise<void> {
	if (--users > 0 || !engine) return;
	const closing = engine;
	engine = undefined;
	users = 0;
	await closing.close();
}

/** The concurrency of a type on this node: JOBS_CONCURRENCY, else the type's own default. */
export function concurrencyOf(type: string, fallback: number, cfg: Config = config()): number {
	for (const pair of splitList(cfg.JOBS_CONCURRENCY)) {
		const [name, n] = pair.split("=");
		if (name === type) return Math.max(1, Number(n));
	}
	return fallback;
}

export function defaultBackoff(cfg: Config = config()): Backoff {
	return { delayMs: cfg.JOBS_BACKOFF_MS, maxDelayMs: cfg.JOBS_MAX_BACKOFF_MS, jitter: 0.2 };
}
