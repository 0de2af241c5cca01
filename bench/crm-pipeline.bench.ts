/**
 * CRM pipeline benchmark: how long `leads.pipelineStats` (the heart of `GET /api/crm/pipeline`)
 * and `leads.workload` take on a tenant with many leads, cache cleared before every run.
 *
 *   npx tsx bench/crm-pipeline.bench.ts                          100,000 leads (+10 % in another tenant)
 *   BENCH_LEADS=20000 BENCH_RUNS=7 npx tsx bench/crm-pipeline.bench.ts
 *
 * Also pages of `leads.listLeads` (`GET /api/leads`): page 1 and 50 newest first, page 50 of one status,
 * page 1 by name (the first list sorted by a field builds that field's sorted list: its first run is
 * the slow one, so look at the median).
 *
 * Embedded store (NeDB in memory, the default in tests); with MONGO_URI set the same code runs on
 * MongoDB (projected `find().lean()`).
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";

const N = Number(process.env.BENCH_LEADS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);

Object.assign(process.env, {
	NODE_ENV: "test",
	LOG_LEVEL: "warn",
	NAMESPACE: `bench${randomUUID().slice(0, 6)}`,
	DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "valence-crm-bench-")),
	DB_DRIVER: process.env.MONGO_URI ? "mongo" : "memory",
});

const out = (line: string) => process.stdout.write(`${line}\n`);

async function main() {
	const { config } = await import("../lib/config");
	const { brokerOptions } = await import("../moleculer.config");
	const { selectServices } = await import("../services/catalog");
	const broker = new ServiceBroker({ ...brokerOptions(config()), logger: false, metrics: false });
	for (const f of selectServices("leads,activities")) broker.loadService(f.file);
	await broker.start();
	const leads = broker.getLocalService("leads") as unknown as {
		adapter: {
			insertMany?: unknown;
			db?: { insertAsync(d: unknown[]): Promise<unknown> };
			model?: { insertMany(d: unknown[]): Promise<unknown> };
		};
	};

	const statuses = ["new", "contacted", "qualified", "won", "lost"];
	const sources = ["ads", "seo", "referral", "web-form", "import", "fair"];
	const start = Date.parse("2026-01-01T00:00:00Z");
	const docs = (tenantId: string, n: number) =>
		Array.from({ length: n }, (_, i) => {
			const created = start + i * 60_000;
			const status = statuses[i % 5];
			return {
				_id: `${tenantId}-${i}`,
				tenantId,
				name: `Lead ${i}`,
				email: `lead${i}@example.com`,
				source: sources[i % sources.length],
				status,
				value: { amount: (i % 1000) * 100, currency: i % 3 ? "EUR" : "USD" },
				assignedTo: i % 7 ? `agent-${i % 25}` : null,
				assignedAt: i % 7 ? new Date(created + 1000).toISOString() : null,
				wonAt: status === "won" ? new Date(created + 86_400_000).toISOString() : null,
				customFields: {},
				createdAt: new Date(created).toISOString(),
				updatedAt: new Date(created).toISOString(),
			};
		});
	const insert = async (rows: unknown[]) => {
		for (let i = 0; i < rows.length; i += 5000) {
			const chunk = rows.slice(i, i + 5000);
			if (leads.adapter.model) await leads.adapter.model.insertMany(chunk);
			else await leads.adapter.db!.insertAsync(chunk);
		}
	};
	const t0 = performance.now();
	await insert(docs("bench-tenant", N));
	await insert(docs("other-tenant", Math.round(N / 10)));
	out(
		`crm pipeline bench: ${N.toLocaleString("en")} leads in the measured tenant (+${Math.round(N / 10).toLocaleString("en")} elsewhere), seeded in ${Math.round(performance.now() - t0)} ms`,
	);

	const meta = { meta: { user: { id: "bench", tenantId: "bench-tenant", roles: ["admin"] } } };
	const time = async (label: string, action: string, params: object = {}) => {
		const ms: number[] = [];
		let result: unknown;
		for (let i = 0; i < RUNS; i++) {
			await broker.cacher?.clean();
			const t = performance.now();
			result = await broker.call(action, params, { ...meta, timeout: 120_000 });
			ms.push(performance.now() - t);
		}
		ms.sort((a, b) => a - b);
		out(
			`  ${label.padEnd(28)} median ${ms[Math.floor(ms.length / 2)].toFixed(0).padStart(5)} ms   min ${ms[0].toFixed(0).padStart(5)} ms   (${RUNS} runs, cache cleared)`,
		);
		return result;
	};
	const stats = (await time("leads.pipelineStats", "leads.pipelineStats")) as { total: number };
	if (stats.total !== N) throw new Error(`expected ${N} leads, got ${stats.total}`);
	await time("leads.workload", "leads.workload");
	// pages of the list (sorted lists of the embedded store: lib/nedb-sorted-index.ts)
	const page1 = (await time("leads.listLeads (page 1)", "leads.listLeads", { page: 1, pageSize: 20 })) as { total: number; rows: { id: string }[] };
	const page50 = (await time("leads.listLeads (page 50)", "leads.listLeads", { page: 50, pageSize: 20 })) as {
		total: number;
		rows: { id: string }[];
	};
	if (page1.total !== N || page1.rows[0]?.id !== `bench-tenant-${N - 1}` || page50.rows[0]?.id !== `bench-tenant-${N - 1 - 49 * 20}`)
		throw new Error(`unexpected pages: total ${page1.total}, first ${page1.rows[0]?.id}, page 50 first ${page50.rows[0]?.id}`);
	await time("leads.listLeads (won, p. 50)", "leads.listLeads", { page: 50, pageSize: 20, status: "won" });
	await time("leads.listLeads (by name)", "leads.listLeads", { page: 1, pageSize: 20, sort: "name" });
	await broker.call("leads.pipelineStats", {}, meta); // fills the cache
	const t = performance.now();
	await broker.call("leads.pipelineStats", {}, meta);
	out(`  leads.pipelineStats cached    ${(performance.now() - t).toFixed(1)} ms`);
	await broker.stop();
	fs.rmSync(process.env.DATA_DIR!, { recursive: true, force: true });
}

main().catch(err => {
	process.stderr.write(`bench failed: ${err?.stack ?? err}\n`);
	process.exit(1);
});
