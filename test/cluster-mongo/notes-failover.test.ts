/**
 * Two nodes of a stateful service over one MongoDB: a node killed mid-load loses no acknowledged
 * write. Needs a MongoDB server (MONGO_URI); NeDB files cannot be shared between processes.
 */
import { randomUUID } from "node:crypto";
import { loadConfig } from "../../lib/config";
import { loadKeyRing, toJwks } from "../../lib/keys";
import { signAccessToken } from "../../lib/tokens";
import { ServiceBroker } from "moleculer";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, startNode, type Proc } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

const MONGO_URI = process.env.MONGO_URI;
if (!MONGO_URI) process.stdout.write("cluster-mongo: MONGO_URI is not set, so the shared-database failover tests were NOT run\n");

(MONGO_URI ? describe : describe.skip)("two notes nodes over one MongoDB", () => {
	const namespace = `m${randomUUID().slice(0, 8)}`;
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-mongo-"));
	const env = {
		NAMESPACE: namespace,
		TRANSPORTER: "nats://127.0.0.1:4222",
		MONGO_URI: MONGO_URI ?? "",
		DATA_DIR: dataDir,
		REQUEST_TIMEOUT_MS: "1000",
	};
	const procs: Proc[] = [];
	let observer: ServiceBroker;
	let port: number;
	let token: string;

	beforeAll(async () => {
		const cfg = loadConfig({ ...process.env, ...env });
		const ring = loadKeyRing(cfg);
		token = signAccessToken(ring, cfg, { sub: "writer", tid: `tenant-${namespace}`, roles: ["member"], sid: "s-writer" });
		observer = new ServiceBroker({
			namespace,
			transporter: { type: "NATS", options: { url: env.TRANSPORTER } },
			logger: false,
			disableBalancer: true,
		});
		observer.createService({ name: "auth", actions: { jwks: { visibility: "public", handler: () => toJwks(ring) } } });
		await observer.start();
		port = await freePort();
		procs.push(startNode({ ...env, SERVICES: "notes", NODE_ID: `notes-1-${namespace}` }));
		procs.push(startNode({ ...env, SERVICES: "notes", NODE_ID: `notes-2-${namespace}` }));
		procs.push(startNode({ ...env, SERVICES: "gateway", PORT: String(port) }));
		await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/notes`, { headers: { authorization: `Bearer ${token}` } })).ok, {
			what: "gateway and notes",
			timeoutMs: 60_000,
			intervalMs: 250,
		});
	}, 90_000);
	afterAll(async () => {
		for (const p of procs) p.kill("SIGKILL");
		await observer?.stop();
	});

	it("keeps every acknowledged write when one node is killed mid-load", async () => {
		const acknowledged: string[] = [];
		const writes = Array.from({ length: 200 }, async (_, i) => {
			if (i === 60) procs[1].kill("SIGKILL");
			const res = await fetch(`http://127.0.0.1:${port}/api/notes`, {
				method: "POST",
				headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
				body: JSON.stringify({ slug: `n-${i}`, title: `note ${i}` }),
			});
			if (res.status === 201) acknowledged.push(`n-${i}`);
		});
		await Promise.all(writes);
		const stored = new Set<string>();
		for (let page = 1; page <= 3; page++) {
			const res = await fetch(`http://127.0.0.1:${port}/api/notes?pageSize=100&page=${page}`, {
				headers: { authorization: `Bearer ${token}` },
			});
			for (const row of ((await res.json()) as { rows: { slug: string }[] }).rows) stored.add(row.slug);
		}
		for (const slug of acknowledged) expect(stored.has(slug)).toBe(true);
	}, 60_000);
});
