/** Log line formats: human ("pretty") or one JSON object per line ("json"); both carry the request id. */
import type { LoggerConfig } from "moleculer";
import { currentRequestID } from "./request-context";

type Printer = { printArgs: (args: unknown[]) => unknown[] };
type Bindings = { nodeID: string; mod: string; ns: string };

function jsonFormatter(type: string, args: unknown[], bindings: Bindings, { printArgs }: Printer): string[] {
	const line: Record<string, unknown> = { time: new Date().toISOString(), level: type, node: bindings.nodeID, mod: bindings.mod };
	const requestID = currentRequestID();
	if (requestID) line.requestID = requestID;
	// A leading plain object is structured fields: `this.logger.info({ userId }, "message")`.
	if (args.length > 1 && args[0] && typeof args[0] === "object" && !(args[0] instanceof Error)) {
		Object.assign(line, args[0]);
		args = args.slice(1);
	}
	line.msg = printArgs(args).join(" ");
	return [JSON.stringify(line)];
}

function prettyFormatter(type: string, args: unknown[], bindings: Bindings, { printArgs }: Printer): string[] {
	const requestID = currentRequestID();
	return [
		`[${new Date().toISOString()}]`,
		type.toUpperCase().padEnd(5),
		`${bindings.nodeID}/${bindings.mod.toUpperCase()}:`,
		...(printArgs(args) as string[]),
		...(requestID ? [`(req ${requestID})`] : []),
	];
}

export function loggerOptions(format: "pretty" | "json", level: string): LoggerConfig {
	return {
		type: "Console",
		options: {
			level,
			colors: format === "pretty" && process.stdout.isTTY,
			moduleColors: false,
			formatter: format === "json" ? jsonFormatter : prettyFormatter,
			objectPrinter: format === "json" ? (o: unknown) => JSON.stringify(o) : undefined,
		},
	} as LoggerConfig;
}
