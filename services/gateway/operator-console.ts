/**
 * The operators' HTTP API under `/api/operator` (README, "Web app" → "Operator console"): the cluster's
 * nodes × services, each node's request counters and latency buckets, and the channels' dead letters
 * (the same functions as the REPL's `deadletters` command: lib/dead-letters.ts).
 *
 * Operators are the owners and admins of the tenant OPERATOR_TENANT_ID, with a token scoped to it: these
 * views cross every tenant (node names, every action's traffic, other tenants' message payloads), which a
 * tenant's own admins must not see. Anyone else gets `403 OPERATOR_REQUIRED`.
 */
import type { ServiceBroker } from "moleculer";
import { hasRole, type AuthUser } from "../../lib/access";
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import { discardDeadLetters, listDeadLetters, replayDeadLetters } from "../../lib/dead-letters";
import { ForbiddenError, NotFoundError } from "../../lib/errors";
import { defineMixin } from "../../lib/schema";
import type { GatewayMethods, GatewaySettings, GatewayVars } from "./types";

/** True for an operator's token: scoped to OPERATOR_TENANT_ID with an owner or admin role there (never an API client). */
export function isOperator(user: AuthUser | null | undefined): boolean {
	const tenant = config().OPERATOR_TENANT_ID;
	return !!tenant && !!user && !user.scopes && user.tenantId === tenant && hasRole(user.roles ?? [], ["admin"]);
}

function assertOperator(ctx: Ctx<object>): void {
	if (!isOperator((ctx.meta as { user?: AuthUser | null }).user))
		throw new ForbiddenError('Only the platform\'s operators may see this (README: "Web app", Operators).', "OPERATOR_REQUIRED");
}

interface MetricValue {
	labels: Record<string, unknown>;
	value?: number;
	count?: number;
	sum?: number;
	buckets?: Record<string, number>;
}
interface MetricObject {
	name: string;
	values: MetricValue[];
}

/** One node's traffic since it started, summed over callers: what the console turns into rates by difference. */
export interface NodeTraffic {
	node: string;
	/** action calls handled on this node (local), `$node.*` (this console's own polling) left out */
	calls: number;
	/** of those, the ones that failed, and the server-side (5xx or codeless) share of them */
	errors: number;
	serverErrors: number;
	/** the calls' durations: sum (ms), count and cumulative buckets (upper bound in ms → calls at or below) */
	timeSum: number;
	timeCount: number;
	buckets: [number, number][];
	/** HTTP requests answered by this node's gateway (moleculer-web's `api.rest`), their durations, and problem answers by status class */
	http: { requests: number; timeSum: number; buckets: [number, number][]; problems: Record<string, number> } | null;
	/** the busiest actions: calls and errors */
	actions: { action: string; calls: number; errors: number; timeSum: number }[];
}

const ownPolling = (action: unknown) => typeof action === "string" && action.startsWith("$node.");

function addBuckets(into: Map<number, number>, buckets: Record<string, number> | undefined) {
	for (const [le, n] of Object.entries(buckets ?? {})) into.set(Number(le), (into.get(Number(le)) ?? 0) + n);
}

/** The summary of one node's `$node.metrics` list (Moleculer's metric objects). */
export function trafficOf(node: string, metrics: MetricObject[]): NodeTraffic {
	const byName = new Map(metrics.map(m => [m.name, m.values]));
	const local = (v: MetricValue) => v.labels.type !== "remote" && !ownPolling(v.labels.action);
	const actions = new Map<string, { action: string; calls: number; errors: number; timeSum: number }>();
	const entry = (a: string) => actions.get(a) ?? actions.set(a, { action: a, calls: 0, errors: 0, timeSum: 0 }).get(a)!;
	let calls = 0;
	let errors = 0;
	let serverErrors = 0;
	for (const v of (byName.get("moleculer.request.total") ?? []).filter(local)) {
		calls += v.value ?? 0;
		entry(String(v.labels.action)).calls += v.value ?? 0;
	}
	for (const v of (byName.get("moleculer.request.error.total") ?? []).filter(local)) {
		errors += v.value ?? 0;
		const code = Number(v.labels.errorCode);
		if (!(code >= 400 && code < 500)) serverErrors += v.value ?? 0;
		entry(String(v.labels.action)).errors += v.value ?? 0;
	}
	let timeSum = 0;
	let timeCount = 0;
	const buckets = new Map<number, number>();
	const httpBuckets = new Map<number, number>();
	let http: NodeTraffic["http"] = null;
	for (const v of (byName.get("moleculer.request.time") ?? []).filter(local)) {
		timeSum += v.sum ?? 0;
		timeCount += v.count ?? 0;
		addBuckets(buckets, v.buckets);
		entry(String(v.labels.action)).timeSum += v.sum ?? 0;
		if (v.labels.action === "api.rest") {
			http ??= { requests: 0, timeSum: 0, buckets: [], problems: {} };
			http.requests += v.count ?? 0;
			http.timeSum += v.sum ?? 0;
			addBuckets(httpBuckets, v.buckets);
		}
	}
	if (http) {
		http.buckets = [...httpBuckets].sort((a, b) => a[0] - b[0]);
		for (const v of byName.get(HTTP_PROBLEMS) ?? []) {
			const cls = `${String(v.labels.status).charAt(0)}xx`;
			http.problems[cls] = (http.problems[cls] ?? 0) + (v.value ?? 0);
		}
	}
	const top = [...actions.values()].sort((a, b) => b.calls - a.calls).slice(0, 15);
	return { node, calls, errors, serverErrors, timeSum, timeCount, buckets: [...buckets].sort((a, b) => a[0] - b[0]), http, actions: top };
}

