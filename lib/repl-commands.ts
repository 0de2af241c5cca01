/** Our own REPL commands, beside moleculer-repl's built-ins (`services`, `nodes`, `call`, …). */
import type { ServiceBroker } from "moleculer";
import { discardDeadLetters, listDeadLetters, replayDeadLetters } from "./dead-letters";

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
		{
			command: "deadletters [action] [id]",
			description:
				"Channel messages that failed every retry: `deadletters` lists them, `deadletters replay <id|all>` re-publishes to the original channel and removes them, `deadletters discard <id|all>` deletes them",
			async action(broker, args) {
				const action = args.action as string | undefined;
				if (!action || action === "list") {
					const rows = await listDeadLetters(broker, { limit: 1000 });
					if (!rows.length) return void console.log("No dead letters.");
					console.table(
						rows.map(d => ({
							id: d.id,
							channel: d.channel,
							group: d.group,
							failedAt: d.failedAt,
							error: d.error ?? "",
							payload: JSON.stringify(d.payload).slice(0, 80),
						})),
					);
					return;
				}
				if (action === "replay") {
					const id = args.id as string | undefined;
					if (!id) return void console.log("Usage: deadletters replay <id|all>");
					const { replayed, missing } = await replayDeadLetters(broker, id);
					console.log(`Replayed ${replayed.length} dead letter(s)${replayed.length ? `: ${replayed.join(", ")}` : ""}.`);
					if (missing.length) console.log(`Not found: ${missing.join(", ")}`);
					return;
				}
				if (action === "discard") {
					const id = args.id as string | undefined;
					if (!id) return void console.log("Usage: deadletters discard <id|all>");
					const { discarded, missing } = await discardDeadLetters(broker, id);
					console.log(`Discarded ${discarded.length} dead letter(s).`);
					if (missing.length) console.log(`Not found: ${missing.join(", ")}`);
					return;
				}
				console.log("Usage: deadletters | deadletters replay <id|all> | deadletters discard <id|all>");
			},
		},
		{
			command: "jobs-dead [action] [id]",
			description:
				"Background jobs that failed their last attempt (every tenant): `jobs-dead` lists them, `jobs-dead replay <id|all>` runs them again with fresh attempts, `jobs-dead discard <id|all>` deletes them",
			async action(broker, args) {
				type Dead = {
					id: string;
					type: string;
					tenantId: string | null;
					attemptsMade: number;
					error: string | null;
					finishedAt: string | null;
				};
				const all = async () => (await broker.call("jobs.allDeadLetters", { page: 1, pageSize: 100 })) as { rows: Dead[]; total: number };
				const action = args.action as string | undefined;
				if (!action || action === "list") {
					const { rows, total } = await all();
					if (!rows.length) return void console.log("No dead jobs.");
					console.table(
						rows.map(d => ({
							id: d.id,
							type: d.type,
							tenant: d.tenantId ?? "(platform)",
							attempts: d.attemptsMade,
							failedAt: d.finishedAt,
							error: (d.error ?? "").slice(0, 80),
						})),
					);
					if (total > rows.length) console.log(`${rows.length} of ${total} shown.`);
					return;
				}
				if (action !== "replay" && action !== "discard")
					return void console.log("Usage: jobs-dead | jobs-dead replay <id|all> | jobs-dead discard <id|all>");
				const id = args.id as string | undefined;
				if (!id) return void console.log(`Usage: jobs-dead ${action} <id|all>`);
				const ids = id === "all" ? (await all()).rows.map(d => d.id) : [id];
				const done: string[] = [];
				for (const one of ids) if (await broker.call(action === "replay" ? "jobs.replayAny" : "jobs.discardAny", { id: one })) done.push(one);
				console.log(
					`${action === "replay" ? "Replayed" : "Discarded"} ${done.length} dead job(s)${done.length ? `: ${done.join(", ")}` : ""}.`,
				);
				const missing = ids.filter(x => !done.includes(x));
				if (missing.length) console.log(`Not dead or not found: ${missing.join(", ")}`);
			},
		},
	];
}
