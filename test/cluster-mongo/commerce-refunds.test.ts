/**
 * Refunds racing on two commerce nodes over one MongoDB: 30 refunds of 100 against a payment that
 * captured 1000, half sent to each node at once, refund exactly 1000 (10 succeed, 20 are 409
 * REFUND_EXCEEDS_CAPTURED). Each reservation is one conditional update on the payment's `version`,
 * atomic in MongoDB, so no interleaving of the two nodes can let two take the same remainder.
 * Needs a MongoDB server (MONGO_URI); NeDB files cannot be shared between processes.
 */
import { randomUUID } from "node:crypto";
import { startCluster, type Cluster } from "../helpers/cluster";
import { deleteStreams } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

const MONGO_URI = process.env.MONGO_URI;
if (!MONGO_URI) process.stdout.write("cluster-mongo: MONGO_URI is not set, so the racing-refunds test was NOT run\n");

(MONGO_URI ? describe : describe.skip)("commerce: refunds racing on two nodes over one MongoDB", () => {
	let cluster: Cluster;
	let nodes: string[];
	const tenantId = `tenant-refunds-${randomUUID().slice(0, 6)}`;
	const as = (nodeID: string) => ({
		nodeID,
		meta: { user: { id: "refund-admin", tenantId, roles: ["admin"] }, headers: { "idempotency-key": randomUUID() } },
	});

	beforeAll(async () => {
		cluster = await startCluster({ NODE_ENV: "test", MONGO_URI: MONGO_URI ?? "", REQUEST_TIMEOUT_MS: "15000" });
		nodes = [`payments-1-${cluster.namespace}`, `payments-2-${cluster.namespace}`];
		for (const id of nodes) cluster.node("payments", { NODE_ID: id, PORT: "0" });
		await waitFor(() => cluster.nodesOf("payments").length === 2, { what: "two payments nodes", timeoutMs: 60_000, intervalMs: 200 }).catch(
			err => {
				throw new Error(`${err.message}\n${cluster.procs.map(p => p.output()).join("\n---\n")}`);
			},
		);
	}, 90_000);

	afterAll(async () => {
		await cluster?.stop();
		if (cluster) await deleteStreams(cluster.namespace);
	}, 30_000);

	it("30 refunds of 100 on two nodes against 1000 captured: exactly 1000 refunded", async () => {
		const payment = (await cluster.observer.call(
			"payments.createPayment",
			{ amount: 1000, currency: "EUR", paymentMethod: "pm_sandbox_visa" },
			as(nodes[0]),
		)) as { id: string; status: string };
		expect(payment.status).toBe("captured");
		// the other node reads the same row: one shared store
		expect(await cluster.observer.call("payments.getPayment", { id: payment.id }, as(nodes[1]))).toMatchObject({ capturedAmount: 1000 });

		const answers = await Promise.allSettled(
			Array.from({ length: 30 }, (_, i) => cluster.observer.call("payments.refundPayment", { id: payment.id, amount: 100 }, as(nodes[i % 2]))),
		);
		const ok = answers.filter(a => a.status === "fulfilled");
		const refused = answers.filter((a): a is PromiseRejectedResult => a.status === "rejected");
		expect(ok).toHaveLength(10);
		expect(refused.map(a => (a.reason as { type?: string }).type)).toEqual(Array.from({ length: 20 }, () => "REFUND_EXCEEDS_CAPTURED"));

		const after = (await cluster.observer.call("payments.getPayment", { id: payment.id }, as(nodes[1]))) as {
			status: string;
			refundedAmount: number;
			refunds: { amount: number; status: string }[];
		};
		expect([after.status, after.refundedAmount]).toEqual(["refunded", 1000]);
		expect(after.refunds.filter(r => r.status === "succeeded").reduce((sum, r) => sum + r.amount, 0)).toBe(1000);
		expect(after.refunds).toHaveLength(10);
	}, 60_000);
});
