/**
 * The producers, end to end over HTTP and Socket.IO with the whole platform in one process (identity,
 * social, CRM, platform, the gateway), real accounts and tokens, a real SMTP server and a fake push
 * service on 127.0.0.1:
 * - a new follower: the in-app notification, the event on the followed user's open socket, the e-mail in
 *   the SMTP sink and the Web Push the push service decrypts, all for the same notification;
 * - a password reset: the e-mail with a link that works, nothing of the token anywhere else;
 * - a lead assigned by a rule: the assignee is told within the tenant;
 * - a comment on your post and a mention: told when they may see the post, not otherwise.
 * And the embedded default without SMTP: the reset mail as an .eml file under DATA_DIR/mail.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { simpleParser } from "mailparser";
import { io as connectClient, type Socket } from "socket.io-client";
import { startFakePush, type FakePush } from "../helpers/fake-push";
import { startPlatform, type Platform } from "../helpers/platform";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink";
import { waitFor } from "../helpers/wait";

const PASSWORD = "journey-notify-42";
// A generous deadline: these effects cross channels and (in CI) share two cores with other suites.
const until = async <T>(check: () => Promise<T> | T, opts?: Parameters<typeof waitFor>[1]) =>
	(await waitFor(check, { timeoutMs: 20_000, ...opts })) as NonNullable<T>;

interface Account {
	id: string;
	email: string;
	token: string;
}

describe("notification journeys", () => {
	let p: Platform;
	let smtp: SmtpSink;
	let push: FakePush;
	const sockets: Socket[] = [];
	const tag = randomUUID().slice(0, 8);

	async function register(name: string): Promise<Account> {
		const email = `${name.toLowerCase()}-${tag}@example.com`;
		const res = await p.http("POST", "/api/auth/register", { body: { email, password: PASSWORD, name } });
		expect(res.status).toBe(201);
		return { id: res.body.user.id, email, token: res.body.accessToken };
	}
	function openSocket(token: string): Promise<{ socket: Socket; events: { event: string; data: any }[] }> {
		const socket = connectClient(p.baseUrl, { auth: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
		sockets.push(socket);
		const events: { event: string; data: any }[] = [];
		socket.onAny((event, data) => events.push({ event, data }));
		return new Promise((resolve, reject) => {
			socket.once("ready", () => resolve({ socket, events }));
			socket.once("connect_error", reject);
		});
	}
	const list = async (a: Account | string, query = "") =>
		(await p.http("GET", `/api/notifications${query}`, { token: typeof a === "string" ? a : a.token })).body.items as any[];
	const mailsTo = (address: string) => smtp.mails.filter(m => (m.to as { text: string } | undefined)?.text === address);

	beforeAll(async () => {
		smtp = await startSmtpSink();
		push = await startFakePush();
		p = await startPlatform({
			services: ["identity", "social", "crm", "platform"],
			env: {
				PASSWORD_SCRYPT_N: "1024",
				SMTP_URL: smtp.url,
				PUSH_ALLOW_HTTP: "true",
				PUSH_ALLOWED_HOSTS: "127.0.0.1",
				APP_URL: "https://app.valence.test",
				CHANNELS_RETRY_DELAY_MS: "20",
			},
		});
	}, 60_000);
	afterAll(async () => {
		for (const s of sockets) s.close();
		await p?.stop();
		await smtp?.close();
		await push?.close();
	});

	it("a new follower: in-app, on the open socket, by e-mail and by Web Push, one notification", async () => {
		const alice = await register("Alice");
		const bob = await register("Bob");
		expect(
			(await p.http("PUT", "/api/notifications/preferences", { token: alice.token, body: { categories: { follows: { email: true } } } }))
				.status,
		).toBe(200);
		const sub = push.subscription();
		expect(
			(await p.http("POST", "/api/notifications/push-subscriptions", { token: alice.token, body: { endpoint: sub.endpoint, keys: sub.keys } }))
				.status,
		).toBe(201);
		const { events } = await openSocket(alice.token);

		expect((await p.http("POST", `/api/users/${alice.id}/follow`, { token: bob.token })).status).toBe(200);

		const [inApp] = await until(
			async () => {
				const items = await list(alice);
				return items.length ? items : null;
			},
			{ what: "alice's notification" },
		);
		expect(inApp).toMatchObject({
			userId: alice.id,
			category: "follows",
			title: "New follower",
			body: "Bob started following you.",
			link: `https://app.valence.test/users/${bob.id}`,
			readAt: null,
		});
		const realtime = await until(() => events.find(e => e.event === "notification"), { what: "the socket event" });
		expect(realtime.data.notification).toEqual(inApp);
		const [mail] = await until(() => (mailsTo(alice.email).length ? mailsTo(alice.email) : null), { what: "the e-mail" });
		expect(mail.subject).toBe("Bob is now following you");
		expect(mail.text).toContain(`https://app.valence.test/users/${bob.id}`);
		const pushed = await until(() => push.received.find(r => r.subscription === sub.id), { what: "the push" });
		expect(pushed.payload).toMatchObject({ id: inApp.id, title: "New follower", body: "Bob started following you." });
		expect(push.errors).toEqual([]);

		// following again changes nothing; nothing is sent twice
		expect((await p.http("POST", `/api/users/${alice.id}/follow`, { token: bob.token })).status).toBe(200);
		await p.broker.call("deliveries.release", {});
		expect(await list(alice)).toHaveLength(1);
		expect(mailsTo(alice.email)).toHaveLength(1);
		expect(push.received.filter(r => r.subscription === sub.id)).toHaveLength(1);
		expect(events.filter(e => e.event === "notification")).toHaveLength(1);
	});

	it("a password reset: the e-mail's link resets the password; the token is nowhere else", async () => {
		const carol = await register("Carol");
		const responses = p.responses.length;
		expect((await p.http("POST", "/api/auth/password/forgot", { body: { email: carol.email } })).status).toBe(202);
		const [mail] = await until(() => (mailsTo(carol.email).length ? mailsTo(carol.email) : null), { what: "the reset e-mail" });
		expect(mail.subject).toBe("Reset your Valence password");
		const link = /https:\/\/app\.valence\.test\/reset-password\?token=([\w%-]+)/.exec(mail.text ?? "");
		expect(link).not.toBeNull();
		const token = decodeURIComponent(link![1]);
		expect(mail.html).toContain(`href="https://app.valence.test/reset-password?token=${link![1]}"`);
		expect((await p.http("POST", "/api/auth/password/reset", { body: { token, password: "a-brand-new-one-7" } })).status).toBe(204);
		expect((await p.http("POST", "/api/auth/login", { body: { email: carol.email, password: "a-brand-new-one-7" } })).status).toBe(200);

		const login = await p.http("POST", "/api/auth/login", { body: { email: carol.email, password: "a-brand-new-one-7" } });
		const items = await list(login.body.accessToken);
		expect(items.find(n => n.template === "password-reset")).toMatchObject({ category: "security", title: "Password reset requested" });
		// the in-app record, the delivery rows, every answer: none holds the token
		const rows = await p.broker.call("deliveries.forNotification", { notificationId: items.find(n => n.template === "password-reset").id });
		expect(JSON.stringify(rows)).not.toContain(token);
		for (const r of p.responses.slice(responses)) expect(JSON.stringify(r.body)).not.toContain(token);
	});

	it("a lead assigned by a rule: the assignee is told, within the tenant only", async () => {
		const owner = await register("Olga");
		const rep = await register("Rex");
		const tenant = await p.http("POST", "/api/tenants", { token: owner.token, body: { name: "Acme", slug: `acme-${tag}` } });
		expect(tenant.status).toBe(201);
		const tid = tenant.body.id as string;
		await p.http("POST", `/api/tenants/${tid}/invitations`, { token: owner.token, body: { email: rep.email, role: "member" } });
		const invitation = (await p.http("GET", "/api/tenants/invitations", { token: rep.token })).body.rows[0];
		expect((await p.http("POST", `/api/tenants/invitations/${invitation.id}/accept`, { token: rep.token })).status).toBe(201);
		const scoped = async (a: Account) =>
			(await p.http("POST", "/api/auth/switch-tenant", { token: a.token, body: { tenantId: tid } })).body.accessToken as string;
		const ownerT = await scoped(owner);
		const repT = await scoped(rep);
		const { events } = await openSocket(repT);
		const { events: unscopedEvents } = await openSocket(rep.token);

		expect(
			(await p.http("POST", "/api/assignment/rules", { token: ownerT, body: { name: "All to Rex", strategy: "fixed", fixedUserId: rep.id } }))
				.status,
		).toBe(201);
		const lead = await p.http("POST", "/api/leads", {
			token: ownerT,
			body: { name: "Wayne Enterprises", company: "Wayne", email: "bruce@wayne.test" },
		});
		expect(lead.status).toBe(201);

		const [n] = await until(
			async () => {
				const items = await list(repT, "?category=assignments");
				return items.length ? items : null;
			},
			{ what: "the assignment notification" },
		);
		expect(n).toMatchObject({
			tenantId: tid,
			title: "New lead: Wayne Enterprises",
			body: "Wayne Enterprises (Wayne) is assigned to you.",
			link: `https://app.valence.test/leads/${lead.body.id}`,
		});
		await until(() => events.find(e => e.event === "notification"), { what: "the scoped socket event" });
		expect(await list(rep.token, "?category=assignments")).toEqual([]); // not outside the tenant
		expect(unscopedEvents.filter(e => e.event === "notification")).toEqual([]);
		// (the rep's first e-mail is their invitation to the tenant)
		const assignment = () => mailsTo(rep.email).filter(m => !m.subject?.includes(" invited you to "));
		const [mail] = await until(() => (assignment().length ? assignment() : null), { what: "the assignment e-mail" });
		expect(mail.subject).toBe("New lead assigned to you: Wayne Enterprises");
		// the owner assigned nothing to themselves: told nothing
		expect(await list(ownerT, "?category=assignments")).toEqual([]);
	});

	it("comments and mentions: the author is told of a comment; a mention tells those who may see the post", async () => {
		const ann = await register("Ann");
		const ben = await register("Ben");
		const cat = await register("Cat");
		const dan = await register("Dan");
		expect((await p.http("POST", `/api/users/${ann.id}/follow`, { token: cat.token })).status).toBe(200);
		// followers-only post mentioning a stranger (Dan), someone who does not exist, and a follower (Cat): in that
		// order, so that when Cat has been told, the other two have been considered
		const post = await p.http("POST", "/api/posts", {
			token: ann.token,
			body: { text: `for friends @${dan.id} and @nobody and @${cat.id}`, visibility: "followers" },
		});
		expect(post.status).toBe(201);
		const mention = await until(async () => (await list(cat, "?category=mentions"))[0], { what: "cat's mention" });
		expect(mention).toMatchObject({
			title: "Ann mentioned you",
			body: "Ann mentioned you in a post.",
			link: `https://app.valence.test/posts/${post.body.id}`,
		});

		const pub = await p.http("POST", "/api/posts", { token: ann.token, body: { text: "a public post" } });
		const comment = await p.http("POST", `/api/posts/${pub.body.id}/comments`, { token: ben.token, body: { text: `nice! @${dan.id} look` } });
		expect(comment.status).toBe(201);
		const told = await until(async () => (await list(ann, "?category=comments"))[0], { what: "ann told of the comment" });
		expect(told).toMatchObject({ body: "Ben commented on your post.", link: `https://app.valence.test/posts/${pub.body.id}` });
		const danMention = await until(async () => (await list(dan, "?category=mentions"))[0], { what: "dan's mention in the comment" });
		expect(danMention.body).toBe("Ben mentioned you in a comment.");
		// Dan may not see the followers-only post: that mention told him nothing; commenting on your own post tells nobody
		expect(await list(dan, "?category=mentions")).toHaveLength(1);
		await p.http("POST", `/api/posts/${pub.body.id}/comments`, { token: ann.token, body: { text: "thanks" } });
		await p.http("POST", `/api/posts/${pub.body.id}/comments`, { token: ben.token, body: { text: "marker" } });
		await until(async () => (await list(ann, "?category=comments")).length === 2, { what: "the marker comment" });
		expect((await list(ann, "?category=comments")).map(n => n.body)).toEqual(["Ben commented on your post.", "Ben commented on your post."]);
	});

	it("without SMTP (the embedded default), writes the reset mail as an .eml under DATA_DIR/mail and logs where", async () => {
		const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-mail-"));
		const logged: string[] = [];
		const spies = (["log", "info", "warn", "error", "debug"] as const).map(m =>
			jest
				.spyOn(console, m)
				.mockImplementation(
					(...args: unknown[]) => void logged.push(args.map(a => (typeof a === "string" ? a : JSON.stringify(a))).join(" ")),
				),
		);
		const q = await startPlatform({
			services: ["auth", "users", "tenants", "platform"],
			env: { PASSWORD_SCRYPT_N: "1024", DATA_DIR: dataDir, DB_DRIVER: "nedb", SMTP_URL: "", LOG_LEVEL: "info", APP_URL: "" },
		});
		try {
			const email = `dev-${tag}@example.com`;
			expect((await q.http("POST", "/api/auth/register", { body: { email, password: PASSWORD, name: "Dev" } })).status).toBe(201);
			expect((await q.http("POST", "/api/auth/password/forgot", { body: { email } })).status).toBe(202);
			const mailDir = path.join(dataDir, "mail");
			const file = await until(() => (fs.existsSync(mailDir) ? fs.readdirSync(mailDir).find(f => f.endsWith(".eml")) : undefined), {
				what: "the .eml file",
			});
			const mail = await simpleParser(fs.readFileSync(path.join(mailDir, file)));
			expect((mail.to as { text: string }).text).toBe(email);
			const token = decodeURIComponent(/reset-password\?token=([\w%-]+)/.exec(mail.text ?? "")![1]);
			// APP_URL unset: the link points at http://localhost:<PORT> (PORT is 0 in tests, so the default 3000)
			expect(mail.text).toMatch(/http:\/\/localhost:\d+\/reset-password\?token=/);
			expect(logged.join("\n")).toContain(path.join(mailDir, file));
			expect(logged.join("\n")).not.toContain(token);
			expect((await q.http("POST", "/api/auth/password/reset", { body: { token, password: "fresh-password-77" } })).status).toBe(204);
		} finally {
			spies.forEach(s => s.mockRestore());
			await q.stop();
			fs.rmSync(dataDir, { recursive: true, force: true });
		}
	});
});