/** Problem answers of this gateway by status and code (counted where they are sent: api.service.ts `sendProblem`). */
export const HTTP_PROBLEMS = "valence.http.problems.total";

export function registerHttpMetrics(broker: ServiceBroker): void {
	if (!broker.isMetricsEnabled() || broker.metrics.getMetric(HTTP_PROBLEMS)) return;
	broker.metrics.register({ name: HTTP_PROBLEMS, type: "counter", labelNames: ["status", "code"], description: "Problem answers of the gateway" });
}

const id = { type: "string", min: 1, max: 64 } as const;

export const OperatorConsoleMixin = defineMixin<GatewaySettings, GatewayMethods, GatewayVars>({
	actions: {
		operatorNodes: {
			auth: "required",
			visibility: "published",
			summary: "Operators: every node with its services, availability, CPU and last heartbeat.",
			params: { $$strict: "remove" },
			handler(ctx: Ctx) {
				assertOperator(ctx);
				// Moleculer's Node typing lacks `offlineSince` (set when a node leaves); the rest is as typed
				const nodes = this.broker.registry.getNodeList({ onlyAvailable: false, withServices: true }) as (ReturnType<
					ServiceBroker["registry"]["getNodeList"]
				>[number] & { offlineSince?: number | null })[];
				return {
					nodes: nodes
						.map(n => ({
							id: n.id,
							available: n.available,
							local: n.local,
							cpu: n.cpu ?? null,
							lastHeartbeatAt: n.lastHeartbeatTime ? new Date(n.lastHeartbeatTime).toISOString() : null,
							offlineSince: n.offlineSince ? new Date(n.offlineSince).toISOString() : null,
							services: (n.services ?? [])
								.map(s => s.name)
								.filter(name => !name.startsWith("$"))
								.sort(),
						}))
						.sort((a, b) => a.id.localeCompare(b.id)),
				};
			},
		},
		operatorTraffic: {
			auth: "required",
			visibility: "published",
			summary: "Operators: each available node's request counters and latency buckets since it started (rates: by difference).",
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				assertOperator(ctx);
				const nodes = this.broker.registry
					.getNodeList({ onlyAvailable: true })
					.map(n => n.id)
					.sort();
				const includes = ["moleculer.request.total", "moleculer.request.error.total", "moleculer.request.time", HTTP_PROBLEMS];
				const results = await Promise.all(
					nodes.map(async node => {
						try {
							const metrics = (await this.broker.call(
								"$node.metrics",
								{ includes },
								{ nodeID: node, timeout: 2000 },
							)) as MetricObject[];
							return trafficOf(node, metrics);
						} catch {
							return { node, unreachable: true };
						}
					}),
				);
				return { at: new Date().toISOString(), nodes: results };
			},
		},
		operatorDeadLetters: {
			auth: "required",
			visibility: "published",
			summary: "Operators: channel messages that failed every retry (oldest first), with their payload and error.",
			params: { limit: { type: "number", integer: true, min: 1, max: 1000, optional: true, convert: true }, $$strict: "remove" },
			async handler(ctx: Ctx<{ limit?: number }>) {
				assertOperator(ctx);
				const rows = await listDeadLetters(this.broker, { limit: ctx.params.limit ?? 200 });
				return { rows, total: rows.length };
			},
		},
		operatorReplayDeadLetter: {
			auth: "required",
			visibility: "published",
			summary: "Operators: re-publish a dead letter to its original channel (every consumer group gets it again), then remove it.",
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				assertOperator(ctx);
				if (ctx.params.id === "all") throw new NotFoundError("Replay dead letters one by one here (the REPL replays them all).");
				const { replayed } = await replayDeadLetters(this.broker, ctx.params.id);
				if (!replayed.length) throw new NotFoundError("No dead letter has this id.");
				return { replayed: replayed[0] };
			},
		},
		operatorDiscardDeadLetter: {
			auth: "required",
			visibility: "published",
			summary: "Operators: delete a dead letter without replaying it.",
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				assertOperator(ctx);
				if (ctx.params.id === "all") throw new NotFoundError("Discard dead letters one by one here (the REPL discards them all).");
				const { discarded } = await discardDeadLetters(this.broker, ctx.params.id);
				if (!discarded.length) throw new NotFoundError("No dead letter has this id.");
				ctx.meta.$statusCode = 204;
				return null;
			},
		},
	},
});

/** The `/api/operator` route: the same authentication, rate limit and body checks as `/api` (api.service.ts adds the parsers). */
export const operatorRoute = {
	name: "operator",
	path: "/api/operator",
	authentication: true,
	authorization: true,
	logging: false,
	mappingPolicy: "restrict",
	bodyParsers: false,
	aliases: {
		"GET /nodes": "api.operatorNodes",
		"GET /traffic": "api.operatorTraffic",
		"GET /dead-letters": "api.operatorDeadLetters",
		"POST /dead-letters/:id/replay": "api.operatorReplayDeadLetter",
		"DELETE /dead-letters/:id": "api.operatorDiscardDeadLetter",
	},
};
