/**
 * The operators' API under /api/operator (README, "Web app" → "Operator console"): only owners and admins
 * of OPERATOR_TENANT_ID (with a token scoped to it) see nodes, traffic and the channels' dead letters, and
 * may replay or discard one; another tenant's admin, a member and an anonymous caller may not.
 */
import type { Context } from "moleculer";
import { sendToChannel } from "../../lib/channels";
import { listDeadLetters } from "../../lib/dead-letters";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const OPS = "ops-tenant";

describe("operator API", () => {
	let p: Platform;
	const state = { failing: true, processed: [] as number[] };
	let operator: string;

	beforeAll(async () => {
		p = await startPlatform({
			services: ["greeter"],
			env: { OPERATOR_TENANT_ID: OPS, CHANNELS_RETRY_DELAY_MS: "5" },
			extra: [
				{
					name: "flaky",
					channels: {
						"test.flaky": {
							group: "flaky",
							maxRetries: 1,
							deadLettering: { enabled: true },
							async handler(ctx: Context<{ n: number }>) {
								if (state.failing) throw new Error("downstream is down");
								state.processed.push(ctx.params.n);
							},
						},
					},
				},
			],
		});
		operator = p.token({ sub: "op-1", tid: OPS, roles: ["admin"] });
	});
	afterAll(() => p.stop());

	const send = (n: number) => sendToChannel(p.broker, "test.flaky", { n });

	it("refuses everybody but the operator tenant's owners and admins", async () => {
		const others = [
			["anonymous", undefined, 401],
			["another tenant's owner", p.token({ sub: "u2", tid: "acme", roles: ["owner"] }), 403],
			["a member of the operator tenant", p.token({ sub: "u3", tid: OPS, roles: ["member"] }), 403],
		] as const;
		for (const path of ["/api/operator/nodes", "/api/operator/traffic", "/api/operator/dead-letters"]) {
			for (const [who, token, status] of others) {
				const res = await p.http("GET", path, { token });
				expect({ who, path, status: res.status }).toEqual({ who, path, status });
				if (status === 403) expect(res.body.code).toBe("OPERATOR_REQUIRED");
			}
			expect((await p.http("GET", path, { token: operator })).status).toBe(200);
			expect((await p.http("GET", path, { token: p.token({ sub: "op-2", tid: OPS, roles: ["owner"] }) })).status).toBe(200);
		}
	});

	it("lists nodes with their services, and each node's traffic", async () => {
		const nodes = await p.http("GET", "/api/operator/nodes", { token: operator });
		expect(nodes.body.nodes).toEqual([
			expect.objectContaining({ id: p.broker.nodeID, available: true, local: true, services: expect.arrayContaining(["api", "greeter"]) }),
		]);

		await p.http("GET", "/api/greeter/hello?name=ops");
		await p.http("GET", "/api/no-such-route");
		const traffic = await p.http("GET", "/api/operator/traffic", { token: operator });
		const [node] = traffic.body.nodes;
		expect(node.node).toBe(p.broker.nodeID);
		expect(node.calls).toBeGreaterThan(0);
		expect(node.http.requests).toBeGreaterThanOrEqual(2);
		expect(node.http.problems["4xx"]).toBeGreaterThanOrEqual(1);
		expect(node.buckets.length).toBeGreaterThan(0);
		// the console's own polling is not counted as traffic
		expect(node.actions.map((a: { action: string }) => a.action)).not.toContain("$node.metrics");
	});

	it("lists, replays and discards channel dead letters", async () => {
		await send(1);
		await send(2);
		await waitFor(async () => (await listDeadLetters(p.broker)).length === 2, { what: "two dead letters" });
		const list = await p.http("GET", "/api/operator/dead-letters", { token: operator });
		expect(list.body.total).toBe(2);
		expect(list.body.rows[0]).toMatchObject({ channel: "test.flaky", group: "flaky", error: "downstream is down" });
		const [first, second] = list.body.rows as { id: string; payload: { n: number } }[];

		state.failing = false;
		const replay = await p.http("POST", `/api/operator/dead-letters/${first.id}/replay`, { token: operator });
		expect(replay.status).toBe(200);
		await waitFor(() => state.processed.includes(first.payload.n), { what: "the replayed message" });

		expect((await p.http("DELETE", `/api/operator/dead-letters/${second.id}`, { token: operator })).status).toBe(204);
		expect((await p.http("GET", "/api/operator/dead-letters", { token: operator })).body.total).toBe(0);
		expect(state.processed).toEqual([first.payload.n]);

		const gone = await p.http("POST", `/api/operator/dead-letters/${second.id}/replay`, { token: operator });
		expect(gone.status).toBe(404);
		// a tenant admin cannot touch them
		expect(
			(await p.http("DELETE", `/api/operator/dead-letters/${first.id}`, { token: p.token({ sub: "u2", tid: "acme", roles: ["admin"] }) }))
				.status,
		).toBe(403);
	});
});
