/** CRM: assignment rules, a commission plan, leads walked through the status workflow, a few timeline entries. */
import { SeedError, waitUntil } from "./client";
import { allPages, user, type SeedContext } from "./context";
import { COMMISSION_PLAN, LEADS, OWNER, PLAN_MEMBERS, RULES, type LeadStatus } from "./data";

export const crmUnits = () => RULES.length + 1 + LEADS.length * 2 + 2;

const PATHS: Record<LeadStatus, LeadStatus[]> = {
	new: ["new"],
	contacted: ["new", "contacted"],
	qualified: ["new", "contacted", "qualified"],
	won: ["new", "contacted", "qualified", "won"],
	lost: ["new", "contacted", "lost"],
};

interface Lead {
	id: string;
	email: string;
	status: LeadStatus;
	assignedTo: string | null;
	wonAt: string | null;
}

export async function seedCrm(ctx: SeedContext): Promise<void> {
	const { api, progress, tally } = ctx;
	const admin = user(ctx, OWNER.key).token;
	const id = (key: string) => user(ctx, key).id;

	progress.begin("crm: assignment rules");
	const rules = (await api.get("/api/assignment/rules?pageSize=100", admin)).rows as { name: string }[];
	for (const r of RULES) {
		const had = rules.some(x => x.name === r.name);
		if (!had)
			await api.post("/api/assignment/rules", admin, {
				name: r.name,
				priority: r.priority,
				strategy: r.strategy,
				conditions: r.conditions,
				...(r.pool && { pool: r.pool.map(id) }),
				...(r.fixed && { fixedUserId: id(r.fixed) }),
			});
		tally.add("assignment rules", !had);
		progress.tick();
	}

	progress.begin("crm: commission plan");
	const plans = (await api.get("/api/commission/plans?pageSize=100", admin)).rows as { id: string; name: string; members: string[] }[];
	let plan = plans.find(p => p.name === COMMISSION_PLAN.name);
	tally.add("commission plans", !plan);
	plan ??= await api.post("/api/commission/plans", admin, COMMISSION_PLAN);
	for (const key of PLAN_MEMBERS)
		if (!plan!.members?.includes(id(key))) await api.post(`/api/commission/plans/${plan!.id}/members`, admin, { userId: id(key) });
	progress.tick();

	progress.begin("crm: leads");
	const existing = new Map((await allPages<Lead>(ctx, "/api/leads", admin)).map(l => [l.email, l]));
	for (const l of LEADS) {
		const had = existing.get(l.email);
		const lead: Lead =
			had ??
			(await api.post("/api/leads", admin, {
				name: l.name,
				email: l.email,
				company: l.company,
				country: l.country,
				source: l.source,
				value: { amount: l.amount, currency: "EUR" },
			}));
		tally.add("leads", !had);
		ctx.leads.set(l.email, lead.id);
		// the rules assign it through the leads.created channel; one lead at a time, so who gets it (round
		// robin, least loaded) is the same every run
		if (!had) await waitUntil(`the assignment of ${l.email}`, async () => (await api.get(`/api/leads/${lead.id}`, admin)).assignedTo, 20_000, 20);
		progress.tick();
	}

	// every owner is known before the leads move on (a run that stopped half-way may have left some waiting)
	progress.begin("crm: assignment");
	const emails = new Set(LEADS.map(l => l.email));
	const assigned = await waitUntil("the assignment rules to assign every demo lead", async () => {
		const rows = (await allPages<Lead>(ctx, "/api/leads", admin)).filter(l => emails.has(l.email));
		return rows.length === LEADS.length && rows.every(l => l.assignedTo) && new Map(rows.map(l => [l.email, l]));
	});
	progress.tick();

	progress.begin("crm: pipeline");
	const tokenOf = new Map([...ctx.users.values()].map(a => [a.id, a.token]));
	let won = 0;
	for (const l of LEADS) {
		const lead = assigned.get(l.email)!;
		const token = tokenOf.get(lead.assignedTo!) ?? admin;
		const path = PATHS[l.status];
		let at = path.indexOf(lead.status);
		if (at < 0 && lead.status !== l.status)
			throw new SeedError(`lead ${l.email} is '${lead.status}', off the demo's path to '${l.status}': left as it is`);
		for (at = Math.max(at, 0); at < path.length - 1; at++) {
			await api.patch(`/api/leads/${lead.id}`, token, { status: path[at + 1] });
			tally.add("status changes", true);
		}
		if (l.status === "won") won++;
		if (l.notes) {
			const timeline = (await api.get(`/api/leads/${lead.id}/activities?pageSize=100`, token)).rows as { summary?: string }[];
			for (const n of l.notes) {
				const had = timeline.some(t => t.summary === n.summary);
				if (!had) await api.post(`/api/leads/${lead.id}/activities`, token, n);
				tally.add("lead activities", !had);
			}
		}
		progress.tick();
	}

	// each win earns its owner a commission (the leads.won channel → calculations): wait for all of them
	progress.begin("crm: commissions");
	await waitUntil("a commission for every won lead", async () => {
		const wonLeads = (await allPages<Lead>(ctx, "/api/leads?status=won", admin)).filter(l => emails.has(l.email));
		const periods = new Set(wonLeads.map(l => l.wonAt!.slice(0, 7)));
		let count = 0;
		for (const period of periods) {
			const st = await api.get(`/api/commission/statements?period=${period}`, admin);
			count += (st.totals as { count: number }[]).reduce((a, t) => a + t.count, 0);
		}
		return count >= won;
	});
	progress.tick();
}
