/**
 * The tenant invitation e-mail, end to end over HTTP and a real SMTP server in this process: an owner invites
 * an address, the e-mail (the built-in `invitation` message, or the tenant's override of it) arrives at that
 * address with the accept link built from APP_URL, inviting again does not send a second one (idempotent by
 * invitation id), and the invitee who signs up with that address follows the link's invitation to accept it.
 */
import { randomUUID } from "node:crypto";
import { startPlatform, type Platform } from "../helpers/platform";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink";
import { waitFor } from "../helpers/wait";

const waitForMails = async <T>(check: () => T | null, opts: Parameters<typeof waitFor>[1]) => (await waitFor(check, opts))!;

describe("tenant invitations by e-mail", () => {
	let p: Platform;
	let smtp: SmtpSink;
	const tag = randomUUID().slice(0, 8);
	let owner = "";
	let tenantId = "";
	const ownerToken = () => p.token({ sub: owner, tid: tenantId, roles: ["owner"] });
	const mailsTo = (address: string) => smtp.mails.filter(m => (m.to as { text: string } | undefined)?.text === address);
	const invite = (email: string, role = "member") =>
		p.http("POST", `/api/tenants/${tenantId}/invitations`, { token: ownerToken(), body: { email, role } });

	beforeAll(async () => {
		smtp = await startSmtpSink();
		p = await startPlatform({
			services: ["platform", "auth", "users", "tenants"],
			env: { PASSWORD_SCRYPT_N: "1024", SMTP_URL: smtp.url, APP_URL: "https://crm.example", MAIL_FROM: "Valence <no-reply@valence.test>" },
		});
		owner = (
			(await p.broker.call("auth.register", { email: `owner-${tag}@example.com`, password: "invite-horse-42", name: "Olga" })) as {
				user: { id: string };
			}
		).user.id;
		tenantId = (
			(await p.broker.call(
				"tenants.createTenant",
				{ name: "Acme & Co", slug: `acme-${tag}` },
				{ meta: { user: { id: owner, tenantId: null, roles: [] } } },
			)) as {
				id: string;
			}
		).id;
	}, 30_000);
	afterAll(async () => {
		await p?.stop();
		await smtp?.close();
	});

	it("e-mails the invited address the accept link; inviting again sends nothing more; the link's invitation is accepted", async () => {
		const address = `newbie-${tag}@example.com`;
		const res = await invite(address);
		expect(res.status).toBe(202);
		const [mail] = await waitForMails(() => (mailsTo(address).length ? mailsTo(address) : null), {
			what: "the invitation e-mail",
			timeoutMs: 20_000,
		});
		expect(mail.subject).toBe("Olga invited you to Acme & Co on Valence");
		expect(mail.html).toContain("<strong>Acme &amp; Co</strong>");
		const link = /https:\/\/crm\.example\/invitations\/([^/\s]+)\/accept/.exec(mail.text ?? "");
		expect(link).not.toBeNull();
		expect(link![1]).toBe(res.body.id);

		// the same address again: the open invitation is renewed, and it is one e-mail (eventId = invitation id)
		const again = await invite(address, "admin");
		expect(again.body.id).toBe(res.body.id);
		const marker = `marker-${tag}@example.com`;
		await invite(marker);
		await waitFor(() => mailsTo(marker).length === 1, { what: "a later invitation's e-mail", timeoutMs: 20_000 });
		expect(mailsTo(address)).toHaveLength(1);

		// the invitee signs up with that address and follows the link
		const invitee = (await p.broker.call("auth.register", { email: address, password: "invite-horse-42", name: "Nina" })) as {
			user: { id: string };
		};
		const token = p.token({ sub: invitee.user.id });
		const accepted = await p.http("POST", `/api/tenants/invitations/${encodeURIComponent(link![1])}/accept`, { token });
		expect(accepted.status).toBe(201);
		expect(accepted.body).toMatchObject({ tenantId, userId: invitee.user.id, role: "admin" });
		// someone else holding the link cannot use it: the invitation is for the invited address
		const stranger = (await p.broker.call("auth.register", { email: `stranger-${tag}@example.com`, password: "invite-horse-42", name: "S" })) as {
			user: { id: string };
		};
		const markerLink = /invitations\/([^/\s]+)\/accept/.exec(mailsTo(marker)[0].text ?? "")![1];
		expect((await p.http("POST", `/api/tenants/invitations/${markerLink}/accept`, { token: p.token({ sub: stranger.user.id }) })).status).toBe(
			404,
		);
	});

	it("uses the tenant's override of the invitation message", async () => {
		const saved = await p.http("PUT", "/api/notifications/templates/invitation", {
			token: ownerToken(),
			body: { email: { subject: "Join {{ tenant.name }}, says {{ inviter.name }}" } },
		});
		expect(saved.status).toBe(200);
		const address = `second-${tag}@example.com`;
		expect((await invite(address)).status).toBe(202);
		const [mail] = await waitForMails(() => (mailsTo(address).length ? mailsTo(address) : null), {
			what: "the overridden e-mail",
			timeoutMs: 20_000,
		});
		expect(mail.subject).toBe("Join Acme & Co, says Olga");
		expect(mail.text).toContain("https://crm.example/invitations/");
	});
});
