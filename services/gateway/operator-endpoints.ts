/**
 * The gateway's own endpoints for operators and tools: liveness, readiness (README, "Health endpoints"),
 * the service list the dashboard shows, Prometheus metrics and the OpenAPI document.
 */
import type { Ctx } from "../../lib/context";
import { runReadinessProbes, withDeadline } from "../../lib/health";
import { nodeState } from "../../lib/lifecycle";
import { prometheusReporter } from "../../lib/metrics";
import { buildOpenApi, type RouteInfo } from "../../lib/openapi";
import { knownServiceNames } from "../catalog";
import { defineMixin } from "../../lib/schema";
import type { GatewayMethods, GatewaySettings, GatewayVars } from "./types";

export const OperatorEndpointsMixin = defineMixin<GatewaySettings, GatewayMethods, GatewayVars>({
	actions: {
		health: {
			auth: "public",
			visibility: "published",
			summary: "Liveness: the gateway process answers.",
			handler() {
				return { status: "ok" };
			},
		},
		ready: {
			auth: "public",
			visibility: "published",
			summary: "Readiness: transporter, cache and databases of this node answer.",
			async handler(ctx: Ctx) {
				// Not ready while local services are still starting, nor once a SIGTERM asked the node to leave.
				const state = nodeState(this.broker);
				if (state !== "ready") {
					Object.assign(ctx.meta, { $statusCode: 503, $responseHeaders: { "Retry-After": "1" } });
					return { status: state, checks: [] };
				}
				const checks = [];
				const transit = this.broker.transit;
				if (transit) checks.push({ name: "transporter", ok: !!transit.connected, ...(transit.connected ? {} : { error: "not connected" }) });
				checks.push(...(await runReadinessProbes(1000)));
				// Redis is reported but does not make the node unready: the cache and the rate limiter
				// keep working without it, and pulling every gateway out of service would be worse.
				// Moleculer's Cacher typings do not declare the Redis cacher's client
				const cacher = this.broker.cacher as unknown as { client?: { ping(): Promise<unknown> } } | null;
				const optional = cacher?.client ? [{ ...(await withDeadline("cacher", () => cacher.client!.ping(), 500)), optional: true }] : [];
				const ok = checks.every(c => c.ok);
				if (!ok) ctx.meta.$statusCode = 503;
				const degraded = optional.some(c => !c.ok);
				return { status: ok ? (degraded ? "degraded" : "ready") : "unavailable", checks: [...checks, ...optional] };
			},
		},
		services: {
			auth: "public",
			visibility: "published",
			summary: "Every service with its node count and availability.",
			handler() {
				const list = this.broker.registry.getServiceList({ skipInternal: true, withActions: false }) as {
					name: string;
					nodeID: string;
					available: boolean;
				}[];
				const byName = new Map<string, { name: string; nodes: number; available: boolean }>();
				for (const name of knownServiceNames()) byName.set(name, { name, nodes: 0, available: false });
				for (const s of list) {
					const item = byName.get(s.name) ?? { name: s.name, nodes: 0, available: false };
					item.nodes += 1;
					item.available ||= s.available !== false;
					byName.set(s.name, item);
				}
				return { services: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)) };
			},
		},
		metrics: {
			auth: "public",
			visibility: "published",
			summary: "Prometheus metrics of this node (loopback or METRICS_TOKEN only).",
			handler(ctx: Ctx) {
				ctx.meta.$responseType = "text/plain; version=0.0.4; charset=utf-8";
				return prometheusReporter().render();
			},
		},
		openapi: {
			auth: "public",
			visibility: "published",
			summary: "This API's OpenAPI 3.1 document.",
			handler() {
				if (!this.openApiCache) {
					const defs = new Map(
						(this.broker.registry.getActionList({} as never) as { name: string; action?: RouteInfo["action"] }[]).map(a => [
							a.name,
							a.action,
						]),
					);
					const routes: RouteInfo[] = this.aliases
						.filter(a => a.action && a.fullPath.startsWith("/api"))
						.map(a => ({
							method: a.method,
							path: a.fullPath,
							action: defs.get(a.action!) ?? { name: a.action! },
							multipart: a.type === "multipart",
						}));
					this.openApiCache = buildOpenApi(routes, { title: "Valence API", version: "0.1.0" });
				}
				return this.openApiCache;
			},
		},
	},
});
