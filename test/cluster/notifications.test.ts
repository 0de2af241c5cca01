/**
 * Notifications as a real cluster (separate processes over the machine's NATS, transit and JetStream, and a
 * private Redis): two gateway nodes (each with its realtime service), an identity node (auth, users) and a
 * platform node; the SMTP server and the push service are fakes in this process, on 127.0.0.1.
 *
 * 1. The user's socket is on gateway A; the follow that notifies them is made through gateway B (and
 *    handled on the identity and platform nodes): the socket gets the notification once, and so do the
 *    in-app list, the mailbox and the push service.
 * 2. A burst of follows while the platform node is SIGKILLed twice and started again (same data, NeDB files):
 *    every notification is there once, and for each one its e-mail and its push arrive at least once (checked per
 *    notification in the sinks); a resend carries the same Message-ID / the same notification.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { io as connectClient, type Socket } from "socket.io-client";
import { startCluster, type Cluster } from "../helpers/cluster";
import { startFakePush, type FakePush } from "../helpers/fake-push";
import { deleteStreams, freePort, type Proc } from "../helpers/processes";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink";
import { waitFor } from "../helpers/wait";

const until = async <T>(check: () => Promise<T> | T, opts?: Parameters<typeof waitFor>[1]) => (await waitFor(check, opts)) as NonNullable<T>;

interface Account {
	id: string;
	email: string;
	token: string;
}

describe("notifications across gateway, identity and platform nodes (NATS + Redis)", () => {
	let cluster: Cluster;
	let smtp: SmtpSink;
	let push: FakePush;
	let portA: number;
	let portB: number;
	let platform: Proc;
	const platformId = `platform-${randomUUID().slice(0, 8)}`;
	const platformDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-platform-"));
	const sockets: Socket[] = [];
	const tag = randomUUID().slice(0, 8);
	let platformEnv: Record<string, string>;

	const http = async (port: number, method: string, p: string, token?: string, body?: unknown) => {
		const res = await fetch(`http://127.0.0.1:${port}${p}`, {
			method,
			headers: { ...(token && { authorization: `Bearer ${token}` }), ...(body !== undefined && { "content-type": "application/json" }) },
			body: body === undefined ? undefined : JSON.stringify(body),
		});
		const text = await res.text();
		return { status: res.status, body: text ? JSON.parse(text) : null };
	};
	async function register(name: string): Promise<Account> {
		const email = `${name.toLowerCase()}-${tag}@example.com`;
		// straight to auth (an internal call): the gateway's per-address limit on registrations is not what this test is about
		const res = (await cluster.observer.call("auth.register", { email, password: "cluster-horse-42", name })) as {
			user: { id: string };
			accessToken: string;
		};
		return { id: res.user.id, email, token: res.accessToken };
	}
	const startPlatformNode = () => (platform = cluster.node("platform", platformEnv));
	const mailsTo = (address: string) => smtp.mails.filter(m => (m.to as { text: string } | undefined)?.text === address);

	beforeAll(async () => {
		smtp = await startSmtpSink();
		push = await startFakePush();
		cluster = await startCluster({ PASSWORD_SCRYPT_N: "1024", RATE_LIMIT_MAX: "100000", REQUEST_TIMEOUT_MS: "10000" });
		platformEnv = {
			NODE_ID: platformId,
			DATA_DIR: platformDir,
			DB_DRIVER: "nedb",
			SMTP_URL: smtp.url,
			MAIL_TIMEOUT_MS: "2000",
			PUSH_ALLOW_HTTP: "true",
			PUSH_ALLOWED_HOSTS: "127.0.0.1",
			PUSH_TIMEOUT_MS: "2000",
			CHANNELS_RETRY_DELAY_MS: "100",
			NOTIFY_SCHEDULER_INTERVAL_MS: "1000",
		};
		[portA, portB] = [await freePort(), await freePort()];
		cluster.node("auth,users", { NODE_ID: `identity-${cluster.namespace}` });
		startPlatformNode();
		await Promise.all([cluster.gateway(portA), cluster.gateway(portB)]);
		await waitFor(
			() =>
				["users", "notifications", "deliveries", "notifiers", "mailer", "pushsubscriptions"].every(s => cluster.nodesOf(s).length === 1) &&
				cluster.nodesOf("realtime").length === 2,
			{
				what: "every node",
				timeoutMs: 60_000,
			},
		);
		// the auth node's own `auth` (register, emailOf) besides the observer's stand-in
		await waitFor(async () => !!(await cluster.observer.call("auth.emailOf", { userId: "nobody" }).catch(() => null)), {
			what: "the auth node",
			timeoutMs: 30_000,
		});
	}, 120_000);

	afterAll(async () => {
		for (const s of sockets) s.close();
		await cluster?.stop();
		await smtp?.close();
		await push?.close();
		if (cluster) await deleteStreams(cluster.namespace);
		fs.rmSync(platformDir, { recursive: true, force: true });
	});

	it("delivers once to a socket on gateway A what a request through gateway B caused", async () => {
		const alice = await register("Alice");
		const bob = await register("Bob");
		expect((await http(portA, "PUT", "/api/notifications/preferences", alice.token, { categories: { follows: { email: true } } })).status).toBe(
			200,
		);
		const sub = push.subscription();
		expect(
			(await http(portA, "POST", "/api/notifications/push-subscriptions", alice.token, { endpoint: sub.endpoint, keys: sub.keys })).status,
		).toBe(201);

		const events: { event: string; data: any }[] = [];
		const socket = connectClient(`http://127.0.0.1:${portA}`, {
			auth: { token: alice.token },
			transports: ["websocket"],
			reconnection: false,
			forceNew: true,
		});
		sockets.push(socket);
		socket.onAny((event, data) => events.push({ event, data }));
		await new Promise((resolve, reject) => {
			socket.once("ready", resolve);
			socket.once("connect_error", reject);
		});
		// another user's socket on B, which must stay silent
		const bobEvents: string[] = [];
		const bobSocket = connectClient(`http://127.0.0.1:${portB}`, {
			auth: { token: bob.token },
			transports: ["websocket"],
			reconnection: false,
			forceNew: true,
		});
		sockets.push(bobSocket);
		bobSocket.onAny(event => bobEvents.push(event));
		await new Promise(resolve => bobSocket.once("ready", resolve));

		expect((await http(portB, "POST", `/api/users/${alice.id}/follow`, bob.token)).status).toBe(200);

		const realtime = await until(() => events.find(e => e.event === "notification"), {
			what: "the notification on gateway A's socket",
			timeoutMs: 20_000,
		});
		expect(realtime.data.notification).toMatchObject({ userId: alice.id, body: "Bob started following you." });
		const listed = await http(portB, "GET", "/api/notifications", alice.token);
		expect(listed.body.items).toEqual([realtime.data.notification]);
		await until(() => mailsTo(alice.email).length === 1 && push.received.filter(r => r.subscription === sub.id).length === 1, {
			what: "the e-mail and the push",
			timeoutMs: 20_000,
		});
		// a marker through the other gateway's realtime service: once it is on the socket, a duplicate would be too
		await cluster.observer.call("realtime.toUser", { userId: alice.id, event: "marker", data: {} });
		await until(() => events.find(e => e.event === "marker"), { what: "the marker" });
		expect(events.filter(e => e.event === "notification")).toHaveLength(1);
		expect(bobEvents.filter(e => e !== "ready")).toEqual([]);
		expect(push.received.find(r => r.subscription === sub.id)!.payload.id).toBe(realtime.data.notification.id);
	});

	it("loses nothing and sends nothing twice when the platform node is killed in the middle of a burst", async () => {
		const star = await register("Star");
		expect((await http(portA, "PUT", "/api/notifications/preferences", star.token, { categories: { follows: { email: true } } })).status).toBe(
			200,
		);
		const sub = push.subscription();
		expect(
			(await http(portA, "POST", "/api/notifications/push-subscriptions", star.token, { endpoint: sub.endpoint, keys: sub.keys })).status,
		).toBe(201);
		const N = 120;
		const fans: Account[] = [];
		for (let i = 0; i < N; i++) fans.push(await register(`Fan${i}`));

		// the burst, spread over a few seconds through both gateways; the platform node dies twice: early (while the first
		// notifications are being stored and handed over) and again soon after its restart, as soon as it made one more
		// notification (its channel consumers then find the node's own services missing while it starts), each time with
		// whatever was stored, queued, claimed or accepted by the provider but not yet marked
		const follows: Promise<number>[] = [];
		const killPoints = [Math.floor(N / 4), Math.floor((2 * N) / 3)];
		const killedAt: number[] = [];
		let lastCount = 0;
		for (let i = 0; i < N; i++) {
			follows.push(http(i % 2 ? portA : portB, "POST", `/api/users/${star.id}/follow`, fans[i].token).then(r => r.status));
			if (killPoints.includes(i)) {
				const before = killedAt.length ? lastCount + 1 : 10;
				await until(
					async () => ((await http(portB, "GET", "/api/notifications/unread-count", star.token)).body?.unreadCount ?? 0) >= before,
					{
						what: "some notifications before the kill",
						timeoutMs: 60_000,
					},
				);
				lastCount = (await http(portB, "GET", "/api/notifications/unread-count", star.token)).body?.unreadCount ?? 0;
				platform.kill("SIGKILL");
				await platform.exited;
				killedAt.push(mailsTo(star.email).length);
				startPlatformNode();
			}
			await new Promise(r => setTimeout(r, 20));
		}
		expect(new Set(await Promise.all(follows))).toEqual(new Set([200]));
		expect(killedAt.every(k => k < N)).toBe(true); // it did die mid-burst

		const count = async () => (await http(portB, "GET", "/api/notifications/unread-count", star.token)).body?.unreadCount ?? 0;
		await until(async () => (await count()) === N, { what: `${N} notifications after the restart`, timeoutMs: 120_000, intervalMs: 500 }).catch(
			async (err: Error) => {
				throw new Error(`${err.message}: ${await count()} of ${N} (killed after ${killedAt.join(", ")} e-mails)`);
			},
		);
		const pushes = () => push.received.filter(r => r.subscription === sub.id && r.status === 201);
		const nameOf = (f: Account) => f.email.split("-")[0].replace(/^fan/, "Fan");
		// per notification, not in total: which follower's e-mail, which notification's push has not arrived (yet)
		const missing = (ids: string[]) => {
			const subjects = mailsTo(star.email).map(m => m.subject ?? "");
			const pushed = new Set(pushes().map(r => r.payload.id));
			return {
				emails: fans.filter(f => !subjects.some(s => s.includes(`${nameOf(f)} `))).map(nameOf),
				pushes: ids.filter(id => !pushed.has(id)),
			};
		};
		const listIds = async () => {
			const ids: string[] = [];
			for (let cursor: string | null = null; ;) {
				const page: { body: { items: { id: string }[]; nextCursor: string | null } } = await http(
					portB,
					"GET",
					`/api/notifications?limit=100${cursor ? `&cursor=${cursor}` : ""}`,
					star.token,
				);
				ids.push(...page.body.items.map(i => i.id));
				if (!(cursor = page.body.nextCursor)) break;
			}
			return ids;
		};
		const ids = await listIds();
		expect(ids).toHaveLength(N);
		const settled = await waitFor(
			() => {
				const m = missing(ids);
				return m.emails.length === 0 && m.pushes.length === 0;
			},
			{ what: "an e-mail and a push for every notification", timeoutMs: 120_000, intervalMs: 500 },
		).catch(() => false);
		expect(settled ? { emails: [], pushes: [] } : missing(ids)).toEqual({ emails: [], pushes: [] });

		// every follower once in the list, in the mailbox and at the push service
		const items: { id: string; body: string }[] = [];
		for (let cursor: string | null = null; ;) {
			const page: { body: { items: { id: string; body: string }[]; nextCursor: string | null } } = await http(
				portB,
				"GET",
				`/api/notifications?limit=100${cursor ? `&cursor=${cursor}` : ""}`,
				star.token,
			);
			items.push(...page.body.items);
			if (!(cursor = page.body.nextCursor)) break;
		}
		const expected = fans.map(f => `${nameOf(f)} started following you.`).sort();
		expect(items.map(i => i.body).sort()).toEqual(expected);
		const subjects = mailsTo(star.email).map(m => m.subject!);
		expect(new Set(subjects).size).toBe(N);
		// At least once: a delivery the provider accepted in the instant before the node died is sent again after its
		// lease, with the same Message-ID (and a push with the same Topic), so a mailbox or a service worker can tell.
		const messageIds = mailsTo(star.email).map(m => m.messageId);
		const resent = messageIds.length - new Set(messageIds).size;
		const pushIds = pushes().map(r => r.payload.id);
		const pushResent = pushIds.length - new Set(pushIds).size;
		process.stderr.write(
			`notifications cluster burst: ${N} follows, platform node SIGKILLed after ${killedAt.join(" and ")} e-mails; e-mails sent ${messageIds.length} (${resent} resent, same Message-ID), pushes ${pushIds.length} (${pushResent} resent, same Topic)\n`,
		);
		expect(new Set(messageIds).size).toBe(N);
		expect(subjects.length - new Set(subjects).size).toBe(resent); // a resend is the same message, never a second notification
		// at most the deliveries in flight at each kill (maxInFlight of the e-mail and push channels)
		expect(resent).toBeLessThanOrEqual(10 * killPoints.length);
		expect(pushResent).toBeLessThanOrEqual(20 * killPoints.length);
	}, 300_000);
});
