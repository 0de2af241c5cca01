/**
 * Cross-domain journeys: identity, social and CRM in one process behind the real gateway, driven
 * only over HTTP with real tokens from register / login / switch-tenant (no minted tokens).
 */
import { randomUUID } from "node:crypto";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const PASSWORD = "journey-horse-42";

describe("journeys across identity, social and crm", () => {
	let p: Platform;
	const tag = randomUUID().slice(0, 8);

	interface Account {
		id: string;
		email: string;
		token: string;
	}
	async function register(name: string): Promise<Account> {
		const email = `${name.toLowerCase()}-${tag}@example.com`;
		const res = await p.http("POST", "/api/auth/register", { body: { email, password: PASSWORD, name } });
		expect(res.status).toBe(201);
		const login = await p.http("POST", "/api/auth/login", { body: { email, password: PASSWORD } });
		expect(login.status).toBe(200);
		return { id: res.body.user.id, email, token: login.body.accessToken };
	}
	/** An owner invites by email; the invitee sees the invitation and accepts it (membership needs consent). */
	async function join(tenantId: string, by: Account, who: Account, role: string) {
		const invited = await p.http("POST", `/api/tenants/${tenantId}/invitations`, { token: by.token, body: { email: who.email, role } });
		expect(invited.status).toBe(202);
		const mine = await p.http("GET", "/api/tenants/invitations", { token: who.token });
		const invitation = mine.body.rows.find((i: { tenantId: string }) => i.tenantId === tenantId);
		expect(invitation).toMatchObject({ role });
		expect((await p.http("POST", `/api/tenants/invitations/${invitation.id}/accept`, { token: who.token })).status).toBe(201);
	}
	const switched = new Map<string, string>(); // access token → its refresh token
	async function switchTenant(a: Account, tenantId: string): Promise<string> {
		const res = await p.http("POST", "/api/auth/switch-tenant", { token: a.token, body: { tenantId } });
		expect(res.status).toBe(200);
		expect(res.body.tenantId).toBe(tenantId);
		switched.set(res.body.accessToken, res.body.refreshToken);
		return res.body.accessToken;
	}

	beforeAll(async () => {
		p = await startPlatform({ services: ["identity", "social", "crm"], env: { PASSWORD_SCRYPT_N: "1024" } });
	}, 30_000);
	afterAll(() => p?.stop());

	it("social network: follow, posts by visibility, likes into stats, unfollow, delete, activity", async () => {
		const alice = await register("Alice");
		const bob = await register("Bob");
		const carol = await register("Carol");

		expect((await p.http("POST", `/api/users/${alice.id}/follow`, { token: bob.token })).status).toBe(200);
		const pub = await p.http("POST", "/api/posts", { token: alice.token, body: { text: `hello world ${tag}` } });
		expect(pub.status).toBe(201);
		const priv = await p.http("POST", "/api/posts", { token: alice.token, body: { text: `friends only ${tag}`, visibility: "followers" } });
		expect(priv.status).toBe(201);

		const feedIds = async (token: string) => {
			const res = await p.http("GET", "/api/posts/feed/me", { token });
			expect(res.status).toBe(200);
			return res.body.items.map((x: any) => x.id) as string[];
		};
		await waitFor(async () => (await feedIds(bob.token)).includes(priv.body.id), { what: "the follow reached social" });
		expect(await feedIds(bob.token)).toEqual(expect.arrayContaining([pub.body.id, priv.body.id]));

		// Carol does not follow Alice: the followers-only post is invisible on every path
		expect(await feedIds(carol.token)).not.toContain(priv.body.id);
		const explore = await p.http("GET", "/api/posts/explore/all?limit=100", { token: carol.token });
		expect(explore.status).toBe(200);
		const exploreIds = explore.body.items.map((x: any) => x.id);
		expect(exploreIds).toContain(pub.body.id);
		expect(exploreIds).not.toContain(priv.body.id);
		const search = await p.http("GET", `/api/posts/search?q=${tag}`, { token: carol.token });
		expect(search.status).toBe(200);
		expect(search.body.items.map((x: any) => x.id)).toEqual([pub.body.id]);
		expect((await p.http("GET", `/api/posts/${priv.body.id}`, { token: carol.token })).status).toBe(404);
		expect((await p.http("GET", `/api/posts/${pub.body.id}`, { token: carol.token })).status).toBe(200);
		expect((await p.http("GET", `/api/posts/${priv.body.id}`, { token: bob.token })).status).toBe(200);
		const bobSearch = await p.http("GET", `/api/posts/search?q=${tag}`, { token: bob.token });
		expect(bobSearch.body.items.map((x: any) => x.id).sort()).toEqual([pub.body.id, priv.body.id].sort());

		// Bob likes: users consumes posts.* events into Alice's stats
		expect((await p.http("POST", `/api/posts/${pub.body.id}/like`, { token: bob.token })).status).toBe(200);
		const stats = await waitFor(
			async () => {
				const res = await p.http("GET", `/api/users/${alice.id}/stats`);
				return res.body.likesReceived === 1 && res.body.posts === 2 && res.body;
			},
			{ what: "alice's stats" },
		);
		expect(stats).toMatchObject({ followers: 1, following: 0, posts: 2, likesReceived: 1 });

		// Bob unfollows: the followers-only post leaves his feed and his access
		expect((await p.http("DELETE", `/api/users/${alice.id}/follow`, { token: bob.token })).status).toBe(204);
		await waitFor(async () => !(await feedIds(bob.token)).includes(priv.body.id), { what: "the unfollow reached social" });
		// (the feed holds followed authors only, so the public post leaves it too; it stays readable)
		expect((await p.http("GET", `/api/posts/${pub.body.id}`, { token: bob.token })).status).toBe(200);
		expect((await p.http("GET", `/api/posts/${priv.body.id}`, { token: bob.token })).status).toBe(404);

		expect((await p.http("GET", `/api/users/${bob.id}/stats`)).body).toMatchObject({ following: 0 });
		expect((await p.http("GET", `/api/users/${alice.id}/stats`)).body).toMatchObject({ followers: 0 });

		// Alice deletes the public post: gone everywhere, stats follow
		expect((await p.http("DELETE", `/api/posts/${pub.body.id}`, { token: alice.token })).status).toBe(204);
		expect((await p.http("GET", `/api/posts/${pub.body.id}`, { token: bob.token })).status).toBe(404);
		expect(await feedIds(bob.token)).not.toContain(pub.body.id);
		expect((await p.http("GET", "/api/posts/explore/all?limit=100")).body.items.map((x: any) => x.id)).not.toContain(pub.body.id);
		expect((await p.http("GET", `/api/posts/search?q=${tag}`, { token: carol.token })).body.items).toEqual([]);
		await waitFor(
			async () => {
				const res = await p.http("GET", `/api/users/${alice.id}/stats`);
				return res.body.posts === 1 && res.body.likesReceived === 0 && res.body;
			},
			{ what: "alice's stats after the delete" },
		);

		// Bob's activity shows his follow (and unfollow)
		const activity = await waitFor(
			async () => {
				const res = await p.http("GET", "/api/users/me/activity?pageSize=100", { token: bob.token });
				return res.body.rows?.some((r: any) => r.type === "users.unfollowed") && res.body;
			},
			{ what: "bob's follow in his activity" },
		);
		const types = activity.rows.map((r: any) => r.type);
		expect(types.filter((t: string) => t === "users.followed")).toHaveLength(1);
		expect(activity.rows.find((r: any) => r.type === "users.followed")).toMatchObject({ userId: bob.id, actorId: bob.id, subject: alice.id });
		expect(types).toEqual(expect.arrayContaining(["users.registered", "auth.loggedIn", "users.unfollowed"]));
	}, 60_000);

	it("crm: tenant, members, switch-tenant, rules, assignment, win, commission, statement, payout; a second tenant sees nothing", async () => {
		const alice = await register("Alice2");
		const bob = await register("Bob2");
		const dave = await register("Dave2");
		const eve = await register("Eve2");

		const tenant = await p.http("POST", "/api/tenants", { token: alice.token, body: { name: "Acme", slug: `acme-${tag}` } });
		expect(tenant.status).toBe(201);
		const tid = tenant.body.id;
		await join(tid, alice, bob, "member");
		await join(tid, alice, dave, "admin");
		const aliceT = await switchTenant(alice, tid);
		const bobT = await switchTenant(bob, tid);
		const daveT = await switchTenant(dave, tid);

		// a second tenant, Eve's
		const other = await p.http("POST", "/api/tenants", { token: eve.token, body: { name: "Other", slug: `other-${tag}` } });
		expect(other.status).toBe(201);
		const eveT = await switchTenant(eve, other.body.id);

		// Bob cannot switch into Eve's tenant
		expect((await p.http("POST", "/api/auth/switch-tenant", { token: bob.token, body: { tenantId: other.body.id } })).status).toBe(404);

		const rule = await p.http("POST", "/api/assignment/rules", {
			token: daveT,
			body: { name: "rr", strategy: "round-robin", pool: [bob.id, dave.id] },
		});
		expect(rule.status).toBe(201);
		const plan = await p.http("POST", "/api/commission/plans", {
			token: aliceT,
			body: { name: "10%", type: "percentage", currency: "EUR", rateBps: 1000, effectiveFrom: "2020-01-01" },
		});
		expect(plan.status).toBe(201);
		for (const userId of [bob.id, dave.id])
			expect((await p.http("POST", `/api/commission/plans/${plan.body.id}/members`, { token: aliceT, body: { userId } })).status).toBe(200);

		// assignees must be members of the tenant: Eve (another tenant's owner) and unknown ids are refused
		const notMember = async (method: string, path: string, body: unknown, field: string, outsider = eve.id) => {
			const res = await p.http(method, path, { token: aliceT, body });
			expect(res.status).toBe(422);
			expect(res.body.code).toBe("VALIDATION_ERROR");
			expect(res.body.errors).toEqual([{ field, message: expect.stringContaining(outsider) }]);
		};
		await notMember("POST", "/api/assignment/rules", { name: "bad", strategy: "round-robin", pool: [bob.id, eve.id] }, "pool");
		await notMember("POST", "/api/assignment/rules", { name: "bad", strategy: "fixed", fixedUserId: eve.id }, "fixedUserId");
		await notMember("PATCH", `/api/assignment/rules/${rule.body.id}`, { pool: [dave.id, eve.id] }, "pool");
		await notMember("POST", `/api/commission/plans/${plan.body.id}/members`, { userId: eve.id }, "userId");
		expect((await p.http("GET", "/api/assignment/rules", { token: aliceT })).body.total).toBe(1);
		expect((await p.http("GET", `/api/assignment/rules/${rule.body.id}`, { token: aliceT })).body.pool).toEqual([bob.id, dave.id]);
		expect((await p.http("GET", `/api/commission/plans/${plan.body.id}`, { token: aliceT })).body.members).toEqual([bob.id, dave.id]);

		const leads: any[] = [];
		for (let i = 0; i < 4; i++) {
			const res = await p.http("POST", "/api/leads", {
				token: aliceT,
				body: { name: `Lead ${i}`, value: { amount: 10_000 + i, currency: "EUR" } },
			});
			expect(res.status).toBe(201);
			leads.push(res.body);
		}
		const owners: string[] = [];
		for (const lead of leads)
			owners.push(
				await waitFor(async () => (await p.http("GET", `/api/leads/${lead.id}`, { token: bobT })).body.assignedTo, {
					what: `lead ${lead.id} assigned`,
				}),
			);
		expect(owners.filter(o => o === bob.id)).toHaveLength(2);
		expect(owners.filter(o => o === dave.id)).toHaveLength(2);

		// Bob, a member, sees the leads and wins one of his
		const bobList = await p.http("GET", "/api/leads?pageSize=100", { token: bobT });
		expect(bobList.status).toBe(200);
		expect(bobList.body.total).toBe(4);
		const mine = leads[owners.indexOf(bob.id)];
		for (const status of ["contacted", "qualified", "won"])
			expect((await p.http("PATCH", `/api/leads/${mine.id}`, { token: bobT, body: { status } })).status).toBe(200);

		const period = new Date().toISOString().slice(0, 7);
		const statement = await waitFor(
			async () => {
				const res = await p.http("GET", `/api/commission/statements?period=${period}`, { token: bobT });
				return res.body.rows?.length === 1 && res.body;
			},
			{ what: "bob's commission" },
		);
		expect(statement.rows[0]).toMatchObject({
			userId: bob.id,
			planId: plan.body.id,
			type: "win",
			currency: "EUR",
			amount: Math.round(mine.value.amount / 10),
		});
		expect(statement.totals).toEqual([expect.objectContaining({ userId: bob.id, currency: "EUR", amount: statement.rows[0].amount, count: 1 })]);
		// a member asking for Dave's statement: 403; the admin sees Bob's
		expect((await p.http("GET", `/api/commission/statements?period=${period}&userId=${dave.id}`, { token: bobT })).status).toBe(403);
		expect((await p.http("GET", `/api/commission/statements?period=${period}&userId=${bob.id}`, { token: daveT })).body.rows).toHaveLength(1);

		// payout lifecycle
		const payout = await p.http("POST", "/api/commission/payouts", { token: aliceT, body: { userId: bob.id, period } });
		expect(payout.status).toBe(201);
		expect(payout.body).toMatchObject({ status: "pending", totals: [{ currency: "EUR", amount: statement.rows[0].amount }] });
		expect((await p.http("POST", `/api/commission/payouts/${payout.body.id}/pay`, { token: aliceT })).status).toBe(409);
		expect((await p.http("POST", `/api/commission/payouts/${payout.body.id}/approve`, { token: daveT })).body.status).toBe("approved");
		expect((await p.http("POST", `/api/commission/payouts/${payout.body.id}/pay`, { token: aliceT })).body.status).toBe("paid");
		expect((await p.http("GET", `/api/commission/payouts/${payout.body.id}`, { token: bobT })).body.status).toBe("paid");

		// manual reassignment: to a member, yes; to a non-member, 422 and the owner stays
		const other0 = leads.find((_, i) => owners[i] === dave.id);
		await notMember("POST", `/api/leads/${other0.id}/assign`, { userId: eve.id }, "userId");
		expect((await p.http("GET", `/api/leads/${other0.id}`, { token: aliceT })).body.assignedTo).toBe(dave.id);
		const moved = await p.http("POST", `/api/leads/${other0.id}/assign`, { token: aliceT, body: { userId: bob.id } });
		expect(moved.status).toBe(200);
		expect(moved.body.assignedTo).toBe(bob.id);
		expect((await p.http("POST", `/api/leads/${other0.id}/assign`, { token: bobT, body: { userId: bob.id } })).status).toBe(403);

		// web-form capture with the ingest key in the X-Ingest-Key header (the body field still works)
		const key = await p.http("POST", "/api/leads/ingest-keys", { token: aliceT, body: { name: "site", slug: `acme-${tag}` } });
		expect(key.status).toBe(201);
		const formEmail = `form-${tag}@example.com`;
		const viaHeader = await p.http("POST", `/api/public/leads/acme-${tag}`, {
			headers: { "x-ingest-key": key.body.key },
			body: { name: "Form Lead", email: formEmail },
		});
		expect(viaHeader.status).toBe(202);
		const viaBody = await p.http("POST", `/api/public/leads/acme-${tag}`, {
			body: { ingestKey: key.body.key, name: "Form Lead", email: formEmail },
		});
		expect(viaBody.body).toEqual({ received: true, duplicate: true });
		const badHeaders: Record<string, string>[] = [
			{},
			{ "x-ingest-key": "vik_wrongwrongwrong" },
			{ "x-ingest-key": String(key.body.key).slice(0, 5) },
		];
		for (const headers of badHeaders) {
			const bad = await p.http("POST", `/api/public/leads/acme-${tag}`, { headers, body: { name: "Nope" } });
			expect(bad.status).toBe(401);
			expect(bad.body.code).toBe("INVALID_INGEST_KEY");
		}
		// Eve's key does not open Acme's form
		const eveKey = await p.http("POST", "/api/leads/ingest-keys", { token: eveT, body: { name: "eve", slug: `other-${tag}` } });
		expect(
			(await p.http("POST", `/api/public/leads/acme-${tag}`, { headers: { "x-ingest-key": eveKey.body.key }, body: { name: "Nope" } })).status,
		).toBe(401);
		const formLead = await p.http("GET", `/api/leads?q=${encodeURIComponent(formEmail)}`, { token: bobT });
		expect(formLead.body.rows).toEqual([expect.objectContaining({ source: "web-form", createdBy: "intake" })]);

		// the other tenant's admin sees none of it
		for (const path of [
			`/api/leads/${mine.id}`,
			`/api/assignment/rules/${rule.body.id}`,
			`/api/commission/plans/${plan.body.id}`,
			`/api/commission/payouts/${payout.body.id}`,
		])
			expect((await p.http("GET", path, { token: eveT })).status).toBe(404);
		expect((await p.http("GET", "/api/leads", { token: eveT })).body.total).toBe(0);
		expect((await p.http("GET", "/api/assignment/rules", { token: eveT })).body.total).toBe(0);
		expect((await p.http("GET", "/api/commission/plans", { token: eveT })).body.total).toBe(0);
		expect((await p.http("GET", "/api/commission/payouts", { token: eveT })).body.total).toBe(0);
		expect((await p.http("GET", `/api/commission/statements?period=${period}`, { token: eveT })).body.rows).toEqual([]);
		// and a token without a tenant gets no CRM at all
		expect((await p.http("GET", "/api/leads", { token: alice.token })).status).toBeGreaterThanOrEqual(400);

		// Bob leaves the tenant: his refreshed token has no tenant any more, and he can no longer be given leads
		expect((await p.http("DELETE", `/api/tenants/${tid}/members/${bob.id}`, { token: aliceT })).status).toBe(204);
		const refreshed = await p.http("POST", "/api/auth/refresh", { body: { refreshToken: switched.get(bobT) } });
		expect(refreshed.status).toBe(200);
		expect(refreshed.body).toMatchObject({ tenantId: null, roles: [] });
		expect((await p.http("GET", "/api/leads", { token: refreshed.body.accessToken })).status).toBe(403);
		await notMember("POST", `/api/leads/${mine.id}/assign`, { userId: bob.id }, "userId", bob.id);
	}, 60_000);

	// Last: it takes the tenants service away from this platform.
	it("membership checks fail closed (503) when identity's tenants service goes away after it was seen", async () => {
		const alice = await register("Alice3");
		const bob = await register("Bob3");
		const tenant = await p.http("POST", "/api/tenants", { token: alice.token, body: { name: "Gone", slug: `gone-${tag}` } });
		await join(tenant.body.id, alice, bob, "member");
		const aliceT = await switchTenant(alice, tenant.body.id);
		expect(
			(await p.http("POST", "/api/assignment/rules", { token: aliceT, body: { name: "ok", strategy: "fixed", fixedUserId: bob.id } })).status,
		).toBe(201);
		await p.broker.destroyService(p.broker.getLocalService("tenants")!);
		const res = await p.http("POST", "/api/assignment/rules", {
			token: aliceT,
			body: { name: "unchecked", strategy: "fixed", fixedUserId: "anybody" },
		});
		expect(res.status).toBe(503);
		expect(res.body.code).toBe("SERVICE_UNAVAILABLE");
		expect((await p.http("GET", "/api/assignment/rules", { token: aliceT })).body.total).toBe(1);
	}, 30_000);
});
