import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

describe("crm: leads over HTTP", () => {
	let p: Platform;
	let memberA: string, adminA: string, memberB: string, adminB: string;
	const seen: Record<string, any[]> = {};
	const recorder = {
		name: "crmrecorder",
		channels: Object.fromEntries(
			["leads.created", "leads.statusChanged", "leads.assigned", "leads.won", "leads.lost", "leads.reopened"].map(ch => [
				ch,
				{
					group: "test-recorder",
					handler(ctx: any) {
						(seen[ch] ??= []).push(ctx.params);
					},
				},
			]),
		),
	};

	beforeAll(async () => {
		p = await startPlatform({ services: ["leads", "activities", "intake"], extra: [recorder as never] });
		memberA = p.token({ sub: "agent-a1", tid: "tenant-a", roles: ["member"] });
		adminA = p.token({ sub: "admin-a", tid: "tenant-a", roles: ["admin"] });
		memberB = p.token({ sub: "agent-b1", tid: "tenant-b", roles: ["member"] });
		adminB = p.token({ sub: "admin-b", tid: "tenant-b", roles: ["admin"] });
	});
	afterAll(() => p.stop());

	const create = async (token: string, body: Record<string, unknown>) => {
		const res = await p.http("POST", "/api/leads", { token, body });
		expect(res.status).toBe(201);
		return res.body;
	};

	it("creates a lead (201) with defaults, and emits leads.created with the envelope", async () => {
		const lead = await create(memberA, {
			name: "Ada Lovelace",
			email: "Ada@Example.com",
			phone: "+44 20 7946 0000",
			company: "Analytical Engines",
			country: "GB",
			source: "referral",
			value: { amount: 125_000, currency: "EUR" },
			customFields: { plan: "gold", seats: 12, vip: true },
			tenantId: "tenant-b", // mass assignment: dropped
			status: "won", // not settable on create
		});
		expect(lead).toMatchObject({
			name: "Ada Lovelace",
			email: "ada@example.com",
			status: "new",
			assignedTo: null,
			createdBy: "agent-a1",
			value: { amount: 125_000, currency: "EUR" },
			customFields: { plan: "gold", seats: 12, vip: true },
		});
		expect(lead.id).toEqual(expect.any(String));
		expect(lead.tenantId).toBeUndefined();
		const event = await waitFor(() => seen["leads.created"]?.find(e => e.id === lead.id), { what: "leads.created" });
		expect(event).toMatchObject({
			tenantId: "tenant-a",
			actorId: "agent-a1",
			eventId: expect.any(String),
			at: expect.any(String),
			name: "Ada Lovelace",
		});
		const b = await p.http("GET", `/api/leads/${lead.id}`, { token: memberB });
		expect(b.status).toBe(404);
	});

	it("validates input: money in integer minor units + ISO currency, bounded custom fields (422)", async () => {
		for (const body of [
			{ name: "x", value: { amount: 10.5, currency: "EUR" } },
			{ name: "x", value: { amount: -1, currency: "EUR" } },
			{ name: "x", value: { amount: 100, currency: "eur" } },
			{ name: "x", country: "France" },
			{ name: "x", email: "not-an-email" },
			{ name: "x", customFields: { nested: { no: 1 } } },
			{ name: "x", customFields: Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`k${i}`, i])) },
			{ email: "a@b.co" },
		]) {
			const res = await p.http("POST", "/api/leads", { token: memberA, body });
			expect(res.status).toBe(422);
			expect(res.body.code).toBe("VALIDATION_ERROR");
		}
	});

	it("requires a token, and the admin role to delete", async () => {
		expect((await p.http("GET", "/api/leads")).status).toBe(401);
		const lead = await create(memberA, { name: "To delete" });
		expect((await p.http("DELETE", `/api/leads/${lead.id}`, { token: memberA })).status).toBe(403);
		expect((await p.http("DELETE", `/api/leads/${lead.id}`, { token: adminB })).status).toBe(404);
		expect((await p.http("DELETE", `/api/leads/${lead.id}`, { token: adminA })).status).toBe(204);
		expect((await p.http("GET", `/api/leads/${lead.id}`, { token: memberA })).status).toBe(404);
	});

	it("lists with filters, text search, date range, sort, pagination and total — tenant-scoped", async () => {
		const tag = `zz${Date.now().toString(36)}`;
		const made = [];
		for (let i = 0; i < 5; i++)
			made.push(
				await create(memberA, {
					name: `${tag} person ${i}`,
					source: i % 2 ? "ads" : "seo",
					company: i === 3 ? `${tag}-corp` : "Other",
					value: { amount: i * 100, currency: "USD" },
				}),
			);
		await create(memberB, { name: `${tag} tenant b`, source: "ads" });

		const all = await p.http("GET", `/api/leads?q=${tag}&pageSize=2&page=1&sort=name`, { token: memberA });
		expect(all.status).toBe(200);
		expect(all.body.total).toBe(5);
		expect(all.body.rows.map((r: any) => r.name)).toEqual([`${tag} person 0`, `${tag} person 1`]);
		const page3 = await p.http("GET", `/api/leads?q=${tag}&pageSize=2&page=3&sort=name`, { token: memberA });
		expect(page3.body.rows.map((r: any) => r.name)).toEqual([`${tag} person 4`]);

		const ads = await p.http("GET", `/api/leads?q=${tag}&source=ads`, { token: memberA });
		expect(ads.body.total).toBe(2);
		const byCompany = await p.http("GET", `/api/leads?q=${tag}-corp`, { token: memberA });
		expect(byCompany.body.rows.map((r: any) => r.id)).toEqual([made[3].id]);
		const byValue = await p.http("GET", `/api/leads?q=${tag}&sort=-value.amount&pageSize=1`, { token: memberA });
		expect(byValue.body.rows[0].id).toBe(made[4].id);

		const from = made[2].createdAt;
		const to = made[3].createdAt;
		const range = await p.http("GET", `/api/leads?q=${tag}&createdFrom=${encodeURIComponent(from)}&createdTo=${encodeURIComponent(to)}`, {
			token: memberA,
		});
		expect(range.body.rows.map((r: any) => r.id).sort()).toEqual([made[2].id, made[3].id].sort());

		const statusNew = await p.http("GET", `/api/leads?q=${tag}&status=new&unassigned=true`, { token: memberA });
		expect(statusNew.body.total).toBe(5);
		const regexSafe = await p.http("GET", `/api/leads?q=${encodeURIComponent(".*")}`, { token: memberA });
		expect(regexSafe.body.total).toBe(0);

		const bSide = await p.http("GET", `/api/leads?q=${tag}`, { token: memberB });
		expect(bSide.body.total).toBe(1);
		expect((await p.http("GET", "/api/leads?pageSize=101", { token: memberA })).status).toBe(422);
	});

	it("updates contact fields; cross-tenant PATCH is a 404 identical to a random id", async () => {
		const lead = await create(memberA, { name: "Grace", email: "grace@example.com" });
		const res = await p.http("PATCH", `/api/leads/${lead.id}`, {
			token: memberA,
			body: { company: "Navy", value: { amount: 5000, currency: "USD" }, createdBy: "evil", tenantId: "tenant-b" },
		});
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ company: "Navy", value: { amount: 5000, currency: "USD" }, createdBy: "agent-a1" });

		const foreign = await p.http("PATCH", `/api/leads/${lead.id}`, { token: memberB, body: { company: "Stolen" } });
		const random = await p.http("PATCH", `/api/leads/0000000000000000000x`, { token: memberB, body: { company: "Stolen" } });
		expect(foreign.status).toBe(404);
		expect(random.status).toBe(404);
		expect(foreign.body.code).toBe(random.body.code);
		expect(foreign.body.detail).toBe(random.body.detail);
		expect((await p.http("GET", `/api/leads/${lead.id}`, { token: memberA })).body.company).toBe("Navy");
	});

	it("enforces status transitions (409 INVALID_TRANSITION), emits won/lost/reopened, keeps a timeline", async () => {
		const lead = await create(memberA, { name: "Flow", value: { amount: 1000, currency: "EUR" } });
		const patch = (status: string, token = memberA) => p.http("PATCH", `/api/leads/${lead.id}`, { token, body: { status } });

		const skip = await patch("won");
		expect(skip.status).toBe(409);
		expect(skip.body.code).toBe("INVALID_TRANSITION");
		expect((await patch("contacted", memberB)).status).toBe(404);
		expect((await patch("contacted")).body.status).toBe("contacted");
		expect((await patch("new")).status).toBe(409);
		expect((await patch("qualified")).body.status).toBe("qualified");
		const won = await patch("won");
		expect(won.body).toMatchObject({ status: "won", wonCount: 1, wonAt: expect.any(String) });
		const wonEvent = await waitFor(() => seen["leads.won"]?.find(e => e.id === lead.id));
		expect(wonEvent).toMatchObject({ tenantId: "tenant-a", actorId: "agent-a1", cycle: 1, from: "qualified", to: "won" });
		expect((await patch("lost")).status).toBe(409);
		const reopened = await patch("qualified");
		expect(reopened.body).toMatchObject({ status: "qualified", wonAt: null });
		const re = await waitFor(() => seen["leads.reopened"]?.find(e => e.id === lead.id));
		expect(re).toMatchObject({ reopenedFrom: "won", cycle: 1 });
		expect((await patch("lost")).body.status).toBe("lost");
		await waitFor(() => seen["leads.lost"]?.find(e => e.id === lead.id));
		expect((await patch("qualified")).status).toBe(200);
		expect((await patch("won")).body.wonCount).toBe(2);
		await waitFor(() => seen["leads.won"]?.find(e => e.id === lead.id && e.cycle === 2));
		expect(seen["leads.statusChanged"].filter(e => e.id === lead.id)).toHaveLength(7);

		const timeline = await p.http("GET", `/api/leads/${lead.id}/activities?pageSize=100&sort=at`, { token: memberA });
		expect(timeline.status).toBe(200);
		expect(timeline.body.rows.map((a: any) => a.type)).toEqual(["created", ...Array(7).fill("status_changed")]);
		expect(timeline.body.rows[1].data).toEqual({ from: "new", to: "contacted" });
		expect((await p.http("GET", `/api/leads/${lead.id}/activities`, { token: memberB })).status).toBe(404);
	});

	it("adds manual activities; cross-tenant 404", async () => {
		const lead = await create(memberA, { name: "Timeline" });
		const res = await p.http("POST", `/api/leads/${lead.id}/activities`, {
			token: memberA,
			body: { type: "call", summary: "Called, interested", at: "2026-11-20T10:00:00.000Z" },
		});
		expect(res.status).toBe(201);
		expect(res.body).toMatchObject({
			type: "call",
			summary: "Called, interested",
			at: "2026-11-20T10:00:00.000Z",
			actorId: "agent-a1",
			leadId: lead.id,
		});
		expect(
			(await p.http("POST", `/api/leads/${lead.id}/activities`, { token: memberA, body: { type: "assigned", summary: "fake" } })).status,
		).toBe(422);
		expect((await p.http("POST", `/api/leads/${lead.id}/activities`, { token: memberB, body: { type: "note", summary: "x" } })).status).toBe(404);
		const list = await p.http("GET", `/api/leads/${lead.id}/activities`, { token: memberA });
		expect(list.body.rows.map((a: any) => a.type).sort()).toEqual(["call", "created"]);
	});

	it("manual assignment by an admin (member 403, other tenant 404) emits leads.assigned", async () => {
		const lead = await create(memberA, { name: "Assign me" });
		expect((await p.http("POST", `/api/leads/${lead.id}/assign`, { token: memberA, body: { userId: "agent-a2" } })).status).toBe(403);
		expect((await p.http("POST", `/api/leads/${lead.id}/assign`, { token: adminB, body: { userId: "agent-b1" } })).status).toBe(404);
		const res = await p.http("POST", `/api/leads/${lead.id}/assign`, { token: adminA, body: { userId: "agent-a2" } });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ assignedTo: "agent-a2", assignedAt: expect.any(String) });
		const ev = await waitFor(() => seen["leads.assigned"]?.find(e => e.id === lead.id));
		expect(ev).toMatchObject({ assignedTo: "agent-a2", previousAssignee: null, actorId: "admin-a" });
		const mine = await p.http("GET", `/api/leads?assignedTo=agent-a2`, { token: memberA });
		expect(mine.body.rows.map((r: any) => r.id)).toContain(lead.id);
	});

	it("imports CSV: accepted count and per-row errors", async () => {
		const tag = `imp${Date.now().toString(36)}`;
		const csv = [
			"name,email,phone,company,country,source,amount,currency,cf_segment",
			`${tag} One,one@example.com,,Acme,fr,fair,1000,eur,smb`,
			`,missing@example.com,,,,,,,`,
			`${tag} Two,bad-email,,,,,,,`,
			`${tag} Three,,+33 1 23 45 67 89,,,,12.5,EUR,`,
			`${tag} Four,four@example.com,,,,,,,`,
		].join("\n");
		const res = await p.http("POST", "/api/leads/import", { token: memberA, body: { csv } });
		expect(res.status).toBe(200);
		expect(res.body.accepted).toBe(2);
		expect(res.body.rejected.map((r: any) => r.row)).toEqual([2, 3, 4]);
		expect(res.body.rejected[0].errors[0].field).toBe("name");
		const list = await p.http("GET", `/api/leads?q=${tag}&sort=name`, { token: memberA });
		expect(list.body.rows.map((r: any) => r.name)).toEqual([`${tag} Four`, `${tag} One`]);
		expect(list.body.rows[1]).toMatchObject({
			country: "FR",
			source: "fair",
			value: { amount: 1000, currency: "EUR" },
			customFields: { segment: "smb" },
		});
		expect((await p.http("GET", `/api/leads?q=${tag}`, { token: memberB })).body.total).toBe(0);
		expect((await p.http("POST", "/api/leads/import", { token: memberA, body: { csv: 'name\n"unterminated' } })).status).toBe(422);
	});

	it("imports a 1,500-row CSV in one request and rejects more than 5,000 rows (413)", async () => {
		const tag = `big${Date.now().toString(36)}`;
		const rows = Array.from({ length: 1500 }, (_, i) => `${tag} ${i},${tag}${i}@example.com,,,,,${i},EUR`);
		const res = await p.http("POST", "/api/leads/import", {
			token: memberA,
			body: { csv: ["name,email,phone,company,country,source,amount,currency", ...rows].join("\n") },
		});
		expect(res.status).toBe(200);
		expect(res.body).toEqual({ accepted: 1500, rejected: [] });
		expect((await p.http("GET", `/api/leads?q=${tag}&pageSize=1`, { token: memberA })).body.total).toBe(1500);
		const tooMany = ["name", ...Array.from({ length: 5001 }, (_, i) => `n${i}`)].join("\n");
		const big = await p.http("POST", "/api/leads/import", { token: memberA, body: { csv: tooMany } });
		expect(big.status).toBe(413);
		expect(big.body.code).toBe("TOO_MANY_ROWS");
	}, 120_000);

	describe("web-form capture", () => {
		let keyA: string;
		let keyId: string;
		beforeAll(async () => {
			const res = await p.http("POST", "/api/leads/ingest-keys", { token: adminA, body: { name: "Website", slug: "acme-a" } });
			expect(res.status).toBe(201);
			expect(res.body).toMatchObject({ name: "Website", slug: "acme-a", endpoint: "/api/public/leads/acme-a" });
			keyA = res.body.key;
			keyId = res.body.id;
			expect((await p.http("PUT", "/api/leads/settings", { token: adminB, body: { slug: "acme-b" } })).status).toBe(200);
		});

		it("manages keys as admin only; the key is shown once and never stored in clear", async () => {
			expect((await p.http("POST", "/api/leads/ingest-keys", { token: memberA, body: { name: "x" } })).status).toBe(403);
			const list = await p.http("GET", "/api/leads/ingest-keys", { token: adminA });
			expect(list.status).toBe(200);
			expect(list.body.rows).toEqual([expect.objectContaining({ id: keyId, name: "Website", prefix: keyA.slice(0, 8) })]);
			expect(JSON.stringify(list.body)).not.toContain(keyA);
			expect(list.body.rows[0].hash).toBeUndefined();
			expect((await p.http("GET", "/api/leads/ingest-keys", { token: adminB })).body.rows).toEqual([]);
			expect((await p.http("DELETE", `/api/leads/ingest-keys/${keyId}`, { token: adminB })).status).toBe(404);
			expect((await p.http("GET", "/api/leads/settings", { token: adminA })).body).toEqual({ slug: "acme-a" });
			const taken = await p.http("PUT", "/api/leads/settings", { token: adminB, body: { slug: "acme-a" } });
			expect(taken.status).toBe(409);
			expect(taken.body.code).toBe("SLUG_TAKEN");
		});

		it("captures a lead with the key, dedupes by email/phone into an activity, rejects bad keys alike", async () => {
			const email = `form-${Date.now()}@example.com`;
			const first = await p.http("POST", "/api/public/leads/acme-a", {
				body: { ingestKey: keyA, name: "Form Person", email, message: "Call me" },
			});
			expect(first.status).toBe(202);
			expect(first.body).toEqual({ received: true, duplicate: false });
			const again = await p.http("POST", "/api/public/leads/acme-a", {
				body: { ingestKey: keyA, name: "Form Person", email: email.toUpperCase(), message: "Again" },
			});
			expect(again.status).toBe(200);
			expect(again.body.duplicate).toBe(true);
			const list = await p.http("GET", `/api/leads?q=${encodeURIComponent(email)}`, { token: memberA });
			expect(list.body.total).toBe(1);
			expect(list.body.rows[0]).toMatchObject({ source: "web-form", createdBy: "intake" });
			const tl = await p.http("GET", `/api/leads/${list.body.rows[0].id}/activities?sort=at`, { token: memberA });
			expect(tl.body.rows.map((a: any) => a.type)).toEqual(["created", "form_submission", "form_submission"]);

			const wrongTenant = await p.http("POST", "/api/public/leads/acme-b", { body: { ingestKey: keyA, name: "X", email: "x@example.com" } });
			const unknownSlug = await p.http("POST", "/api/public/leads/nobody-here", {
				body: { ingestKey: keyA, name: "X", email: "x@example.com" },
			});
			const badKey = await p.http("POST", "/api/public/leads/acme-a", { body: { ingestKey: "vik_wrongwrongwrong", name: "X" } });
			for (const r of [wrongTenant, unknownSlug, badKey]) {
				expect(r.status).toBe(401);
				expect(r.body.code).toBe("INVALID_INGEST_KEY");
			}
			expect((await p.http("GET", `/api/leads?q=x@example.com`, { token: memberB })).body.total).toBe(0);
		});

		it("dedupes by phone written differently; concurrent identical submissions make one lead", async () => {
			const phone = `+1 555 ${String(Date.now()).slice(-7)}`;
			const results = await Promise.all(
				[phone, phone.replace(/ /g, ""), phone.replace(/ /g, "-")].map(ph =>
					p.http("POST", "/api/public/leads/acme-a", { body: { ingestKey: keyA, name: "Phone Person", phone: ph } }),
				),
			);
			expect(results.map(r => r.status).sort()).toEqual([200, 200, 202]);
		});

		it("merges only within the dedupe window: an older lead with the same email gets a new lead beside it", async () => {
			const email = `window-${Date.now()}@example.com`;
			expect((await p.http("POST", "/api/public/leads/acme-a", { body: { ingestKey: keyA, name: "Old", email } })).status).toBe(202);
			// age the stored lead past the window (CRM_DEDUPE_WINDOW_S, default 24 h)
			const leads = p.broker.getLocalService("leads") as unknown as { adapter: { updateMany(q: unknown, u: unknown): Promise<number> } };
			const old = new Date(Date.now() - 86_400_000 - 60_000).toISOString();
			expect(await leads.adapter.updateMany({ tenantId: "tenant-a", emailKey: email }, { $set: { createdAt: old } })).toBe(1);
			const again = await p.http("POST", "/api/public/leads/acme-a", { body: { ingestKey: keyA, name: "New", email } });
			expect(again.status).toBe(202);
			expect(again.body.duplicate).toBe(false);
		});

		it("revoked keys stop working", async () => {
			const extra = await p.http("POST", "/api/leads/ingest-keys", { token: adminA, body: { name: "Temp" } });
			expect(extra.body.slug).toBe("acme-a");
			expect((await p.http("DELETE", `/api/leads/ingest-keys/${extra.body.id}`, { token: adminA })).status).toBe(204);
			const res = await p.http("POST", "/api/public/leads/acme-a", { body: { ingestKey: extra.body.key, name: "Late" } });
			expect(res.status).toBe(401);
		});

		it("is rate-limited per client address (429 RATE_LIMITED with Retry-After)", async () => {
			let last;
			for (let i = 0; i < 31; i++) {
				last = await p.http("POST", "/api/public/leads/nobody-here", { body: { ingestKey: "vik_xxxxxxxxxxxx", name: "Spam" } });
				if (last.status === 429) break;
				expect(last.status).toBe(401);
			}
			expect(last!.status).toBe(429);
			expect(last!.body.code).toBe("RATE_LIMITED");
			expect(last!.headers.get("retry-after")).toBeTruthy();
		});
	});
});
