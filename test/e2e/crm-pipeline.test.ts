import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

describe("crm: pipeline report over HTTP (the whole crm domain in one platform)", () => {
	let p: Platform;
	let admin: string, member: string, otherAdmin: string;

	beforeAll(async () => {
		p = await startPlatform({ services: ["crm"] }); // the domain folder: every crm service
		admin = p.token({ sub: "boss", tid: "tenant-pl", roles: ["admin"] });
		member = p.token({ sub: "rep-1", tid: "tenant-pl", roles: ["member"] });
		otherAdmin = p.token({ sub: "boss-2", tid: "tenant-pl-2", roles: ["admin"] });
	});
	afterAll(() => p.stop());

	const lead = async (body: Record<string, unknown>) => (await p.http("POST", "/api/leads", { token: member, body })).body;
	const move = async (id: string, ...statuses: string[]) => {
		for (const status of statuses) expect((await p.http("PATCH", `/api/leads/${id}`, { token: member, body: { status } })).status).toBe(200);
	};

	it("aggregates the tenant's leads, workload and commissions; other tenants see nothing of it", async () => {
		const plan = await p.http("POST", "/api/commission/plans", {
			token: admin,
			body: { name: "5%", type: "percentage", currency: "EUR", rateBps: 500, effectiveFrom: "2020-01-01" },
		});
		await p.http("POST", `/api/commission/plans/${plan.body.id}/members`, { token: admin, body: { userId: "rep-1" } });
		await p.http("PUT", "/api/assignment/agents/rep-1", { token: admin, body: { capacity: 7 } });
		await p.http("POST", "/api/assignment/rules", {
			token: admin,
			body: { name: "all to rep-1", strategy: "fixed", fixedUserId: "rep-1", conditions: { sources: ["ads"] } },
		});

		const a = await lead({ name: "A", source: "ads", value: { amount: 10_000, currency: "EUR" } });
		const b = await lead({ name: "B", source: "ads", value: { amount: 30_000, currency: "EUR" } });
		const c = await lead({ name: "C", source: "ads" });
		await lead({ name: "D", source: "seo" });
		for (const l of [a, b, c])
			await waitFor(async () => (await p.http("GET", `/api/leads/${l.id}`, { token: member })).body.assignedTo === "rep-1");
		await move(a.id, "contacted", "qualified", "won");
		await move(b.id, "contacted", "qualified", "won");
		await move(c.id, "lost");
		const statement = () => p.http("GET", `/api/commission/statements?period=${new Date().toISOString().slice(0, 7)}`, { token: member });
		await waitFor(async () => (await statement()).body.rows.length === 2, { what: "two commissions" });

		const res = (await waitFor(async () => {
			const r = await p.http("GET", "/api/crm/pipeline", { token: admin });
			return r.body.byStatus?.won === 2 ? r : undefined;
		}))!;
		expect(res.status).toBe(200);
		const month = new Date().toISOString().slice(0, 7);
		expect(res.body).toMatchObject({
			total: 4,
			byStatus: { new: 1, contacted: 0, qualified: 0, won: 2, lost: 1 },
			bySource: { ads: 3, seo: 1 },
			conversion: { winRate: 2 / 3, overall: 0.5 },
			averageTimeToWinHours: expect.any(Number),
			valueWonByMonth: [{ month, totals: [{ currency: "EUR", amount: 40_000 }] }],
			unavailable: [],
		});
		expect(res.body.agents).toEqual([
			{
				userId: "rep-1",
				openLeads: 0,
				won: 2,
				lost: 1,
				capacity: 7,
				assignedToday: 3,
				assignedThisWeek: 3,
				commissions: [{ currency: "EUR", amount: 2_000, count: 2 }],
			},
		]);

		expect((await p.http("GET", "/api/crm/pipeline", { token: member })).status).toBe(403);
		const other = await p.http("GET", "/api/crm/pipeline", { token: otherAdmin });
		expect(other.body).toMatchObject({ total: 0, agents: [], valueWonByMonth: [], conversion: { winRate: null, overall: null } });
	});

	it("publishes every crm route in the OpenAPI document", async () => {
		const doc = await p.http("GET", "/openapi.json");
		expect(doc.status).toBe(200);
		const paths = Object.keys(doc.body.paths);
		for (const prefix of [
			"/api/leads",
			"/api/public/leads/",
			"/api/leads/ingest-keys",
			"/api/leads/settings",
			"/api/assignment/rules",
			"/api/assignment/agents/",
			"/api/commission/plans",
			"/api/commission/statements",
			"/api/commission/payouts",
			"/api/crm/pipeline",
		])
			expect(paths.some(x => x.startsWith(prefix))).toBe(true);
	});
});
