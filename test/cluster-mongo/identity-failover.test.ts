/**
 * Two identity nodes (auth, tenants, users, activity) over one MongoDB and a gateway node, as real
 * processes over the machine's NATS: one identity node is SIGKILLed in the middle of a bounded load
 * of logins and refreshes. No request may fail, and every user's activity log must hold exactly one
 * `users.registered` entry and one `auth.loggedIn` entry per login (nothing lost, nothing doubled by
 * a retried call or a redelivered channel message).
 *
 * Needs a MongoDB server (MONGO_URI): NeDB files cannot be shared between processes.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { ServiceBroker } from "moleculer";
import { loadConfig } from "../../lib/config";
import { loadKeyRing } from "../../lib/keys";
import { freePort, startNode, type Proc } from "../helpers/processes";
import { waitFor } from "../helpers/wait";

const MONGO_URI = process.env.MONGO_URI;
if (!MONGO_URI) process.stdout.write("cluster-mongo: MONGO_URI is not set, so the identity failover test was NOT run\n");

const USERS = 30;
const ROUNDS = 5; // per user: ROUNDS × (login, then refresh with the token it returned)
const PASSWORD = "failover-horse-42";

interface Outcome {
	user: number;
	kind: "login" | "refresh";
	status: number;
	body: string;
}

(MONGO_URI ? describe : describe.skip)("two identity nodes over one MongoDB: one killed mid-load", () => {
	const namespace = `m${randomUUID().slice(0, 8)}`;
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-mongo-identity-"));
	const env = {
		NAMESPACE: namespace,
		TRANSPORTER: "nats://127.0.0.1:4222",
		MONGO_URI: MONGO_URI ?? "",
		DATA_DIR: dataDir,
		PASSWORD_SCRYPT_N: "1024",
		// every simulated user comes from its own address (X-Forwarded-For, believed from loopback only),
		// so the per-address limits on register/login/refresh do not turn the load into 429s
		TRUSTED_PROXIES: "loopback",
	};
	const identityIds = [`identity-1-${namespace}`, `identity-2-${namespace}`];
	const procs: Proc[] = [];
	let observer: ServiceBroker;
	let base: string;

	const post = (url: string, user: number, body: unknown) =>
		fetch(`${base}${url}`, {
			method: "POST",
			headers: { "content-type": "application/json", "x-forwarded-for": `10.77.${Math.floor(user / 200)}.${(user % 200) + 1}` },
			body: JSON.stringify(body),
		});

	beforeAll(async () => {
		// One signing key ring for both identity nodes, made before they start (no race to generate it).
		loadKeyRing(loadConfig({ ...process.env, ...env }));
		observer = new ServiceBroker({
			namespace,
			nodeID: `observer-${namespace}`,
			transporter: { type: "NATS", options: { url: env.TRANSPORTER } },
			logger: false,
		});
		await observer.start();
		const port = await freePort();
		base = `http://127.0.0.1:${port}`;
		for (const id of identityIds) procs.push(startNode({ ...env, SERVICES: "identity", NODE_ID: id }));
		procs.push(startNode({ ...env, SERVICES: "gateway", PORT: String(port), NODE_ID: `gateway-${namespace}` }));
		await waitFor(
			() =>
				["auth.login", "auth.refresh", "users.myActivity", "activity.listFor", "tenants.membership"].every(action => {
					const list = observer.registry.getActionEndpoints(action);
					return !!list && identityIds.every(id => list.hasNodeID(id));
				}),
			{ what: "both identity nodes", timeoutMs: 60_000, intervalMs: 250 },
		);
		await waitFor(async () => (await fetch(`${base}/health`)).ok, { what: "the gateway", timeoutMs: 60_000, intervalMs: 250 });
	}, 120_000);

	afterAll(async () => {
		for (const p of procs) p.kill("SIGKILL");
		await observer?.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	});

	it("loses no login or refresh and records each login exactly once when an identity node dies", async () => {
		const emails = Array.from({ length: USERS }, (_, i) => `u${i}-${namespace}@example.com`);
		const userIds: string[] = [];
		for (const [i, email] of emails.entries()) {
			const res = await post("/api/auth/register", i, { email, password: PASSWORD, name: `User ${i}` });
			expect(res.status).toBe(201);
			userIds.push(((await res.json()) as { user: { id: string } }).user.id);
		}

		const outcomes: Outcome[] = [];
		const lastAccess: string[] = [];
		const total = USERS * ROUNDS * 2;
		const killAt = Math.floor(total / 4);
		let killedAfter = -1;
		const settle = (o: Outcome) => {
			outcomes.push(o);
			if (outcomes.length === killAt) {
				killedAfter = outcomes.length;
				procs[1].kill("SIGKILL");
			}
		};
		await Promise.all(
			emails.map(async (email, user) => {
				for (let round = 0; round < ROUNDS; round++) {
					const login = await post("/api/auth/login", user, { email, password: PASSWORD });
					const loginBody = await login.text();
					settle({ user, kind: "login", status: login.status, body: loginBody });
					if (login.status !== 200) continue;
					const { refreshToken } = JSON.parse(loginBody) as { refreshToken: string };
					const refresh = await post("/api/auth/refresh", user, { refreshToken });
					const refreshBody = await refresh.text();
					settle({ user, kind: "refresh", status: refresh.status, body: refreshBody });
					if (refresh.status === 200) lastAccess[user] = (JSON.parse(refreshBody) as { accessToken: string }).accessToken;
				}
			}),
		);

		expect(killedAfter).toBe(killAt);
		expect(await procs[1].exited).toBeNull(); // killed by the signal, not exited on its own
		const failed = outcomes.filter(o => o.status !== 200);
		expect(failed.map(o => `${o.kind} of user ${o.user}: ${o.status} ${o.body.slice(0, 200)}`)).toEqual([]);
		expect(outcomes).toHaveLength(total);

		// The activity log converges to exactly one entry per event, for every user.
		const activityOf = async (user: number) => {
			const res = await fetch(`${base}/api/users/me/activity?pageSize=100&sort=at`, {
				headers: { authorization: `Bearer ${lastAccess[user]}` },
			});
			expect(res.status).toBe(200);
			return ((await res.json()) as { rows: { type: string; eventId: string; userId: string }[] }).rows;
		};
		const count = (rows: { type: string }[], type: string) => rows.filter(r => r.type === type).length;
		await waitFor(
			async () => {
				for (let user = 0; user < USERS; user++) {
					const rows = await activityOf(user);
					if (count(rows, "users.registered") < 1 || count(rows, "auth.loggedIn") < ROUNDS) return false;
				}
				return true;
			},
			{ what: "every login in the activity log", timeoutMs: 30_000, intervalMs: 500 },
		);
		// a late redelivery would show up as an extra entry: give it a moment, then count exactly
		await new Promise(r => setTimeout(r, 2_000));
		for (let user = 0; user < USERS; user++) {
			const rows = await activityOf(user);
			expect({ user, registered: count(rows, "users.registered"), loggedIn: count(rows, "auth.loggedIn") }).toEqual({
				user,
				registered: 1,
				loggedIn: ROUNDS,
			});
			expect(rows.every(r => r.userId === userIds[user])).toBe(true);
			const eventIds = rows.map(r => `${r.type}:${r.eventId}`);
			expect(new Set(eventIds).size).toBe(eventIds.length);
		}
	}, 180_000);
});
