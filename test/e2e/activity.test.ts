/**
 * The activity consumer: identity events from channels become entries in each concerned user's
 * log, read over HTTP at GET /api/users/me/activity; a message delivered twice is recorded once;
 * a message that cannot be handled ends in the dead letters.
 */
import { randomUUID } from "node:crypto";
import { listDeadLetters } from "../../lib/dead-letters";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

type Sender = { sendToChannel(name: string, payload: unknown): Promise<void> };
interface Entry {
	type: string;
	eventId: string;
	actorId: string;
	subject: string | null;
	userId: string;
	data: Record<string, unknown>;
	at: string;
}

describe("activity", () => {
	let p: Platform;
	let record: jest.SpyInstance;
	const uid = () => `u${randomUUID().replace(/-/g, "").slice(0, 16)}`;
	const tokenOf = (id: string) => p.token({ sub: id, tid: null as unknown as string, roles: [] });
	const send = (channel: string, payload: unknown) => (p.broker as unknown as Sender).sendToChannel(channel, payload);
	const activityOf = async (id: string, query = "") => {
		const res = await p.http("GET", `/api/users/me/activity${query}`, { token: tokenOf(id) });
		expect(res.status).toBe(200);
		return res.body as { rows: Entry[]; total: number; page: number; pageSize: number };
	};

	beforeAll(async () => {
		p = await startPlatform({ services: ["users", "activity"], env: { CHANNELS_RETRY_DELAY_MS: "5" } });
		const svc = p.broker.getLocalService("activity") as unknown as { record(...args: unknown[]): Promise<number> };
		record = jest.spyOn(svc, "record");
	});
	afterAll(() => p.stop());

	it("records registration and follows for each user concerned, newest first", async () => {
		const [ann, ben] = [uid(), uid()];
		await p.broker.call("users.createProfile", { id: ann, email: `${ann}@example.test`, name: "Ann" });
		await p.broker.call("users.createProfile", { id: ben, email: `${ben}@example.test`, name: "Ben" });
		await waitFor(async () => (await activityOf(ann)).total === 1, { what: "Ann's registration" });
		expect((await activityOf(ann)).rows[0]).toMatchObject({ type: "users.registered", actorId: ann, userId: ann, subject: ann });
		expect((await activityOf(ann)).rows[0].data).not.toHaveProperty("email");

		expect((await p.http("POST", `/api/users/${ben}/follow`, { token: tokenOf(ann) })).status).toBe(200);
		await waitFor(async () => (await activityOf(ben)).total === 2, { what: "Ben's follower entry" });
		await waitFor(async () => (await activityOf(ann)).total === 2, { what: "Ann's follow entry" });
		const annLog = await activityOf(ann);
		expect(annLog.rows.map(r => r.type)).toEqual(["users.followed", "users.registered"]);
		expect(annLog.rows[0]).toMatchObject({ actorId: ann, subject: ben });
		const benLog = await activityOf(ben);
		expect(benLog.rows[0]).toMatchObject({ type: "users.followed", actorId: ann, subject: ann, userId: ben });
		expect(benLog.rows[0].eventId).toBe(annLog.rows[0].eventId);

		const page2 = await activityOf(ann, "?page=2&pageSize=1");
		expect(page2).toMatchObject({ total: 2, page: 2, pageSize: 1 });
		expect(page2.rows.map(r => r.type)).toEqual(["users.registered"]);
		expect((await activityOf(ann, "?sort=at")).rows.map(r => r.type)).toEqual(["users.registered", "users.followed"]);
		expect((await p.http("GET", "/api/users/me/activity?sort=nope", { token: tokenOf(ann) })).status).toBe(422);
		expect((await p.http("GET", "/api/users/me/activity")).status).toBe(401);
	});

	it("records a message delivered twice once", async () => {
		const cleo = uid();
		const loggedIn = { eventId: randomUUID(), actorId: cleo, userId: cleo, tenantId: null, at: new Date().toISOString(), ip: "127.0.0.1" };
		const before = record.mock.calls.length;
		await send("auth.loggedIn", loggedIn);
		await send("auth.loggedIn", loggedIn);
		await waitFor(() => record.mock.calls.length >= before + 2, { what: "both deliveries" });
		const stored = await Promise.all(record.mock.results.slice(before).map(r => r.value as Promise<number>));
		expect(stored.sort()).toEqual([0, 1]);
		const log = await activityOf(cleo);
		expect(log.total).toBe(1);
		expect(log.rows[0]).toMatchObject({ type: "auth.loggedIn", eventId: loggedIn.eventId, data: { ip: "127.0.0.1", tenantId: null } });
	});

	it("records tenant membership events for the actor and the member", async () => {
		const [owner, member] = [uid(), uid()];
		const tenantId = `t${randomUUID().slice(0, 8)}`;
		await send("tenants.created", {
			eventId: randomUUID(),
			actorId: owner,
			tenantId,
			at: new Date().toISOString(),
			tenant: { id: tenantId, name: "Acme" },
		});
		await send("tenants.memberAdded", {
			eventId: randomUUID(),
			actorId: owner,
			tenantId,
			at: new Date().toISOString(),
			userId: member,
			role: "member",
		});
		await send("tenants.memberRoleChanged", {
			eventId: randomUUID(),
			actorId: owner,
			tenantId,
			at: new Date().toISOString(),
			userId: member,
			role: "admin",
			previousRole: "member",
		});
		await waitFor(async () => (await activityOf(owner)).total === 3 && (await activityOf(member)).total === 2, { what: "tenant entries" });
		const memberLog = await activityOf(member);
		expect(memberLog.rows.map(r => r.type).sort()).toEqual(["tenants.memberAdded", "tenants.memberRoleChanged"]);
		expect(memberLog.rows.every(r => r.subject === tenantId && r.actorId === owner)).toBe(true);
	});

	it("dead-letters a message it cannot handle after its retries", async () => {
		const before = record.mock.calls.length;
		await send("auth.passwordChanged", { actorId: uid(), at: new Date().toISOString() }); // no eventId
		const [dl] = (await waitFor(
			async () => {
				const rows = (await listDeadLetters(p.broker)).filter(d => d.channel === "auth.passwordChanged");
				return rows.length ? rows : null;
			},
			{ what: "the dead letter" },
		))!;
		expect(dl).toMatchObject({ group: "activity", attempts: 6 });
		expect(record.mock.calls.length - before).toBe(6); // 1 delivery + maxRetries (5)
	});
});
