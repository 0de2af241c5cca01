/**
 * Organisations and memberships over HTTP: CRUD, invitations (nobody becomes a member without
 * accepting), member management, role rules, the last owner, and tenant isolation (a non-member sees a
 * 404 identical to a missing tenant).
 */
import type { ServiceSchema } from "moleculer";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const PASSWORD = "correct-horse-42";

interface Session {
	accessToken: string;
	user: { id: string };
	email: string;
}

const events: { name: string; payload: Record<string, unknown> }[] = [];
const channelNames = ["tenants.created", "tenants.memberInvited", "tenants.memberAdded", "tenants.memberRemoved", "tenants.memberRoleChanged"];
const EventSink = {
	name: "testtenantevents",
	channels: Object.fromEntries(
		channelNames.map(name => [
			name,
			{
				group: "testtenantevents",
				handler(ctxOrMsg: { params?: unknown }) {
					events.push({ name, payload: (ctxOrMsg.params ?? ctxOrMsg) as Record<string, unknown> });
				},
			},
		]),
	),
} as unknown as ServiceSchema;

describe("tenants", () => {
	let p: Platform;
	const http: Platform["http"] = (method, path, opts) => p.http(method, path, opts);
	const user = async (email: string): Promise<Session> => ({
		...((await p.broker.call("auth.register", { email, password: PASSWORD, name: email.split("@")[0] })) as Session),
		email,
	});
	const strip = (b: Record<string, unknown>) => ({ ...b, instance: undefined, requestId: undefined });
	const invite = (tenant: string, by: Session, email: string, role: string) =>
		http("POST", `/api/tenants/${tenant}/invitations`, { token: by.accessToken, body: { email, role } });
	const invitationsOf = async (who: Session) =>
		(await http("GET", "/api/tenants/invitations", { token: who.accessToken })).body.rows as { id: string; tenantId: string; role: string }[];
	/** Membership the way users get it: an admin invites, the invitee accepts. */
	const join = async (tenant: string, by: Session, who: Session, role: string) => {
		expect((await invite(tenant, by, who.email, role)).status).toBe(202);
		const mine = (await invitationsOf(who)).find(i => i.tenantId === tenant)!;
		const accepted = await http("POST", `/api/tenants/invitations/${mine.id}/accept`, { token: who.accessToken });
		expect(accepted.status).toBe(201);
		return accepted;
	};

	let owner: Session, admin: Session, member: Session, outsider: Session;
	let tenantId: string;

	beforeAll(async () => {
		p = await startPlatform({ services: ["auth", "tenants", "users"], extra: [EventSink], env: { PASSWORD_SCRYPT_N: "1024" } });
		[owner, admin, member, outsider] = await Promise.all(
			["owner@t.example", "admin@t.example", "member@t.example", "outsider@t.example"].map(user),
		);
	});
	afterAll(() => p.stop());

	it("creates a tenant: 201, the creator is its owner", async () => {
		const res = await http("POST", "/api/tenants", { token: owner.accessToken, body: { name: " Acme Inc ", slug: "acme" } });
		expect(res.status).toBe(201);
		expect(res.body).toMatchObject({ id: expect.any(String), name: "Acme Inc", slug: "acme", role: "owner", createdBy: owner.user.id });
		tenantId = res.body.id;
		const list = await http("GET", "/api/tenants", { token: owner.accessToken });
		expect(list.body).toMatchObject({ total: 1, page: 1, rows: [{ id: tenantId, role: "owner" }] });
		const created = (await waitFor(() => events.find(e => e.name === "tenants.created" && e.payload.tenantId === tenantId), {
			what: "tenants.created",
		}))!;
		expect(created.payload).toMatchObject({
			actorId: owner.user.id,
			eventId: expect.any(String),
			at: expect.any(String),
			tenant: { id: tenantId, slug: "acme" },
		});
	});

	it("validates the slug and keeps it unique: 422, then 409 SLUG_TAKEN", async () => {
		for (const slug of ["ab", "Has-Caps", "under_score", "x".repeat(41)]) {
			const res = await http("POST", "/api/tenants", { token: outsider.accessToken, body: { name: "X", slug } });
			expect(res.status).toBe(422);
		}
		const dup = await http("POST", "/api/tenants", { token: outsider.accessToken, body: { name: "Other", slug: "acme" } });
		expect(dup.status).toBe(409);
		expect(dup.body.code).toBe("SLUG_TAKEN");
	});

	it("invites by email: 202, the same answer whether or not the address has an account, and nobody is a member yet", async () => {
		// the admin's (cached) list of tenants is empty before
		expect((await http("GET", "/api/tenants", { token: admin.accessToken })).body.total).toBe(0);
		const known = await invite(tenantId, owner, "Admin@T.example", "admin");
		const unknown = await invite(tenantId, owner, "ghost@t.example", "admin");
		for (const r of [known, unknown]) {
			expect(r.status).toBe(202);
			expect(r.body).toEqual({
				id: expect.any(String),
				tenantId,
				email: expect.any(String),
				role: "admin",
				status: "pending",
				invitedBy: owner.user.id,
				expiresAt: expect.any(String),
				createdAt: expect.any(String),
			});
		}
		expect(known.body.email).toBe("admin@t.example");
		const shape = (b: Record<string, unknown>) => ({ ...b, id: undefined, email: undefined, createdAt: undefined, expiresAt: undefined });
		expect(shape(known.body)).toEqual(shape(unknown.body));
		expect(Date.parse(known.body.expiresAt) - Date.now()).toBeGreaterThan(6 * 24 * 3600_000);
		// an invitation is not a membership: not in the members, not in the invitee's tenants, not their next login's scope
		expect((await http("GET", `/api/tenants/${tenantId}/members`, { token: owner.accessToken })).body.total).toBe(1);
		expect((await http("GET", "/api/tenants", { token: admin.accessToken })).body.total).toBe(0);
		expect((await http("POST", "/api/auth/login", { body: { email: admin.email, password: PASSWORD } })).body.tenantId).toBeNull();
		expect((await http("GET", `/api/tenants/${tenantId}`, { token: admin.accessToken })).status).toBe(404);
		const neither = await http("POST", `/api/tenants/${tenantId}/invitations`, { token: owner.accessToken, body: { role: "member" } });
		expect(neither.status).toBe(422);
		// the old direct route is gone: no public route adds a member without consent
		expect(
			(await http("POST", `/api/tenants/${tenantId}/members`, { token: owner.accessToken, body: { userId: admin.user.id, role: "admin" } }))
				.status,
		).toBe(404);
		await waitFor(
			() =>
				events.some(
					e => e.name === "tenants.memberInvited" && e.payload.invitationId === known.body.id && e.payload.email === "admin@t.example",
				),
			{
				what: "memberInvited",
			},
		);
	});

	it("shows the invitee their invitations; accepting makes them a member with the invited role", async () => {
		const mine = await invitationsOf(admin);
		expect(mine).toEqual([
			{
				id: expect.any(String),
				tenantId,
				tenant: { name: "Acme Inc", slug: "acme" },
				role: "admin",
				invitedBy: owner.user.id,
				expiresAt: expect.any(String),
				createdAt: expect.any(String),
			},
		]);
		expect(await invitationsOf(member)).toEqual([]); // nobody sees invitations addressed to others
		const accepted = await http("POST", `/api/tenants/invitations/${mine[0].id}/accept`, { token: admin.accessToken });
		expect(accepted.status).toBe(201);
		expect(accepted.body).toMatchObject({ tenantId, userId: admin.user.id, role: "admin" });
		expect((await http("POST", `/api/tenants/invitations/${mine[0].id}/accept`, { token: admin.accessToken })).status).toBe(404);
		expect(await invitationsOf(admin)).toEqual([]);
		expect((await http("GET", "/api/tenants", { token: admin.accessToken })).body.rows).toEqual([
			expect.objectContaining({ id: tenantId, role: "admin" }),
		]);
		await waitFor(
			() => events.some(e => e.name === "tenants.memberAdded" && e.payload.userId === admin.user.id && e.payload.invitationId === mine[0].id),
			{ what: "memberAdded" },
		);

		// admins invite too
		await join(tenantId, admin, member, "member");
		expect((await http("GET", "/api/tenants", { token: member.accessToken })).body.rows).toEqual([
			expect.objectContaining({ id: tenantId, role: "member" }),
		]);
	});

	it("lets the invitee decline; nobody else can accept or decline it", async () => {
		expect((await invite(tenantId, owner, outsider.email, "member")).status).toBe(202);
		const [inv] = await invitationsOf(outsider);
		for (const action of ["accept", "decline"]) {
			const other = await http("POST", `/api/tenants/invitations/${inv.id}/${action}`, { token: member.accessToken });
			const missing = await http("POST", `/api/tenants/invitations/0000000000000000000x/${action}`, { token: member.accessToken });
			expect(other.status).toBe(404);
			expect(strip(other.body)).toEqual({ ...strip(missing.body), detail: other.body.detail });
		}
		expect((await http("POST", `/api/tenants/invitations/${inv.id}/decline`, { token: outsider.accessToken })).status).toBe(204);
		expect(await invitationsOf(outsider)).toEqual([]);
		expect((await http("POST", `/api/tenants/invitations/${inv.id}/accept`, { token: outsider.accessToken })).status).toBe(404);
		expect((await http("GET", `/api/tenants/${tenantId}`, { token: outsider.accessToken })).status).toBe(404);
	});

	it("lists pending invitations to admins, renews one on a second invite, and revokes it", async () => {
		const first = await invite(tenantId, owner, "later@t.example", "member");
		const again = await invite(tenantId, admin, "later@t.example", "admin");
		expect(again.body).toMatchObject({ id: first.body.id, role: "admin", invitedBy: admin.user.id });
		const pending = await http("GET", `/api/tenants/${tenantId}/invitations`, { token: admin.accessToken });
		expect(pending.status).toBe(200);
		expect(pending.body).toMatchObject({ total: 2, page: 1 }); // later@ and ghost@ (admin@ was accepted, outsider@ declined)
		expect(pending.body.rows.map((r: { email: string }) => r.email).sort()).toEqual(["ghost@t.example", "later@t.example"]);
		expect((await http("GET", `/api/tenants/${tenantId}/invitations`, { token: member.accessToken })).status).toBe(403);
		expect((await http("GET", `/api/tenants/${tenantId}/invitations?status=accepted`, { token: admin.accessToken })).status).toBe(422);

		expect((await http("DELETE", `/api/tenants/${tenantId}/invitations/${first.body.id}`, { token: member.accessToken })).status).toBe(403);
		expect((await http("DELETE", `/api/tenants/${tenantId}/invitations/${first.body.id}`, { token: admin.accessToken })).status).toBe(204);
		expect((await http("DELETE", `/api/tenants/${tenantId}/invitations/${first.body.id}`, { token: admin.accessToken })).status).toBe(404);
		const after = await http("GET", `/api/tenants/${tenantId}/invitations`, { token: owner.accessToken });
		expect(after.body.rows.map((r: { email: string }) => r.email)).toEqual(["ghost@t.example"]);
	});

	it("keeps an invitation for an address without an account until someone registers it; an expired one cannot be accepted", async () => {
		const sent = await invite(tenantId, owner, "newcomer@t.example", "member");
		expect(sent.status).toBe(202);
		const newcomer = await user("newcomer@t.example");
		expect((await invitationsOf(newcomer)).map(i => i.id)).toEqual([sent.body.id]);

		// it runs out (the clock is moved by ageing the stored invitation)
		const tenants = p.broker.getLocalService("tenants") as unknown as { invitations: { update(q: object, s: object): Promise<number> } };
		expect(await tenants.invitations.update({ id: sent.body.id }, { expiresAt: new Date(Date.now() - 1000).toISOString() })).toBe(1);
		expect(await invitationsOf(newcomer)).toEqual([]);
		expect((await http("POST", `/api/tenants/invitations/${sent.body.id}/accept`, { token: newcomer.accessToken })).status).toBe(404);
		expect(
			(await http("GET", `/api/tenants/${tenantId}/invitations`, { token: owner.accessToken })).body.rows.map(
				(r: { email: string }) => r.email,
			),
		).not.toContain("newcomer@t.example");
		expect((await http("GET", `/api/tenants/${tenantId}`, { token: newcomer.accessToken })).status).toBe(404);
	});

	it("adds members directly only through the internal action (seeding, other services)", async () => {
		const seeded = await user("seeded@t.example");
		const scratch = (await http("POST", "/api/tenants", { token: seeded.accessToken, body: { name: "Scratch", slug: "scratch" } })).body.id;
		expect(await p.broker.call("tenants.addMember", { id: scratch, email: "Member@T.example", role: "member" })).toMatchObject({
			tenantId: scratch,
			userId: member.user.id,
			role: "member",
		});
		await expect(p.broker.call("tenants.addMember", { id: scratch, userId: member.user.id, role: "admin" })).rejects.toMatchObject({
			code: 409,
			type: "ALREADY_MEMBER",
		});
		await expect(p.broker.call("tenants.addMember", { id: scratch, email: "nobody@t.example", role: "member" })).rejects.toMatchObject({
			code: 404,
			type: "USER_NOT_FOUND",
		});
		expect((await http("DELETE", `/api/tenants/${scratch}/members/${member.user.id}`, { token: member.accessToken })).status).toBe(204);
	});

	it("lists members with pagination", async () => {
		const page1 = await http("GET", `/api/tenants/${tenantId}/members?pageSize=2`, { token: member.accessToken });
		expect(page1.status).toBe(200);
		expect(page1.body).toMatchObject({ total: 3, page: 1, pageSize: 2, totalPages: 2 });
		expect(page1.body.rows).toHaveLength(2);
		const page2 = await http("GET", `/api/tenants/${tenantId}/members?pageSize=2&page=2`, { token: member.accessToken });
		const all = [...page1.body.rows, ...page2.body.rows].map((m: { userId: string }) => m.userId).sort();
		expect(all).toEqual([owner.user.id, admin.user.id, member.user.id].sort());
		expect((await http("GET", `/api/tenants/${tenantId}/members?pageSize=101`, { token: member.accessToken })).status).toBe(422);
	});

	it("lets owners and admins rename the tenant; a member gets 403", async () => {
		const byMember = await http("PATCH", `/api/tenants/${tenantId}`, { token: member.accessToken, body: { name: "Hijacked" } });
		expect(byMember.status).toBe(403);
		const byAdmin = await http("PATCH", `/api/tenants/${tenantId}`, {
			token: admin.accessToken,
			body: { name: "Acme Corp", createdBy: "someone" },
		});
		expect(byAdmin.status).toBe(200);
		expect(byAdmin.body).toMatchObject({ name: "Acme Corp", slug: "acme", createdBy: owner.user.id });
		expect((await http("GET", `/api/tenants/${tenantId}`, { token: member.accessToken })).body.name).toBe("Acme Corp");
	});

	it("stops a member at admin routes: 403", async () => {
		const add = await invite(tenantId, member, outsider.email, "member");
		expect(add.status).toBe(403);
		const promote = await http("PATCH", `/api/tenants/${tenantId}/members/${member.user.id}`, {
			token: member.accessToken,
			body: { role: "admin" },
		});
		expect(promote.status).toBe(403);
		const remove = await http("DELETE", `/api/tenants/${tenantId}/members/${admin.user.id}`, { token: member.accessToken });
		expect(remove.status).toBe(403);
	});

	it("keeps admins away from owners: they cannot add, promote to, demote or remove owners", async () => {
		const addOwner = await invite(tenantId, admin, outsider.email, "owner");
		expect(addOwner.status).toBe(403);
		const promote = await http("PATCH", `/api/tenants/${tenantId}/members/${member.user.id}`, {
			token: admin.accessToken,
			body: { role: "owner" },
		});
		expect(promote.status).toBe(403);
		const demote = await http("PATCH", `/api/tenants/${tenantId}/members/${owner.user.id}`, {
			token: admin.accessToken,
			body: { role: "member" },
		});
		expect(demote.status).toBe(403);
		const remove = await http("DELETE", `/api/tenants/${tenantId}/members/${owner.user.id}`, { token: admin.accessToken });
		expect(remove.status).toBe(403);
		// but they manage members
		const up = await http("PATCH", `/api/tenants/${tenantId}/members/${member.user.id}`, { token: admin.accessToken, body: { role: "admin" } });
		expect(up.status).toBe(200);
		expect(up.body.role).toBe("admin");
		const down = await http("PATCH", `/api/tenants/${tenantId}/members/${member.user.id}`, {
			token: admin.accessToken,
			body: { role: "member" },
		});
		expect(down.body.role).toBe("member");
		await waitFor(() => events.some(e => e.name === "tenants.memberRoleChanged" && e.payload.userId === member.user.id), {
			what: "memberRoleChanged",
		});
	});

	it("never removes or demotes the last owner: 409 LAST_OWNER", async () => {
		const demote = await http("PATCH", `/api/tenants/${tenantId}/members/${owner.user.id}`, {
			token: owner.accessToken,
			body: { role: "admin" },
		});
		expect(demote.status).toBe(409);
		expect(demote.body.code).toBe("LAST_OWNER");
		const leave = await http("DELETE", `/api/tenants/${tenantId}/members/${owner.user.id}`, { token: owner.accessToken });
		expect(leave.status).toBe(409);
		expect(leave.body.code).toBe("LAST_OWNER");
		// with a second owner, the first may step down
		expect(
			(await http("PATCH", `/api/tenants/${tenantId}/members/${admin.user.id}`, { token: owner.accessToken, body: { role: "owner" } })).status,
		).toBe(200);
		const stepDown = await http("PATCH", `/api/tenants/${tenantId}/members/${owner.user.id}`, {
			token: owner.accessToken,
			body: { role: "admin" },
		});
		expect(stepDown.status).toBe(200);
		// and the remaining owner is now the last one
		const last = await http("DELETE", `/api/tenants/${tenantId}/members/${admin.user.id}`, { token: admin.accessToken });
		expect(last.body.code).toBe("LAST_OWNER");
	});

	it("never leaves a tenant without owners, even when both owners leave at once", async () => {
		const t = await http("POST", "/api/tenants", { token: outsider.accessToken, body: { name: "Duo", slug: "duo-owners" } });
		const duo = t.body.id;
		await join(duo, outsider, member, "owner");
		const results = await Promise.all([
			http("DELETE", `/api/tenants/${duo}/members/${member.user.id}`, { token: member.accessToken }),
			http("DELETE", `/api/tenants/${duo}/members/${outsider.user.id}`, { token: outsider.accessToken }),
		]);
		expect(results.map(r => r.status).sort()).toEqual([204, 409]);
		expect(results.find(r => r.status === 409)!.body.code).toBe("LAST_OWNER");
		const stayed = results[0].status === 409 ? member : outsider;
		const members = await http("GET", `/api/tenants/${duo}/members`, { token: stayed.accessToken });
		expect(members.body.rows).toEqual([expect.objectContaining({ userId: stayed.user.id, role: "owner" })]);
		// put the outsider back for the next test
		if (stayed !== outsider) await join(duo, member, outsider, "owner");
	});

	it("answers a non-member exactly as for a tenant that does not exist: 404", async () => {
		// the outsider holds a token scoped to their own tenant ("duo-owners")
		const own = (await http("GET", "/api/tenants", { token: outsider.accessToken })).body.rows[0].id;
		const scoped = await http("POST", "/api/auth/switch-tenant", { token: outsider.accessToken, body: { tenantId: own } });
		expect(scoped.status).toBe(200);
		const token = scoped.body.accessToken;
		const foreign = await http("GET", `/api/tenants/${tenantId}`, { token });
		const missing = await http("GET", "/api/tenants/0000000000000000000x", { token });
		expect(foreign.status).toBe(404);
		expect(strip(foreign.body)).toEqual({ ...strip(missing.body), instance: undefined });
		expect(foreign.body.code).toBe("NOT_FOUND");
		for (const [method, path, body] of [
			["GET", `/api/tenants/${tenantId}/members`],
			["PATCH", `/api/tenants/${tenantId}`, { name: "Mine now" }],
			["POST", `/api/tenants/${tenantId}/invitations`, { email: outsider.email, role: "member" }],
			["GET", `/api/tenants/${tenantId}/invitations`],
			["DELETE", `/api/tenants/${tenantId}/members/${member.user.id}`],
		] as [string, string, unknown?][]) {
			const res = await http(method, path, { token, body });
			expect(res.status).toBe(404);
		}
	});

	it("lets a member leave, and an admin remove a member: 204", async () => {
		const leave = await http("DELETE", `/api/tenants/${tenantId}/members/${member.user.id}`, { token: member.accessToken });
		expect(leave.status).toBe(204);
		expect((await http("GET", `/api/tenants/${tenantId}`, { token: member.accessToken })).status).toBe(404);
		await join(tenantId, owner, member, "member");
		const removed = await http("DELETE", `/api/tenants/${tenantId}/members/${member.user.id}`, { token: owner.accessToken });
		expect(removed.status).toBe(204);
		const gone = await http("DELETE", `/api/tenants/${tenantId}/members/${member.user.id}`, { token: owner.accessToken });
		expect(gone.status).toBe(404);
		await waitFor(() => events.some(e => e.name === "tenants.memberRemoved" && e.payload.userId === member.user.id), { what: "memberRemoved" });
	});

	it("shows my memberships on /api/auth/me", async () => {
		const me = await http("GET", "/api/auth/me", { token: owner.accessToken });
		expect(me.body.memberships).toEqual([expect.objectContaining({ tenantId, role: "admin", slug: "acme", name: "Acme Corp" })]);
	});

	it("never puts a hash in a response", () => {
		for (const r of p.responses) expect(JSON.stringify(r.body)).not.toMatch(/passwordHash|tokenHash|scrypt\$|_key_/);
	});
});
