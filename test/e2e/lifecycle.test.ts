/**
 * Readiness tells the truth: 503 while the node's services are still starting (and nothing is routed),
 * 200 once they all have, 503 again first thing on SIGTERM while the node drains; `npm start` passes
 * signals on to the node process.
 */
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { ServiceBroker, type Service } from "moleculer";
import { config, resetConfig } from "../../lib/config";
import { projectRoot } from "../../lib/paths";
import { brokerOptions } from "../../moleculer.config";
import { selectServices } from "../../services/catalog";
import { freePort, startNode } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

const get = async (url: string) => {
	const res = await fetch(url);
	return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as Record<string, unknown> };
};

describe("readiness while starting", () => {
	it("answers 503 and routes nothing until every local service has started", async () => {
		Object.assign(process.env, { PORT: "0", NAMESPACE: `t${randomUUID().slice(0, 8)}` });
		resetConfig();
		const broker = new ServiceBroker({ ...brokerOptions(config()), nodeID: `life-${randomUUID().slice(0, 6)}` });
		for (const f of selectServices("gateway,greeter")) broker.loadService(f.file);
		let release!: () => void;
		const gate = new Promise<void>(r => (release = r));
		broker.createService({
			name: "slowpoke",
			async started() {
				await gate;
			},
		});
		const starting = broker.start();
		try {
			const api = broker.getLocalService("api") as Service & { server: { listening: boolean; address(): AddressInfo } };
			await waitFor(() => api.server.listening, { what: "the gateway to listen" });
			const base = `http://127.0.0.1:${api.server.address().port}`;

			expect((await get(`${base}/health`)).status).toBe(200); // alive
			const ready = await get(`${base}/health/ready`);
			expect(ready).toMatchObject({ status: 503, body: { status: "starting" } });
			expect(ready.retryAfter).not.toBeNull();
			const routed = await get(`${base}/api/greeter/hello`);
			expect(routed).toMatchObject({ status: 503, body: { code: "SERVICE_STARTING" } });
			expect(routed.retryAfter).not.toBeNull();

			release();
			await starting;
			expect((await get(`${base}/health/ready`)).status).toBe(200);
			expect((await get(`${base}/api/greeter/hello`)).status).toBe(200);
		} finally {
			release();
			await starting.catch(() => undefined);
			await broker.stop();
		}
	});
});

describe("SIGTERM", () => {
	it("turns readiness to 503 at once, keeps serving while it drains, then exits cleanly", async () => {
		const port = await freePort();
		const node = startNode({
			SERVICES: "gateway,greeter",
			PORT: String(port),
			SHUTDOWN_DRAIN_MS: "1500",
			NAMESPACE: `t${randomUUID().slice(0, 8)}`,
		});
		try {
			const base = `http://127.0.0.1:${port}`;
			await waitFor(async () => (await get(`${base}/health/ready`)).status === 200, {
				what: "the node to be ready",
				timeoutMs: 30_000,
				intervalMs: 100,
			});
			node.kill("SIGTERM");
			const draining = await waitFor(
				async () => {
					const r = await get(`${base}/health/ready`);
					return r.status === 503 ? r : null;
				},
				{ what: "readiness to turn 503", timeoutMs: 1000, intervalMs: 20 },
			);
			expect(draining?.body.status).toBe("draining");
			expect((await get(`${base}/api/greeter/hello`)).status).toBe(200); // still serving while load balancers notice
			expect(await node.exited).toBe(0);
		} finally {
			node.kill("SIGKILL");
		}
	}, 40_000);

	it("reaches the node through `npm start`", async () => {
		const port = await freePort();
		const npm = spawn("npm", ["start", "--silent"], {
			cwd: projectRoot,
			env: {
				...process.env,
				NODE_ENV: "test",
				LOG_LEVEL: "warn",
				SERVICES: "gateway,greeter",
				PORT: String(port),
				NAMESPACE: `t${randomUUID().slice(0, 8)}`,
			},
			stdio: "ignore",
		});
		const npmExited = new Promise(resolve => npm.once("exit", resolve));
		try {
			await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/health`)).ok, { what: "npm start", timeoutMs: 30_000, intervalMs: 100 });
			npm.kill("SIGTERM");
			await npmExited;
			// Nothing may keep the port: the node process got the signal too and left.
			await waitFor(
				async () =>
					fetch(`http://127.0.0.1:${port}/health`).then(
						() => false,
						() => true,
					),
				{ what: "the node process to exit", timeoutMs: 15_000, intervalMs: 100 },
			);
		} finally {
			npm.kill("SIGKILL");
		}
	}, 60_000);
});
