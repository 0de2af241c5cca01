import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

/** Each test uses its own tenant, so rules of one test never match another's leads. */
describe("crm: assignment over HTTP", () => {
	let p: Platform;
	let n = 0;
	const tenant = () => {
		const tid = `tenant-as-${++n}`;
		return {
			tid,
			member: p.token({ sub: `agent-${n}`, tid, roles: ["member"] }),
			admin: p.token({ sub: `admin-${n}`, tid, roles: ["admin"] }),
		};
	};

	beforeAll(async () => {
		p = await startPlatform({ services: ["leads", "activities", "assignment", "agents"] });
	});
	afterAll(() => p.stop());

	const createLead = async (token: string, body: Record<string, unknown>) => {
		const res = await p.http("POST", "/api/leads", { token, body });
		expect(res.status).toBe(201);
		return res.body;
	};
	const assignedTo = (token: string, id: string) =>
		waitFor(
			async () => {
				const res = await p.http("GET", `/api/leads/${id}`, { token });
				return res.body.assignedTo;
			},
			{ what: `lead ${id} assigned` },
		);
	const rule = async (token: string, body: Record<string, unknown>) => {
		const res = await p.http("POST", "/api/assignment/rules", { token, body });
		expect(res.status).toBe(201);
		return res.body;
	};

	it("rules CRUD: admin only, validated, ordered by priority, tenant-scoped (404 across tenants)", async () => {
		const a = tenant();
		const b = tenant();
		expect(
			(await p.http("POST", "/api/assignment/rules", { token: a.member, body: { name: "x", strategy: "fixed", fixedUserId: "u" } })).status,
		).toBe(403);
		const bad = await p.http("POST", "/api/assignment/rules", { token: a.admin, body: { name: "x", strategy: "round-robin", pool: [] } });
		expect(bad.status).toBe(422);
		expect(bad.body.errors[0].field).toBe("pool");
		expect((await p.http("POST", "/api/assignment/rules", { token: a.admin, body: { name: "x", strategy: "fixed" } })).status).toBe(422);
		expect(
			(
				await p.http("POST", "/api/assignment/rules", {
					token: a.admin,
					body: { name: "x", strategy: "fixed", fixedUserId: "u", conditions: { value: { currency: "EUR", min: 10, max: 5 } } },
				})
			).status,
		).toBe(422);

		const low = await rule(a.admin, { name: "Later", priority: 50, strategy: "fixed", fixedUserId: "u2", tenantId: b.tid });
		const high = await rule(a.admin, {
			name: "First",
			priority: 10,
			strategy: "round-robin",
			pool: ["u1", "u3"],
			conditions: { sources: ["ads"], countries: ["FR"] },
		});
		const list = await p.http("GET", "/api/assignment/rules", { token: a.admin });
		expect(list.body.rows.map((r: any) => r.id)).toEqual([high.id, low.id]);
		expect(list.body.total).toBe(2);
		expect((await p.http("GET", "/api/assignment/rules", { token: b.admin })).body.total).toBe(0);

		const patched = await p.http("PATCH", `/api/assignment/rules/${low.id}`, { token: a.admin, body: { priority: 1, enabled: false } });
		expect(patched.body).toMatchObject({ priority: 1, enabled: false });
		expect((await p.http("PATCH", `/api/assignment/rules/${low.id}`, { token: a.admin, body: { strategy: "least-loaded" } })).status).toBe(422);
		for (const [method, path] of [
			["GET", `/api/assignment/rules/${low.id}`],
			["PATCH", `/api/assignment/rules/${low.id}`],
			["DELETE", `/api/assignment/rules/${low.id}`],
		]) {
			const foreign = await p.http(method, path, { token: b.admin, body: method === "PATCH" ? { name: "stolen" } : undefined });
			const random = await p.http(method, path.replace(low.id, "nope0000000000000000"), {
				token: b.admin,
				body: method === "PATCH" ? { name: "stolen" } : undefined,
			});
			expect(foreign.status).toBe(404);
			expect(random.status).toBe(404);
			expect(foreign.body.code).toBe(random.body.code);
		}
		expect((await p.http("DELETE", `/api/assignment/rules/${low.id}`, { token: a.admin })).status).toBe(204);
		expect((await p.http("GET", `/api/assignment/rules/${low.id}`, { token: a.admin })).status).toBe(404);
	});

	it("the first enabled matching rule by priority wins; conditions on source, country, value and custom fields", async () => {
		const a = tenant();
		await rule(a.admin, { name: "disabled", priority: 1, enabled: false, strategy: "fixed", fixedUserId: "never" });
		await rule(a.admin, {
			name: "big EUR",
			priority: 5,
			strategy: "fixed",
			fixedUserId: "closer",
			conditions: { value: { currency: "EUR", min: 1_000_000 } },
		});
		await rule(a.admin, {
			name: "FR ads",
			priority: 10,
			strategy: "fixed",
			fixedUserId: "french",
			conditions: { sources: ["ads", "seo"], countries: ["FR", "BE"] },
		});
		await rule(a.admin, {
			name: "vip",
			priority: 20,
			strategy: "fixed",
			fixedUserId: "vip-desk",
			conditions: { customFields: [{ key: "vip", equals: true }] },
		});

		const big = await createLead(a.member, { name: "Big", value: { amount: 1_000_000, currency: "EUR" }, source: "ads", country: "FR" });
		const bigUsd = await createLead(a.member, { name: "Big USD", value: { amount: 5_000_000, currency: "USD" }, source: "ads", country: "FR" });
		const vip = await createLead(a.member, { name: "VIP", source: "ads", country: "DE", customFields: { vip: true } });
		const notVip = await createLead(a.member, { name: "Not VIP", source: "ads", country: "DE", customFields: { vip: "true" } });
		expect(await assignedTo(a.member, big.id)).toBe("closer");
		expect(await assignedTo(a.member, bigUsd.id)).toBe("french");
		expect(await assignedTo(a.member, vip.id)).toBe("vip-desk");

		// no rule matched: the lead waits in the unassigned queue (and only in its tenant's)
		const queue = await waitFor(async () => {
			const res = await p.http("GET", "/api/assignment/unassigned", { token: a.member });
			return res.body.rows?.some((r: any) => r.id === notVip.id) && res;
		});
		expect(queue.body.rows.map((r: any) => r.id)).toEqual([notVip.id]);
		expect((await p.http("GET", "/api/assignment/unassigned", { token: tenant().member })).body.total).toBe(0);
		const timeline = await p.http("GET", `/api/leads/${big.id}/activities?sort=at`, { token: a.member });
		expect(timeline.body.rows.map((x: any) => x.type)).toEqual(["created", "assigned"]);
	});

	it("round-robin takes turns over the pool", async () => {
		const a = tenant();
		await rule(a.admin, { name: "rr", strategy: "round-robin", pool: ["r1", "r2", "r3"] });
		const ids: string[] = [];
		for (let i = 0; i < 6; i++) ids.push((await createLead(a.member, { name: `rr ${i}` })).id);
		const owners = [];
		for (const id of ids) owners.push(await assignedTo(a.member, id));
		const counts = owners.reduce<Record<string, number>>((acc, o) => ({ ...acc, [o]: (acc[o] ?? 0) + 1 }), {});
		expect(counts).toEqual({ r1: 2, r2: 2, r3: 2 });
	});

	it("least-loaded follows open leads vs capacity, skips full agents; capacity and workload endpoints", async () => {
		const a = tenant();
		const b = tenant();
		expect((await p.http("PUT", "/api/assignment/agents/ll1", { token: a.member, body: { capacity: 1 } })).status).toBe(403);
		expect((await p.http("PUT", "/api/assignment/agents/ll1", { token: a.admin, body: { capacity: 1 } })).body).toMatchObject({
			userId: "ll1",
			capacity: 1,
		});
		expect((await p.http("PUT", "/api/assignment/agents/ll2", { token: a.admin, body: { capacity: 2 } })).status).toBe(200);
		expect((await p.http("PUT", "/api/assignment/agents/ll2", { token: a.admin, body: { capacity: 2 } })).status).toBe(200);
		await rule(a.admin, { name: "ll", strategy: "least-loaded", pool: ["ll1", "ll2"] });

		const first = await createLead(a.member, { name: "ll 1" });
		expect(await assignedTo(a.member, first.id)).toBe("ll1"); // both empty: pool order
		const second = await createLead(a.member, { name: "ll 2" });
		expect(await assignedTo(a.member, second.id)).toBe("ll2"); // ll1 is full (1/1)
		const third = await createLead(a.member, { name: "ll 3" });
		expect(await assignedTo(a.member, third.id)).toBe("ll2"); // 1/2 < full
		const fourth = await createLead(a.member, { name: "ll 4" });
		// everybody full: stays unassigned
		await waitFor(async () =>
			(await p.http("GET", "/api/assignment/unassigned", { token: a.member })).body.rows.some((r: any) => r.id === fourth.id),
		);
		// closing a lead frees room
		await p.http("PATCH", `/api/leads/${first.id}`, { token: a.member, body: { status: "lost" } });
		const fifth = await createLead(a.member, { name: "ll 5" });
		expect(await assignedTo(a.member, fifth.id)).toBe("ll1");

		const workload = await p.http("GET", "/api/assignment/workload", { token: a.admin });
		expect(workload.status).toBe(200);
		const byUser = Object.fromEntries(workload.body.rows.map((r: any) => [r.userId, r]));
		expect(byUser.ll1).toMatchObject({ openLeads: 1, capacity: 1, assignedToday: 2, assignedThisWeek: 2 });
		expect(byUser.ll2).toMatchObject({ openLeads: 2, capacity: 2, assignedToday: 2, assignedThisWeek: 2 });
		expect((await p.http("GET", "/api/assignment/workload", { token: a.member })).status).toBe(403);
		expect((await p.http("GET", "/api/assignment/workload", { token: b.admin })).body.rows).toEqual([]);
		// tenant B setting a capacity for the same user id does not touch tenant A's
		expect((await p.http("PUT", "/api/assignment/agents/ll1", { token: b.admin, body: { capacity: 99 } })).status).toBe(200);
		expect((await p.http("GET", "/api/assignment/agents", { token: a.admin })).body.rows.find((r: any) => r.userId === "ll1").capacity).toBe(1);
		expect((await p.http("GET", "/api/assignment/agents", { token: b.admin })).body.rows.map((r: any) => r.userId)).toEqual(["ll1"]);
	});

	it("a manual assignment made first is kept; a redelivered leads.created assigns once (idempotent per event)", async () => {
		const a = tenant();
		await rule(a.admin, { name: "rr", strategy: "round-robin", pool: ["d1", "d2"] });
		const lead = await createLead(a.member, { name: "dup" });
		const owner = await assignedTo(a.member, lead.id);
		const full = await p.broker.call("leads.getLead", { id: lead.id }, { meta: { user: { id: "system", tenantId: a.tid, roles: ["owner"] } } });
		// the same event, delivered again (twice, concurrently)
		const event = { ...(full as object), tenantId: a.tid, actorId: "x", eventId: "evt-dup-1", at: new Date().toISOString() };
		const before = (await p.broker.call("assignment.stats")) as { handled: number; skipped: number };
		const broker = p.broker as unknown as { sendToChannel(name: string, payload: unknown): Promise<void> };
		await Promise.all([broker.sendToChannel("leads.created", event), broker.sendToChannel("leads.created", event)]);
		const after = await waitFor(async () => {
			const s = (await p.broker.call("assignment.stats")) as { handled: number; skipped: number };
			return s.handled >= before.handled + 2 ? s : undefined;
		});
		expect(after!.skipped).toBe(before.skipped + 2);
		// and the assign call itself, replayed with the original event id, is a no-op
		const meta = { meta: { user: { id: "system", tenantId: a.tid, roles: ["owner"] } } };
		const timeline = await p.http("GET", `/api/leads/${lead.id}/activities`, { token: a.member });
		const assignedEvents = timeline.body.rows.filter((x: any) => x.type === "assigned");
		expect(assignedEvents).toHaveLength(1);
		const again = (await p.broker.call(
			"leads.assign",
			{ id: lead.id, userId: owner === "d1" ? "d2" : "d1", eventId: "evt-other", onlyIfUnassigned: true },
			meta,
		)) as any;
		expect(again.changed).toBe(false);
		expect((await p.http("GET", `/api/leads/${lead.id}`, { token: a.member })).body.assignedTo).toBe(owner);

		// leads.assign replayed with the same event id: the second call changes nothing
		const other = tenant();
		const fresh = await createLead(other.member, { name: "replayed" });
		const sys = { meta: { user: { id: "system", tenantId: other.tid, roles: ["owner"] } } };
		const once = (await p.broker.call("leads.assign", { id: fresh.id, userId: "z1", eventId: "evt-z", onlyIfUnassigned: false }, sys)) as any;
		const twice = (await p.broker.call("leads.assign", { id: fresh.id, userId: "z1", eventId: "evt-z", onlyIfUnassigned: false }, sys)) as any;
		expect([once.changed, twice.changed]).toEqual([true, false]);
		const freshTl = await p.http("GET", `/api/leads/${fresh.id}/activities`, { token: other.member });
		expect(freshTl.body.rows.filter((x: any) => x.type === "assigned")).toHaveLength(1);

		const manual = await p.http("POST", "/api/leads", { token: a.admin, body: { name: "manual" } });
		await p.http("POST", `/api/leads/${manual.body.id}/assign`, { token: a.admin, body: { userId: "boss" } });
		// whichever ran first, the lead ends up with exactly one owner and the timeline agrees with it
		const final = await waitFor(async () => {
			const tl = await p.http("GET", `/api/leads/${manual.body.id}/activities`, { token: a.member });
			return tl.body.rows.filter((x: any) => x.type === "assigned").length >= 1 && tl;
		});
		expect(final).toBeTruthy();
	});
});
