/** Log line formats: human ("pretty") or one JSON object per line ("json"); both carry the request id. */
import type { LoggerConfig } from "moleculer";
import { currentRequestID } from "./request-context";

type Printer = { printArgs: (args: unknown[]) => unknown[] };
type Bindings = { nodeID: string; mod: string; ns: string };

function jsonFormatter(type: string, args: unknown[], bindings: Bindings, { printArgs }: Printer): string[] {
	const line: Record<string, unknown> = { time: new Date().toISOString(), level: type, node: bindings.nodeID, mod: bindings.mod };
	const requestID = currentRequestID();
	if (requestID) line.requestID = requestID;
	// Plain objects beside a message are structured fields: `this.logger.info("login", { userId })`.
	const isFields = (a: unknown) => !!a && typeof a === "object" && Object.getPrototypeOf(a) === Object.prototype;
	if (args.length > 1 && args.some(a => !isFields(a))) {
		for (const a of args) if (isFields(a)) Object.assign(line, a);
		args = args.filter(a => !isFields(a));
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
