/**
 * Where a node is in its life, for readiness: starting (services not all started), ready, or draining
 * (a SIGTERM arrived: readiness answers 503 first, so load balancers stop sending, then the node stops).
 * Kept per broker, so several brokers in one test process do not see each other's state.
 */
import type { ServiceBroker } from "moleculer";

const draining = new WeakSet<ServiceBroker>();

export type NodeState = "starting" | "ready" | "draining";

export function markDraining(broker: ServiceBroker): void {
	draining.add(broker);
}

export function nodeState(broker: ServiceBroker): NodeState {
	if (draining.has(broker)) return "draining";
	return broker.started ? "ready" : "starting";
}

/**
 * SIGTERM: readiness turns 503, the node keeps serving for `drainMs` while load balancers notice, then
 * stops (in-flight requests finish, up to SHUTDOWN_TIMEOUT_MS) and exits. SIGINT (Ctrl-C) skips the
 * wait; a second signal exits at once.
 */
export function handleShutdownSignals(broker: ServiceBroker, drainMs: number): void {
	let stopping = false;
	const shutdown = (signal: NodeJS.Signals) => {
		if (stopping) process.exit(1);
		stopping = true;
		markDraining(broker);
		const wait = signal === "SIGTERM" ? drainMs : 0;
		broker.logger.info(`${signal}: not ready any more; stopping${wait ? ` in ${wait} ms` : ""}.`);
		setTimeout(() => {
			broker
				.stop()
				.catch(err => broker.logger.error("stopping failed", err))
				.finally(() => process.exit(0));
		}, wait);
	};
	process.on("SIGTERM", shutdown);
	process.on("SIGINT", shutdown);
}
