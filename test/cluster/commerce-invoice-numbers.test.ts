/**
 * Invoice numbers across two commerce nodes (separate processes over NATS, the cluster's Redis):
 * 50 finalisations at once, half on each node, take 1..50 of the tenant's year exactly once each.
 * Each node keeps its own (in-memory) store here, so every draft is created and finalised on the node
 * that holds it; the numbers come from the one shared counter (README, "Commerce domain").
 */
import { randomUUID } from "node:crypto";
import { startCluster, type Cluster } from "../helpers/cluster";
import { deleteStreams } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

describe("commerce: gap-free invoice numbers across two nodes (NATS + Redis)", () => {
	let cluster: Cluster;
	const tenantId = `tenant-inv-${randomUUID().slice(0, 6)}`;
	const admin = { meta: { user: { id: "inv-admin", tenantId, roles: ["admin"] } } };
	let nodes: string[];

	beforeAll(async () => {
		cluster = await startCluster({ NODE_ENV: "test", REQUEST_TIMEOUT_MS: "15000" });
		nodes = [`commerce-1-${cluster.namespace}`, `commerce-2-${cluster.namespace}`];
		for (const id of nodes) cluster.node("invoices", { NODE_ID: id, PORT: "0" });
		await waitFor(() => cluster.nodesOf("invoices").length === 2, { what: "two invoices nodes", timeoutMs: 60_000, intervalMs: 200 }).catch(
			err => {
				throw new Error(`${err.message}\n${cluster.procs.map(p => p.output()).join("\n---\n")}`);
			},
		);
	}, 90_000);

	afterAll(async () => {
		await cluster?.stop();
		if (cluster) await deleteStreams(cluster.namespace);
	}, 30_000);

	it("50 concurrent finalisations on two nodes: no gap, no duplicate", async () => {
		const body = { currency: "EUR", lines: [{ description: "Service", quantity: 1, unitPrice: 1000, taxRate: "19" }] };
		const drafts = await Promise.all(
			Array.from({ length: 50 }, async (_, i) => {
				const nodeID = nodes[i % 2];
				const invoice = (await cluster.observer.call("invoices.createInvoice", body, { ...admin, nodeID })) as { id: string };
				return { id: invoice.id, nodeID };
			}),
		);
		const finalised = (await Promise.all(
			drafts.map(d => cluster.observer.call("invoices.finalizeInvoice", { id: d.id }, { ...admin, nodeID: d.nodeID })),
		)) as { number: string; status: string }[];
		const year = new Date().getUTCFullYear();
		expect(finalised.every(f => f.status === "open")).toBe(true);
		expect(finalised.map(f => f.number).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `INV-${year}-${String(i + 1).padStart(6, "0")}`));
	}, 60_000);
});
