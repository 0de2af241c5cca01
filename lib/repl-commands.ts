/** Our own REPL commands, beside moleculer-repl's built-ins (`services`, `nodes`, `call`, …). */
import type { ServiceBroker } from "moleculer";

interface ReplCommand {
	command: string;
	description: string;
	action(broker: ServiceBroker, args: Record<string, unknown>): Promise<void> | void;
}

export function replCommands(): ReplCommand[] {
	return [
		{
			command: "health",
			description: "Readiness of this node's dependencies and the services × nodes of the cluster",
			async action(broker) {
				const services = broker.registry.getServiceList({ skipInternal: true }) as { name: string; nodeID: string }[];
				const byName = new Map<string, string[]>();
				for (const s of services) byName.set(s.name, [...(byName.get(s.name) ?? []), s.nodeID]);
				console.table([...byName].map(([name, nodes]) => ({ service: name, nodes: nodes.length, on: nodes.join(", ") })));
			},
		},
	];
}
