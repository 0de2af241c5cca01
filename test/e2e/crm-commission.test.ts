import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

type Stats = { handled: number; created: number; duplicate: number; skipped: number };

describe("crm: commission over HTTP", () => {
	let p: Platform;
	let adminA: string, adminB: string, c1: string, c2: string, memberB: string;
	const tid = "tenant-cm-a";
	const period = () => new Date().toISOString().slice(0, 7);

	beforeAll(async () => {
		p = await startPlatform({ services: ["leads", "activities", "commission", "calculations", "payouts"] });
		adminA = p.token({ sub: "admin-cm", tid, roles: ["admin"] });
		adminB = p.token({ sub: "admin-cmb", tid: "tenant-cm-b", roles: ["admin"] });
		memberB = p.token({ sub: "agent-cmb", tid: "tenant-cm-b", roles: ["member"] });
		c1 = p.token({ sub: "agent-c1", tid, roles: ["member"] });
		c2 = p.token({ sub: "agent-c2", tid, roles: ["member"] });
	});
	afterAll(() => p.stop());

	const stats = async () => (await p.broker.call("calculations.stats")) as Stats;
	const handledAtLeast = (n: number) =>
		waitFor(async () => ((await stats()).handled >= n ? stats() : undefined), { what: `${n} commission events handled` });
	const send = (channel: string, payload: unknown) =>
		(p.broker as unknown as { sendToChannel(c: string, x: unknown): Promise<void> }).sendToChannel(channel, payload);

	const plan = async (body: Record<string, unknown>) => {
		const res = await p.http("POST", "/api/commission/plans", { token: adminA, body });
		expect(res.status).toBe(201);
		return res.body;
	};
	const wonLead = async (owner: string, value: { amount: number; currency: string } | undefined, statusToken = c1) => {
		const lead = (await p.http("POST", "/api/leads", { token: statusToken, body: { name: "Deal", ...(value ? { value } : {}) } })).body;
		await p.http("POST", `/api/leads/${lead.id}/assign`, { token: adminA, body: { userId: owner } });
		for (const status of ["contacted", "qualified", "won"])
			expect((await p.http("PATCH", `/api/leads/${lead.id}`, { token: statusToken, body: { status } })).status).toBe(200);
		return lead;
	};
	const statement = (token: string, query = "") => p.http("GET", `/api/commission/statements?period=${period()}${query}`, { token });

	it("plans CRUD: admin only, validated, tenant-scoped", async () => {
		expect(
			(
				await p.http("POST", "/api/commission/plans", {
					token: c1,
					body: { name: "x", type: "flat", currency: "EUR", amount: 1, effectiveFrom: "2020-01-01" },
				})
			).status,
		).toBe(403);
		for (const body of [
			{ name: "x", type: "flat", currency: "EUR", effectiveFrom: "2020-01-01" },
			{ name: "x", type: "flat", currency: "EUR", amount: 10.5, effectiveFrom: "2020-01-01" },
			{ name: "x", type: "percentage", currency: "EUR", rateBps: 10_001, effectiveFrom: "2020-01-01" },
			{ name: "x", type: "tiered", currency: "EUR", tiers: [], effectiveFrom: "2020-01-01" },
			{
				name: "x",
				type: "tiered",
				currency: "EUR",
				tiers: [
					{ upTo: null, rateBps: 1 },
					{ upTo: null, rateBps: 2 },
				],
				effectiveFrom: "2020-01-01",
			},
			{ name: "x", type: "flat", currency: "euro", amount: 1, effectiveFrom: "2020-01-01" },
			{ name: "x", type: "flat", currency: "EUR", amount: 1, effectiveFrom: "2021-01-01", effectiveTo: "2020-01-01" },
		]) {
			const res = await p.http("POST", "/api/commission/plans", { token: adminA, body });
			expect(res.status).toBe(422);
		}
		const temp = await plan({ name: "Temp", type: "flat", currency: "EUR", amount: 100, effectiveFrom: "2020-01-01", effectiveTo: "2021-01-01" });
		expect(temp).toMatchObject({ members: [], effectiveFrom: "2020-01-01T00:00:00.000Z", effectiveTo: "2021-01-01T00:00:00.000Z" });
		for (const [method, path, body] of [
			["GET", `/api/commission/plans/${temp.id}`, undefined],
			["PATCH", `/api/commission/plans/${temp.id}`, { name: "stolen" }],
			["POST", `/api/commission/plans/${temp.id}/members`, { userId: "agent-cmb" }],
			["DELETE", `/api/commission/plans/${temp.id}/members/agent-c1`, undefined],
			["DELETE", `/api/commission/plans/${temp.id}`, undefined],
		] as const) {
			const foreign = await p.http(method, path, { token: adminB, body });
			const random = await p.http(method, path.replace(temp.id, "nope0000000000000000"), { token: adminB, body });
			expect([foreign.status, random.status]).toEqual([404, 404]);
			expect(foreign.body.detail).toBe(random.body.detail);
		}
		expect((await p.http("GET", "/api/commission/plans", { token: adminB })).body.total).toBe(0);
		expect((await p.http("PATCH", `/api/commission/plans/${temp.id}`, { token: adminA, body: { amount: 250 } })).body.amount).toBe(250);
		expect((await p.http("DELETE", `/api/commission/plans/${temp.id}`, { token: adminA })).status).toBe(204);
		expect((await p.http("GET", `/api/commission/plans/${temp.id}`, { token: adminA })).status).toBe(404);
	});

	it("a win earns under the plan in effect, exactly once under duplicate delivery; reopening reverses once", async () => {
		const pct = await plan({ name: "10 %", type: "percentage", currency: "EUR", rateBps: 1_000, effectiveFrom: "2020-01-01" });
		const future = await plan({ name: "Future", type: "flat", currency: "EUR", amount: 999_999, effectiveFrom: "2099-01-01" });
		for (const id of [pct.id, future.id]) {
			const res = await p.http("POST", `/api/commission/plans/${id}/members`, { token: adminA, body: { userId: "agent-c1" } });
			expect(res.body.members).toEqual(["agent-c1"]);
		}
		// adding twice is a no-op
		expect(
			(await p.http("POST", `/api/commission/plans/${pct.id}/members`, { token: adminA, body: { userId: "agent-c1" } })).body.members,
		).toEqual(["agent-c1"]);

		const before = await stats();
		const lead = await wonLead("agent-c1", { amount: 12_345, currency: "EUR" });
		await handledAtLeast(before.handled + 1);
		let st = await statement(c1);
		expect(st.status).toBe(200);
		expect(st.body.rows).toEqual([
			expect.objectContaining({
				leadId: lead.id,
				userId: "agent-c1",
				planId: pct.id,
				kind: "win:1",
				type: "win",
				amount: 1_235,
				currency: "EUR",
			}),
		]);

		// the same leads.won delivered twice more (concurrently): still one calculation
		const full = (await p.http("GET", `/api/leads/${lead.id}`, { token: c1 })).body;
		const event = { ...full, tenantId: tid, actorId: "agent-c1", eventId: "evt-won-dup", at: full.wonAt, cycle: 1 };
		const s1 = await stats();
		await Promise.all([send("leads.won", event), send("leads.won", event)]);
		const s2 = await handledAtLeast(s1.handled + 2);
		expect(s2!.duplicate).toBe(s1.duplicate + 2);
		st = await statement(c1);
		expect(st.body.rows).toHaveLength(1);

		// reopen: a reversal, once even if redelivered
		expect((await p.http("PATCH", `/api/leads/${lead.id}`, { token: c1, body: { status: "qualified" } })).status).toBe(200);
		await handledAtLeast(s2!.handled + 1);
		const reopened = {
			...full,
			status: "qualified",
			tenantId: tid,
			actorId: "agent-c1",
			eventId: "evt-reopen-dup",
			at: new Date().toISOString(),
			cycle: 1,
			reopenedFrom: "won",
		};
		await send("leads.reopened", reopened);
		await handledAtLeast(s2!.handled + 2);
		st = await statement(c1);
		expect(st.body.rows.map((r: any) => [r.kind, r.amount])).toEqual([
			["win:1", 1_235],
			["reversal:1", -1_235],
		]);
		expect(st.body.totals).toEqual([{ userId: "agent-c1", currency: "EUR", amount: 0, count: 2 }]);

		// won again: a second win is a new cycle
		const s3 = await stats();
		expect((await p.http("PATCH", `/api/leads/${lead.id}`, { token: c1, body: { status: "won" } })).status).toBe(200);
		await handledAtLeast(s3.handled + 1);
		st = await statement(c1);
		expect(st.body.totals).toEqual([{ userId: "agent-c1", currency: "EUR", amount: 1_235, count: 3 }]);
	});

	it("currency mismatch, no plan and tiered boundaries", async () => {
		const tiered = await plan({
			name: "Tiered USD",
			type: "tiered",
			currency: "USD",
			effectiveFrom: "2020-01-01",
			tiers: [
				{ upTo: 100_000, rateBps: 500 },
				{ upTo: null, rateBps: 1_000 },
			],
		});
		await p.http("POST", `/api/commission/plans/${tiered.id}/members`, { token: adminA, body: { userId: "agent-c2" } });
		const s0 = await stats();
		await wonLead("agent-c2", { amount: 100_005, currency: "USD" }, c2); // 5,000 + 0.5 → 5,001
		await wonLead("agent-c2", { amount: 50_000, currency: "EUR" }, c2); // mismatch: nothing
		await wonLead("agent-nobody", { amount: 50_000, currency: "USD" }, c2); // no plan: nothing
		const s1 = await handledAtLeast(s0.handled + 3);
		expect(s1!.skipped).toBe(s0.skipped + 2);
		const st = await statement(c2);
		expect(st.body.rows.map((r: any) => r.amount)).toEqual([5_001]);
	});

	it("statements: members see their own (403 for others), admins any member or the whole tenant, tenants apart", async () => {
		expect((await statement(c1, "&userId=agent-c2")).status).toBe(403);
		const mine = await statement(c2);
		expect(mine.body.rows.every((r: any) => r.userId === "agent-c2")).toBe(true);
		const one = await statement(adminA, "&userId=agent-c1");
		expect(one.body.rows.every((r: any) => r.userId === "agent-c1")).toBe(true);
		const all = await statement(adminA);
		expect(all.body.totals.map((t: any) => t.userId)).toEqual(["agent-c1", "agent-c2"]);
		expect((await statement(adminB)).body.rows).toEqual([]);
		expect((await p.http("GET", "/api/commission/statements?period=2026-13", { token: c1 })).status).toBe(422);
	});

	it("payouts: exact totals, one per member and period, pending → approved → paid, immutable once approved", async () => {
		const create = await p.http("POST", "/api/commission/payouts", { token: adminA, body: { userId: "agent-c1", period: period() } });
		expect(create.status).toBe(201);
		expect(create.body).toMatchObject({ status: "pending", totals: [{ currency: "EUR", amount: 1_235 }], count: 3 });
		const id = create.body.id;
		expect((await p.http("POST", "/api/commission/payouts", { token: adminA, body: { userId: "agent-c1", period: period() } })).status).toBe(409);
		expect((await p.http("POST", "/api/commission/payouts", { token: c1, body: { userId: "agent-c1", period: period() } })).status).toBe(403);

		expect((await p.http("GET", `/api/commission/payouts/${id}`, { token: c1 })).status).toBe(200);
		expect((await p.http("GET", `/api/commission/payouts/${id}`, { token: c2 })).status).toBe(404);
		expect((await p.http("GET", "/api/commission/payouts", { token: c2 })).body.total).toBe(0);
		expect((await p.http("GET", "/api/commission/payouts", { token: c1 })).body.total).toBe(1);
		for (const [method, path] of [
			["GET", `/api/commission/payouts/${id}`],
			["POST", `/api/commission/payouts/${id}/approve`],
			["POST", `/api/commission/payouts/${id}/pay`],
			["DELETE", `/api/commission/payouts/${id}`],
		] as const) {
			const foreign = await p.http(method, path, { token: adminB });
			const random = await p.http(method, path.replace(id, "nope0000000000000000"), { token: adminB });
			expect([foreign.status, random.status]).toEqual([404, 404]);
		}
		expect((await p.http("GET", "/api/commission/payouts", { token: memberB })).body.total).toBe(0);

		const early = await p.http("POST", `/api/commission/payouts/${id}/pay`, { token: adminA });
		expect(early.status).toBe(409);
		expect(early.body.code).toBe("INVALID_TRANSITION");
		expect((await p.http("POST", `/api/commission/payouts/${id}/approve`, { token: c1 })).status).toBe(403);
		const approvals = await Promise.all([1, 2].map(() => p.http("POST", `/api/commission/payouts/${id}/approve`, { token: adminA })));
		expect(approvals.map(r => r.status).sort()).toEqual([200, 409]);
		const again = await p.http("POST", `/api/commission/payouts/${id}/approve`, { token: adminA });
		expect(again.body.code).toBe("PAYOUT_IMMUTABLE");
		expect((await p.http("DELETE", `/api/commission/payouts/${id}`, { token: adminA })).status).toBe(409);
		const paid = await p.http("POST", `/api/commission/payouts/${id}/pay`, { token: adminA });
		expect(paid.body).toMatchObject({ status: "paid", approvedBy: "admin-cm", paidBy: "admin-cm", totals: [{ currency: "EUR", amount: 1_235 }] });

		// a pending payout can be dropped and rebuilt
		const other = await p.http("POST", "/api/commission/payouts", { token: adminA, body: { userId: "agent-c2", period: period() } });
		expect(other.body.totals).toEqual([{ currency: "USD", amount: 5_001 }]);
		expect((await p.http("DELETE", `/api/commission/payouts/${other.body.id}`, { token: adminA })).status).toBe(204);
		expect((await p.http("POST", "/api/commission/payouts", { token: adminA, body: { userId: "agent-c2", period: period() } })).status).toBe(201);
	});
});
