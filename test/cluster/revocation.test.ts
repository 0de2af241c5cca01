/**
 * Revocation across a real cluster (node processes over the machine's NATS): an identity node and two
 * gateway nodes. A session ended through one gateway is refused by the other within a bounded time (the
 * `auth.revoked` broadcast over NATS, with the cluster's disabled balancer), and a gateway started
 * afterwards refuses it from its first request (it loads the list from auth at start). The test process
 * joins as an observer node, to know when the gateways' subscriptions have reached the cluster.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { deleteStreams, freePort, startNode, type Proc } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

const NATS = process.env.TEST_NATS_URL ?? "nats://127.0.0.1:4222";
const PASSWORD = "correct-horse-42";

describe("revocation across gateway nodes", () => {
	const namespace = `r${randomUUID().slice(0, 8)}`;
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-revoke-"));
	const common = { NAMESPACE: namespace, TRANSPORTER: NATS, DATA_DIR: dataDir, PASSWORD_SCRYPT_N: "1024", REVOCATION_SYNC_S: "60" };
	const procs: Proc[] = [];
	const observer = new ServiceBroker({
		namespace,
		nodeID: `observer-${namespace}`,
		transporter: { type: "NATS", options: { url: NATS } },
		logger: false,
		disableBalancer: true,
	});
	// the observer listens to the broadcast too: what goes over NATS, not only what the gateways make of it
	const heard: { kind: string; id: string }[] = [];
	observer.createService({
		name: "revocationprobe",
		events: { "auth.revoked": (ctx: { params: { entries: { kind: string; id: string }[] } }) => void heard.push(...ctx.params.entries) },
	});
	const gatewaysKnown = (n: number) =>
		waitFor(() => (observer.registry.getServiceList({}) as { name: string }[]).filter(s => s.name === "api").length === n, {
			what: `${n} gateways known`,
			timeoutMs: 15_000,
		});
	const gateway = async (port: number) => {
		const proc = startNode({ ...common, SERVICES: "gateway", PORT: String(port), NODE_ID: `gw-${port}-${namespace}` });
		procs.push(proc);
		// ready to authenticate: the auth service (its JWKS) is reachable through this gateway
		await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/.well-known/jwks.json`)).ok, {
			what: `gateway on ${port}`,
			timeoutMs: 30_000,
			intervalMs: 200,
		}).catch(err => {
			throw new Error(`${err.message}\n${proc.output()}`);
		});
	};
	const me = (port: number, token: string) => fetch(`http://127.0.0.1:${port}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } });
	let ports: number[];

	beforeAll(async () => {
		await observer.start();
		procs.push(startNode({ ...common, SERVICES: "auth,tenants,users", NODE_ID: `identity-${namespace}` }));
		ports = [await freePort(), await freePort(), await freePort()];
		await Promise.all(ports.slice(0, 2).map(gateway));
		await gatewaysKnown(2);
	}, 60_000);
	afterAll(async () => {
		await observer.stop();
		for (const p of procs) p.kill("SIGKILL");
		await Promise.all(procs.map(p => p.exited));
		await deleteStreams(namespace).catch(() => undefined);
		fs.rmSync(dataDir, { recursive: true, force: true });
	}, 30_000);

	it("refuses on every gateway a token whose session ended through another; a gateway started later knows it", async () => {
		const [a, b, later] = ports;
		const body = JSON.stringify({ email: "cluster-revoke@example.com", password: PASSWORD, name: "C" });
		const reg = await fetch(`http://127.0.0.1:${a}/api/auth/register`, { method: "POST", headers: { "content-type": "application/json" }, body });
		expect(reg.status).toBe(201);
		const { accessToken, sessionId } = (await reg.json()) as { accessToken: string; sessionId: string };
		const other = (await (
			await fetch(`http://127.0.0.1:${a}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json" }, body })
		).json()) as {
			accessToken: string;
		};
		expect((await me(b, accessToken)).status).toBe(200);

		expect(
			(await fetch(`http://127.0.0.1:${a}/api/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${accessToken}` } })).status,
		).toBe(204);
		await waitFor(() => heard.some(e => e.kind === "session" && e.id === sessionId), { timeoutMs: 1000, what: "the auth.revoked broadcast" });
		// the resync is a minute away here: the broadcast makes this happen in time
		await waitFor(async () => (await me(b, accessToken)).status === 401, {
			timeoutMs: 1000,
			intervalMs: 20,
			what: "gateway B to refuse the token",
		});
		expect((await me(a, accessToken)).status).toBe(401);
		expect((await me(b, other.accessToken)).status).toBe(200);

		await gateway(later);
		const res = await me(later, accessToken);
		expect(res.status).toBe(401);
		expect(((await res.json()) as { code: string }).code).toBe("TOKEN_REVOKED");
		expect((await me(later, other.accessToken)).status).toBe(200);

		// and again, through the newest gateway, now that every start-up load is long done
		await gatewaysKnown(3);
		expect(
			(await fetch(`http://127.0.0.1:${later}/api/auth/logout`, { method: "POST", headers: { authorization: `Bearer ${other.accessToken}` } }))
				.status,
		).toBe(204);
		for (const port of [a, b])
			await waitFor(async () => (await me(port, other.accessToken)).status === 401, {
				timeoutMs: 1000,
				intervalMs: 20,
				what: `gateway on ${port} to refuse the second token`,
			});
	}, 60_000);
});
