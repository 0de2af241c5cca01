/**
 * Templates per tenant at `/api/notifications/templates`: overriding a built-in message, a tenant's own
 * messages, strict Liquid checked at save time (422 with the line, nothing stored), HTML escaping in the
 * e-mail that goes out, preview, delete back to the default, admin only, one tenant never sees another's.
 */
import { randomUUID } from "node:crypto";
import { resetConfig } from "../../lib/config";
import { startPlatform, type Platform } from "../helpers/platform";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink";
import { waitFor } from "../helpers/wait";

describe("notification templates", () => {
	let p: Platform;
	let smtp: SmtpSink;
	const tag = randomUUID().slice(0, 8);
	const users = { owner: "", member: "", other: "" };
	let tenantA = "";
	let tenantB = "";
	const admin = () => p.token({ sub: users.owner, tid: tenantA, roles: ["owner"] });
	const put = (key: string, body: unknown, token = admin()) => p.http("PUT", `/api/notifications/templates/${key}`, { token, body });
	const sendIn = (tenantId: string, userId: string, template: string, vars: Record<string, unknown>) =>
		p.broker.call(
			"notifications.send",
			{ userId, template, vars, eventId: randomUUID() },
			{ meta: { user: { id: "system", tenantId, roles: ["owner"] } } },
		) as Promise<{
			notification: { id: string; title: string; body: string; link: string | null };
		}>;

	beforeAll(async () => {
		smtp = await startSmtpSink();
		p = await startPlatform({
			services: ["platform", "auth", "users", "tenants"],
			env: { PASSWORD_SCRYPT_N: "1024", SMTP_URL: smtp.url, APP_URL: "https://crm.example" },
		});
		for (const name of ["owner", "member", "other"] as const) {
			const res = (await p.broker.call("auth.register", { email: `${name}-${tag}@example.com`, password: "template-horse-42", name })) as {
				user: { id: string };
			};
			users[name] = res.user.id;
		}
		const as = (id: string) => ({ meta: { user: { id, tenantId: null, roles: [] } } });
		tenantA = ((await p.broker.call("tenants.createTenant", { name: "Acme", slug: `acme-${tag}` }, as(users.owner))) as { id: string }).id;
		tenantB = ((await p.broker.call("tenants.createTenant", { name: "Bolt", slug: `bolt-${tag}` }, as(users.other))) as { id: string }).id;
		await p.broker.call("tenants.addMember", { id: tenantA, userId: users.member, role: "member" });
		await p.broker.call("tenants.addMember", { id: tenantB, userId: users.member, role: "member" });
	}, 30_000);
	afterAll(async () => {
		await p?.stop();
		await smtp?.close();
	});

	it("lists the built-in messages with their variables; members may not manage templates", async () => {
		const list = await p.http("GET", "/api/notifications/templates", { token: admin() });
		expect(list.status).toBe(200);
		expect(list.body.rows.map((t: { key: string }) => t.key)).toEqual(
			expect.arrayContaining(["comment", "lead-assigned", "mention", "new-follower", "password-reset"]),
		);
		expect(list.body.rows.find((t: { key: string }) => t.key === "lead-assigned")).toMatchObject({
			builtIn: true,
			overridden: false,
			category: "assignments",
			variables: ["lead.id", "lead.name", "lead.company"],
			channels: ["inApp", "email", "push"],
		});
		const member = p.token({ sub: users.member, tid: tenantA, roles: ["member"] });
		expect((await p.http("GET", "/api/notifications/templates", { token: member })).status).toBe(403);
		expect((await put("lead-assigned", { inApp: { title: "x", body: "y" } }, member)).status).toBe(403);
		expect((await p.http("GET", "/api/notifications/templates", { token: p.token({ sub: users.owner }) })).status).toBe(403); // no tenant, no admin role
	});

	it("refuses a template that does not compile or names an unknown variable: 422 with the line, nothing stored", async () => {
		const cases: [string, unknown, string, RegExp][] = [
			[
				"unknown variable",
				{ inApp: { title: "New lead", body: "Hello {{ recipient.name }},\nworth {{ lead.value }}" } },
				"inApp.body",
				/^line 2, column \d+: unknown variable 'lead\.value'/,
			],
			[
				"unknown filter",
				{ email: { subject: "{{ lead.name | shout }}", html: "<p>x</p>", text: "x" } },
				"email.subject",
				/^line 1, column \d+: undefined filter: shout/,
			],
			[
				"unclosed tag",
				{ push: { title: "t", body: "line one\n{% if lead.company %}\nopen" } },
				"push.body",
				/^line 2, column \d+: tag \{% if lead.company %\} not closed/,
			],
			[
				"include",
				{ inApp: { title: "t", body: "{% include 'secrets' %}" } },
				"inApp.body",
				/^line 1: include, render and layout are not available/,
			],
			[
				"computed lookup",
				{ inApp: { title: "{{ lead[recipient.name] }}", body: "b" } },
				"inApp.title",
				/^line 1, column 4: 'lead\[recipient.name\]' is a computed lookup/,
			],
		];
		for (const [what, body, field, message] of cases) {
			const res = await put("lead-assigned", body);
			expect({ what, status: res.status, code: res.body.code }).toEqual({ what, status: 422, code: "VALIDATION_ERROR" });
			expect(res.body.errors).toEqual(expect.arrayContaining([{ field, message: expect.stringMatching(message) }]));
		}
		// a late variable (the reset link) may appear in the e-mail, never in the in-app text that is stored
		const late = await put("password-reset", { inApp: { title: "Reset", body: "{{ resetUrl }}" } });
		expect(late.status).toBe(422);
		expect(late.body.errors[0]).toEqual({ field: "inApp.body", message: expect.stringMatching(/unknown variable 'resetUrl'/) });
		expect(
			(await put("password-reset", { email: { subject: "Reset", html: "<a href='{{ resetUrl }}'>go</a>", text: "{{ resetUrl }}" } })).status,
		).toBe(200);
		await p.http("DELETE", "/api/notifications/templates/password-reset", { token: admin() });
		// built-ins keep their variables, category and channels
		expect((await put("lead-assigned", { variables: ["lead.value"], inApp: { title: "t", body: "b" } })).status).toBe(422);
		expect((await put("lead-assigned", { category: "marketing", inApp: { title: "t", body: "b" } })).status).toBe(422);
		expect((await put("password-reset", { push: { title: "t", body: "b" } })).status).toBe(422);
		// too long, unknown fields
		expect((await put("lead-assigned", { inApp: { title: "x".repeat(501), body: "b" } })).status).toBe(422);
		expect((await put("lead-assigned", { inApp: { title: "t", body: "b", extra: "x" } })).status).toBe(422);
		expect((await put("Bad Key!", { inApp: { title: "t", body: "b" } })).status).toBe(422);
		const stored = await p.http("GET", "/api/notifications/templates/lead-assigned", { token: admin() });
		expect(stored.body.overridden).toBe(false);
	});

	it("overrides a built-in message for one tenant only; deleting the override restores the default", async () => {
		const saved = await put("lead-assigned", {
			inApp: {
				title: "{{ lead.name }} is yours, {{ recipient.name }}",
				body: "{% if lead.company %}From {{ lead.company }}.{% else %}No company.{% endif %}",
			},
		});
		expect(saved.status).toBe(200);
		expect(saved.body).toMatchObject({ key: "lead-assigned", overridden: true, builtIn: true });
		expect(saved.body.parts.email.subject).toBe("New lead assigned to you: {{ lead.name }}"); // the parts not given stay built-in

		const vars = { lead: { id: "L1", name: "Wayne Corp", company: "Wayne" } };
		const inA = await sendIn(tenantA, users.member, "lead-assigned", vars);
		expect(inA.notification).toMatchObject({ title: "Wayne Corp is yours, member", body: "From Wayne.", link: "https://crm.example/leads/L1" });
		const inB = await sendIn(tenantB, users.member, "lead-assigned", vars);
		expect(inB.notification.title).toBe("New lead: Wayne Corp");
		// tenant B's admin does not see A's override
		const bAdmin = p.token({ sub: users.other, tid: tenantB, roles: ["owner"] });
		expect((await p.http("GET", "/api/notifications/templates/lead-assigned", { token: bAdmin })).body.overridden).toBe(false);

		expect((await p.http("DELETE", "/api/notifications/templates/lead-assigned", { token: admin() })).status).toBe(204);
		expect((await p.http("DELETE", "/api/notifications/templates/lead-assigned", { token: admin() })).status).toBe(404);
		const after = await sendIn(tenantA, users.member, "lead-assigned", vars);
		expect(after.notification.title).toBe("New lead: Wayne Corp");
	});

	it("adds a tenant's own message; its e-mail goes out with every variable escaped in the HTML, `raw` included", async () => {
		const incomplete = await put("deal-won", { inApp: { title: "t", body: "b" } });
		expect(incomplete.status).toBe(422);
		expect(incomplete.body.errors.map((e: { field: string }) => e.field)).toContain("category");
		const saved = await put("deal-won", {
			category: "updates",
			variables: ["deal.name", "deal.amount"],
			inApp: { title: "Deal won: {{ deal.name }}", body: "{{ deal.amount }} more in the bank." },
			email: {
				subject: "Won: {{ deal.name }}",
				html: "<h1>{{ deal.name | raw }}</h1><p>{{ deal.amount }}</p>",
				text: "{{ deal.name }} - {{ deal.amount }}",
			},
		});
		expect(saved.status).toBe(200);
		expect(saved.body).toMatchObject({ builtIn: false, category: "updates", channels: ["inApp", "email"] });

		const preview = await p.http("POST", "/api/notifications/templates/deal-won/preview", {
			token: admin(),
			body: { vars: { deal: { name: "<b>Big</b>", amount: "€5" } } },
		});
		expect(preview.body.email.html).toBe("<h1>&lt;b&gt;Big&lt;/b&gt;</h1><p>€5</p>");
		expect(preview.body.inApp.title).toBe("Deal won: <b>Big</b>");
		expect((await p.http("POST", "/api/notifications/templates/deal-won/preview", { token: admin(), body: { vars: {} } })).status).toBe(422);

		await p.http("PUT", "/api/notifications/preferences", {
			token: p.token({ sub: users.member }),
			body: { categories: { updates: { email: true } } },
		});
		const { notification } = await sendIn(tenantA, users.member, "deal-won", { deal: { name: "<script>x()</script>", amount: "€5" } });
		expect(notification.title).toBe("Deal won: <script>x()</script>"); // in-app text is plain text: the client escapes
		const mail = await waitFor(() => smtp.mails.find(m => m.subject === "Won: <script>x()</script>"), { what: "the tenant's e-mail" });
		expect(mail!.html).toBe("<h1>&lt;script&gt;x()&lt;/script&gt;</h1><p>€5</p>");
		// another tenant has no such message
		const elsewhere = await sendIn(tenantB, users.member, "deal-won", { deal: { name: "x", amount: "1" } }).catch(e => e);
		expect(elsewhere).toMatchObject({ code: 422, data: [{ field: "template" }] });
	});

	it("a message without a tenant uses the recipient's tenant's override when they have one tenant, else the platform-wide one", async () => {
		// the platform admins: the admins of the tenant NOTIFY_PLATFORM_TENANT_ID names
		const root = (await p.broker.call("auth.register", { email: `root-${tag}@example.com`, password: "template-horse-42", name: "root" })) as {
			user: { id: string };
		};
		const loner = (await p.broker.call("auth.register", { email: `loner-${tag}@example.com`, password: "template-horse-42", name: "loner" })) as {
			user: { id: string };
		};
		const platformTenant = (
			(await p.broker.call(
				"tenants.createTenant",
				{ name: "Valence", slug: `valence-${tag}` },
				{ meta: { user: { id: root.user.id, tenantId: null, roles: [] } } },
			)) as { id: string }
		).id;
		process.env.NOTIFY_PLATFORM_TENANT_ID = platformTenant;
		resetConfig();
		await p.broker.cacher?.clean("notificationtemplates.**");
		try {
			const rootAdmin = p.token({ sub: root.user.id, tid: platformTenant, roles: ["owner"] });
			expect((await put("comment", { inApp: { title: "Platform: new comment" } }, rootAdmin)).status).toBe(200);
			expect(
				(await put("comment", { inApp: { title: "Acme: new comment" }, email: { subject: "Acme: {{ commenter.name }} replied" } })).status,
			).toBe(200);
			const send = (userId: string) =>
				p.broker.call(
					"notifications.send",
					{ userId, template: "comment", vars: { commenter: { id: "c1", name: "Cy" }, post: { id: "p1" } }, eventId: randomUUID() },
					{ meta: { user: null } },
				) as Promise<{ notification: { title: string; tenantId: string | null } }>;
			// the owner belongs to Acme only: Acme's words, in the list and in the e-mail; the notification stays tenant-less
			const mine = await send(users.owner);
			expect(mine.notification).toMatchObject({ title: "Acme: new comment", tenantId: null });
			await waitFor(
				() => smtp.mails.some(m => (m.to as { text: string }).text === `owner-${tag}@example.com` && m.subject === "Acme: Cy replied"),
				{
					what: "the e-mail in Acme's words",
				},
			);
			// no tenant, or two tenants (which one?): the platform-wide override; the parts it does not give stay built-in
			expect((await send(loner.user.id)).notification.title).toBe("Platform: new comment");
			expect((await send(users.member)).notification.title).toBe("Platform: new comment");
			await waitFor(
				() =>
					smtp.mails.some(m => (m.to as { text: string }).text === `loner-${tag}@example.com` && m.subject === "Cy commented on your post"),
				{
					what: "the loner's e-mail (built-in subject)",
				},
			);
			// a tenant without an override of its own gets the platform's too
			const inB = await sendIn(tenantB, users.other, "comment", { commenter: { id: "c1", name: "Cy" }, post: { id: "p1" } });
			expect(inB.notification.title).toBe("Platform: new comment");
			// and a tenant admin sees what its senders get
			const bAdmin = p.token({ sub: users.other, tid: tenantB, roles: ["owner"] });
			expect((await p.http("GET", "/api/notifications/templates/comment", { token: bAdmin })).body.parts.inApp.title).toBe(
				"Platform: new comment",
			);
		} finally {
			delete process.env.NOTIFY_PLATFORM_TENANT_ID;
			resetConfig();
			await p.broker.cacher?.clean("notificationtemplates.**");
		}
	});
});
