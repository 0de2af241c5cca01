/**
 * Realtime over Socket.IO on the gateway's port: the handshake is verified like a REST call (no token,
 * invalid, expired, revoked: refused), sockets join their user's, scope's and tenant's rooms and no other,
 * services push with realtime.toUser / realtime.toTenant (actions or events), new notifications and
 * unread counts arrive on their own, a revoked session or an expired token closes the socket.
 */
import { randomUUID } from "node:crypto";
import { io as connectClient, type Socket } from "socket.io-client";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

interface Client {
	socket: Socket;
	events: { event: string; data: any }[];
	of(event: string): any[];
	close(): void;
}

describe("realtime over Socket.IO", () => {
	let p: Platform;
	const clients: Client[] = [];
	const tid = `t-${randomUUID().slice(0, 8)}`;
	const other = `t-${randomUUID().slice(0, 8)}`;

	/** Connects; resolves once the server said `ready`, rejects with the connect_error. */
	function connect(token: string | undefined, opts: { transports?: string[]; header?: boolean } = {}): Promise<Client> {
		const socket = connectClient(p.baseUrl, {
			...(token && !opts.header && { auth: { token } }),
			...(token && opts.header && { extraHeaders: { Authorization: `Bearer ${token}` } }),
			transports: opts.transports ?? ["websocket"],
			reconnection: false,
			forceNew: true,
			timeout: 5000,
		});
		const client: Client = {
			socket,
			events: [],
			of: e => client.events.filter(x => x.event === e).map(x => x.data),
			close: () => socket.close(),
		};
		socket.onAny((event, data) => client.events.push({ event, data }));
		clients.push(client);
		return new Promise((resolve, reject) => {
			socket.once("ready", () => resolve(client));
			socket.once("connect_error", err => reject(err));
		});
	}
	const refusal = (token: string | undefined) =>
		connect(token).then(
			() => null,
			(err: Error & { data?: { code: string } }) => ({ message: err.message, code: err.data?.code }),
		);
	const token = (sub: string, tenant: string | null = null, extra: { ttlSec?: number; sid?: string } = {}) =>
		p.token({ sub, tid: tenant, roles: tenant ? ["member"] : [], ...extra });
	const sendFollow = (userId: string, name = "Fay") =>
		p.broker.call("notifications.send", {
			userId,
			template: "new-follower",
			vars: { follower: { id: "f", name } },
			eventId: randomUUID(),
		}) as Promise<{ notification: { id: string } }>;

	beforeAll(async () => {
		p = await startPlatform({ services: ["platform"], env: { REVOCATION_SYNC_S: "1" } });
	}, 30_000);
	afterEach(() => {
		for (const c of clients.splice(0)) c.close();
	});
	afterAll(() => p?.stop());

	it("refuses a handshake without a valid token, as REST does", async () => {
		expect(await refusal(undefined)).toEqual({ message: "An access token is required (auth: { token }).", code: "UNAUTHORIZED" });
		expect(await refusal("not-a-jwt")).toMatchObject({ code: "INVALID_TOKEN" });
		expect(await refusal(token("u-exp", null, { ttlSec: -30 }))).toMatchObject({ code: "TOKEN_EXPIRED" });
		// signed with a key the gateway does not trust (HS256 with a guessable secret)
		const forged = [
			Buffer.from('{"alg":"HS256","typ":"JWT","kid":"x"}').toString("base64url"),
			Buffer.from('{"sub":"u1","typ":"access","sid":"s"}').toString("base64url"),
			"sig",
		].join(".");
		expect(await refusal(forged)).toMatchObject({ code: "INVALID_TOKEN" });
		// a session that ended: the gateway's revocation list
		const sid = `s-${randomUUID()}`;
		await p.broker.broadcast("auth.revoked", { entries: [{ kind: "session", id: sid, until: new Date(Date.now() + 60_000).toISOString() }] });
		expect(await refusal(token("u-rev", null, { sid }))).toMatchObject({ code: "TOKEN_REVOKED" });
		// REST says the same about the same token
		expect((await p.http("GET", "/api/notifications", { token: token("u-rev", null, { sid }) })).body.code).toBe("TOKEN_REVOKED");
	});

	it("brings a new notification to the recipient's open sockets, and to nobody else's", async () => {
		const alice = await connect(token("alice"));
		const aliceTab2 = await connect(token("alice"), { transports: ["polling"], header: true }); // long polling, token in the header
		const bob = await connect(token("bob"));
		const { notification } = await sendFollow("alice", "Zed");
		await waitFor(() => alice.of("notification").length === 1 && aliceTab2.of("notification").length === 1, { what: "both of alice's sockets" });
		expect(alice.of("notification")[0]).toEqual({
			notification: expect.objectContaining({ id: notification.id, body: "Zed started following you.", readAt: null }),
		});
		// what the socket says is what the list says
		const listed = await p.http("GET", "/api/notifications", { token: token("alice") });
		expect(listed.body.items[0]).toEqual(alice.of("notification")[0].notification);
		// marking it read tells every socket of that scope the new count
		await p.http("POST", `/api/notifications/${notification.id}/read`, { token: token("alice") });
		await waitFor(() => aliceTab2.of("notifications.unread").length === 1, { what: "the unread count" });
		expect(aliceTab2.of("notifications.unread")[0]).toEqual({ unreadCount: 0 });
		expect(bob.of("notification")).toEqual([]);
	});

	it("lets services push to a user or a tenant, by action or by event, once per socket", async () => {
		const inT = await connect(token("carl", tid));
		const carlNoTenant = await connect(token("carl"));
		const peer = await connect(token("dina", tid));
		const outsider = await connect(token("erin", other));

		await p.broker.call("realtime.toTenant", { tenantId: tid, event: "deal.won", data: { amount: 5 } });
		await waitFor(() => inT.of("deal.won").length && peer.of("deal.won").length, { what: "the tenant's sockets" });
		await p.broker.call("realtime.toUser", { userId: "carl", event: "ping.me", data: { n: 1 } });
		await p.broker.emit("realtime.toUser", { userId: "carl", event: "ping.me", data: { n: 2 } }); // a balanced event: one gateway node relays it
		await p.broker.call("realtime.toUser", { userId: "carl", scope: tid, event: "scoped", data: {} });
		await waitFor(() => inT.of("ping.me").length === 2 && carlNoTenant.of("ping.me").length === 2 && inT.of("scoped").length === 1, {
			what: "carl's messages",
		});
		// a marker sent last: once it is there, anything else would have arrived too
		await p.broker.call("realtime.toUser", { userId: "erin", event: "marker", data: {} });
		await p.broker.call("realtime.toUser", { userId: "carl", event: "marker", data: {} });
		await waitFor(() => outsider.of("marker").length && carlNoTenant.of("marker").length);
		expect(inT.of("ping.me")).toEqual([{ n: 1 }, { n: 2 }]);
		expect(carlNoTenant.of("scoped")).toEqual([]);
		expect(carlNoTenant.of("deal.won")).toEqual([]);
		expect(outsider.of("deal.won")).toEqual([]);
		expect(peer.of("ping.me")).toEqual([]);

		for (const bad of [
			{ userId: "carl", event: "Bad Name", data: {} },
			{ userId: "carl", event: "big", data: { x: "y".repeat(20_000) } },
			{ userId: "carl", event: "ok", data: {}, extra: 1 },
		])
			await expect(p.broker.call("realtime.toUser", bad)).rejects.toMatchObject({ code: 422 });
	});

	it("never lets a client into another user's room", async () => {
		const mallory = await connect(token("mallory"));
		const victim = await connect(token("victim"));
		for (const room of ["user:victim", "scope:victim:-", `tenant:${tid}`]) {
			const ack = await mallory.socket.timeout(2000).emitWithAck("join", room);
			expect(ack).toEqual({ ok: false, code: "FORBIDDEN", message: "Rooms are chosen by the server from your token." });
		}
		await p.broker.call("realtime.toUser", { userId: "victim", event: "secret", data: { s: 1 } });
		await p.broker.call("realtime.toUser", { userId: "mallory", event: "marker", data: {} });
		await waitFor(() => victim.of("secret").length && mallory.of("marker").length);
		expect(mallory.of("secret")).toEqual([]);
	});

	it("closes the socket of a session that ends, and the socket of an expired token", async () => {
		const sid = `s-${randomUUID()}`;
		const revoked = await connect(token("fred", null, { sid }));
		const kept = await connect(token("fred"));
		await p.broker.broadcast("auth.revoked", { entries: [{ kind: "session", id: sid, until: new Date(Date.now() + 60_000).toISOString() }] });
		await waitFor(() => !revoked.socket.connected, { what: "the revoked socket closed" });
		expect(revoked.of("session.revoked")).toHaveLength(1);
		expect(kept.socket.connected).toBe(true);

		// a revocation this node heard of only through the gateway's periodic resync (no broadcast): closed too
		const missed = `s-${randomUUID()}`;
		const late = await connect(token("fred", null, { sid: missed }));
		(p.broker.getLocalService("api") as unknown as { revocations: { add(e: unknown): void } }).revocations.add([
			{ kind: "session", id: missed, until: new Date(Date.now() + 60_000).toISOString() },
		]);
		await waitFor(() => !late.socket.connected, { what: "the socket of a revocation heard by resync", timeoutMs: 5000 });
		expect(late.of("session.revoked")).toHaveLength(1);
		expect(kept.socket.connected).toBe(true);

		const short = await connect(token("gina", null, { ttlSec: 2 }));
		await waitFor(() => !short.socket.connected, { what: "the expired socket closed", timeoutMs: 8000 });
		expect(short.of("session.expired")).toHaveLength(1);
	});

	it("counts sockets and users per gateway node", async () => {
		await connect(token("h1"));
		await connect(token("h1"));
		await connect(token("h2"));
		// sockets closed by the tests before are gone once the server has seen them close
		await waitFor(async () => JSON.stringify(await p.broker.call("realtime.stats")) === JSON.stringify({ sockets: 3, users: 2 }), {
			what: "3 sockets of 2 users",
		});
	});

	it("counts connection attempts against the gateway's rate limit of the client address", async () => {
		const q = await startPlatform({ services: ["notifications"], env: { RATE_LIMIT_MAX: "3" } });
		try {
			const attempt = () =>
				new Promise<string>(resolve => {
					const socket = connectClient(q.baseUrl, {
						auth: { token: q.token({ sub: "burst" }) },
						transports: ["websocket"],
						reconnection: false,
						forceNew: true,
					});
					socket.once("ready", () => resolve("connected"));
					socket.once("connect_error", err => resolve(`refused: ${err.message}`));
					clients.push({ socket, events: [], of: () => [], close: () => socket.close() });
				});
			const results: string[] = [];
			for (let i = 0; i < 5; i++) results.push(await attempt());
			expect(results.slice(0, 3)).toEqual(["connected", "connected", "connected"]);
			expect(results.slice(3)).toEqual(["refused: websocket error", "refused: websocket error"]);
		} finally {
			for (const c of clients.splice(0)) c.close();
			await q.stop();
		}
	});

	it("closes its sockets when the gateway node stops, and the node stops promptly", async () => {
		const q = await startPlatform({ services: ["notifications"] });
		const socket = connectClient(q.baseUrl, {
			auth: { token: q.token({ sub: "stopper" }) },
			transports: ["websocket"],
			reconnection: false,
			forceNew: true,
		});
		await new Promise(resolve => socket.once("ready", resolve));
		const reason = new Promise<string>(resolve => socket.once("disconnect", r => resolve(r)));
		const started = Date.now();
		await q.stop();
		expect(Date.now() - started).toBeLessThan(5000);
		expect(await reason).toBe("io server disconnect");
	});
});
