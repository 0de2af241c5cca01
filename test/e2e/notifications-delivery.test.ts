/**
 * Delivery by e-mail and Web Push, against a real SMTP server and a fake push service in this process
 * (both on 127.0.0.1): what arrives and how it reads, preferences, quiet hours, outages (delayed, never
 * lost), temporary and final refusals, dead letters and their replay, 410 Gone, subscription checks.
 */
import { randomUUID } from "node:crypto";
import { listDeadLetters, replayDeadLetters } from "../../lib/dead-letters";
import { startFakePush, type FakePush, type FakeSubscription } from "../helpers/fake-push";
import { startPlatform, type Platform } from "../helpers/platform";
import { startSmtpSink, type SmtpSink } from "../helpers/smtp-sink";
import { waitFor } from "../helpers/wait";

/** waitFor for a value: resolves with it once it is there. */
// A generous deadline: these effects cross channels and (in CI) share two cores with other suites.
const until = async <T>(check: () => Promise<T> | T, opts?: Parameters<typeof waitFor>[1]) =>
	(await waitFor(check, { timeoutMs: 20_000, ...opts })) as NonNullable<T>;

interface Delivery {
	id: string;
	channel: "email" | "push";
	status: string;
	attempts: number;
	reason: string | null;
	dueAt: string;
	lastError: string | null;
}

describe("notification delivery: e-mail and Web Push", () => {
	let p: Platform;
	let smtp: SmtpSink;
	let push: FakePush;
	const tag = randomUUID().slice(0, 8);
	let n = 0;

	async function account(name: string) {
		const email = `${name}-${tag}-${++n}@example.com`;
		const res = (await p.broker.call("auth.register", { email, password: "deliver-horse-42", name })) as { user: { id: string } };
		return { id: res.user.id, email, token: p.token({ sub: res.user.id }) };
	}
	const prefs = (token: string, body: unknown) => p.http("PUT", "/api/notifications/preferences", { token, body });
	const follow = (userId: string, followerName: string, eventId = randomUUID()) =>
		p.broker.call("notifications.send", {
			userId,
			template: "new-follower",
			vars: { follower: { id: "fol-1", name: followerName } },
			eventId,
		}) as Promise<{
			notification: { id: string };
			channels: string[];
			heldUntil: string | null;
		}>;
	const deliveries = (notificationId: string) => p.broker.call("deliveries.forNotification", { notificationId }) as Promise<Delivery[]>;
	const deliveryOf = async (notificationId: string, channel: "email" | "push") =>
		(await deliveries(notificationId)).find(d => d.channel === channel);
	const mailsTo = (address: string) => smtp.mails.filter(m => (m.to as { text: string } | undefined)?.text === address);
	async function subscribe(token: string): Promise<FakeSubscription & { subscriptionId: string }> {
		const sub = push.subscription();
		const res = await p.http("POST", "/api/notifications/push-subscriptions", { token, body: { endpoint: sub.endpoint, keys: sub.keys } });
		expect(res.status).toBe(201);
		return { ...sub, subscriptionId: res.body.id };
	}

	beforeAll(async () => {
		smtp = await startSmtpSink();
		push = await startFakePush();
		p = await startPlatform({
			services: ["platform", "auth", "users"],
			env: {
				PASSWORD_SCRYPT_N: "1024",
				SMTP_URL: smtp.url,
				MAIL_FROM: "Valence <no-reply@valence.test>",
				MAIL_TIMEOUT_MS: "2000",
				PUSH_ALLOW_HTTP: "true",
				PUSH_ALLOWED_HOSTS: "127.0.0.1",
				PUSH_TIMEOUT_MS: "1000",
				CHANNELS_RETRY_DELAY_MS: "40",
				NOTIFY_DELIVERY_RETRIES: "6",
				NOTIFY_BREAKER_THRESHOLD: "3",
				NOTIFY_BREAKER_COOLDOWN_MS: "200",
				APP_URL: "https://app.valence.test",
			},
		});
	}, 30_000);
	afterAll(async () => {
		await p?.stop();
		await smtp?.close();
		await push?.close();
	});

	it("e-mails a notification the user asked e-mail for, with variables escaped in the HTML", async () => {
		const bob = await account("bob");
		expect((await prefs(bob.token, { categories: { follows: { email: true, push: false } } })).status).toBe(200);
		const { notification, channels } = await follow(bob.id, `<img src=x onerror=alert(1)> Eve & "Co"`);
		expect(channels).toEqual(["inApp", "email"]);
		const [mail] = await until(() => (mailsTo(bob.email).length ? mailsTo(bob.email) : null), { what: "the e-mail" });
		expect(mail.subject).toBe(`<img src=x onerror=alert(1)> Eve & "Co" is now following you`);
		expect(mail.from?.value[0]).toMatchObject({ name: "Valence", address: "no-reply@valence.test" });
		expect(mail.text).toContain(`<img src=x onerror=alert(1)> Eve & "Co" started following you on Valence:`);
		expect(mail.text).toContain("https://app.valence.test/users/fol-1");
		expect(mail.html).toContain("&lt;img src=x onerror=alert(1)&gt; Eve &amp; &#34;Co&#34;</a> started following you");
		expect(mail.html).not.toContain("<img");
		expect(mail.html).toContain(`Hi bob,`);
		const email = await until(async () => {
			const d = await deliveryOf(notification.id, "email");
			return d?.status === "sent" ? d : null;
		});
		expect(mail.messageId).toBe(`<${email.id}@valence.test>`);
		expect(await deliveryOf(notification.id, "push")).toBeUndefined(); // push is off for follows now
	});

	it("hands over a notification its node stored but died before handing to deliveries (the handoff is in the same write)", async () => {
		const dan = await account("dan");
		expect((await prefs(dan.token, { categories: { follows: { email: true, push: false } } })).status).toBe(200);
		const sub = await subscribe(dan.token);
		expect((await prefs(dan.token, { categories: { follows: { email: true, push: true } } })).status).toBe(200);
		const svc = p.broker.getLocalService("notifications") as unknown as {
			adapter: { insert(row: object): Promise<{ _id: string }> };
			handOverPending(): Promise<number>;
		};
		// what a node leaves when it dies right after storing the notification: the row, its handoff, no delivery rows
		const old = new Date(Date.now() - 60_000).toISOString();
		const row = await svc.adapter.insert({
			_id: `n-${randomUUID()}`,
			tenantId: null,
			userId: dan.id,
			eventId: randomUUID(),
			category: "follows",
			template: "new-follower",
			title: "Orphan started following you",
			body: "Orphan started following you.",
			link: null,
			data: { follower: { id: "fol-9", name: "Orphan" } },
			readAt: null,
			inApp: true,
			handoff: {
				channels: ["email", "push"],
				vars: {
					follower: { id: "fol-9", name: "Orphan" },
					recipient: { id: dan.id, name: "dan" },
					app: { name: "Valence", url: "https://app.valence.test" },
				},
				notBefore: null,
			},
			createdAt: old,
			updatedAt: old,
		});
		expect(await deliveries(row._id)).toEqual([]);
		expect(await svc.handOverPending()).toBe(1);
		const [mail] = await until(() => (mailsTo(dan.email).length ? mailsTo(dan.email) : null), { what: "the e-mail" });
		expect(mail.subject).toBe("Orphan is now following you");
		await until(() => push.received.find(r => r.subscription === sub.id && r.payload.id === row._id), { what: "the push" });
		await until(async () => (await deliveries(row._id)).every(d => d.status === "sent") || null, { what: "both sent" });
		// handed over once: the next sweep finds nothing left
		expect(await svc.handOverPending()).toBe(0);
	});

	it("sends nothing by e-mail where the preferences say no (follows: push and in-app by default)", async () => {
		const cat = await account("cat");
		const { channels, notification } = await follow(cat.id, "Dan");
		expect(channels).toEqual(["inApp", "push"]);
		const push1 = await until(async () => {
			const d = await deliveryOf(notification.id, "push");
			return d?.status === "skipped" ? d : null;
		});
		expect(push1.reason).toBe("no push subscription");
		expect(await deliveryOf(notification.id, "email")).toBeUndefined();
		expect(mailsTo(cat.email)).toEqual([]);
	});

	it("pushes to every subscription of the user; the push service decrypts what the user would see", async () => {
		const dee = await account("dee");
		const key = await p.http("GET", "/api/notifications/push-subscriptions/key", { token: dee.token });
		expect(key.body.publicKey).toMatch(/^[A-Za-z0-9_-]{87}$/);
		const phone = await subscribe(dee.token);
		const laptop = await subscribe(dee.token);
		const listed = await p.http("GET", "/api/notifications/push-subscriptions", { token: dee.token });
		expect(listed.body.rows.map((r: { id: string }) => r.id).sort()).toEqual([phone.subscriptionId, laptop.subscriptionId].sort());

		const { notification } = await follow(dee.id, "Fran");
		const got = await until(
			() => {
				const r = push.received.filter(x => x.subscription === phone.id || x.subscription === laptop.id);
				return r.length >= 2 ? r : null;
			},
			{ what: "two pushes" },
		);
		expect(push.errors).toEqual([]);
		for (const r of got) {
			expect(r.payload).toEqual({
				id: notification.id,
				category: "follows",
				tenantId: null,
				title: "New follower",
				body: "Fran started following you.",
				link: "https://app.valence.test/users/fol-1",
				createdAt: expect.any(String),
			});
			expect(r.vapid).toMatchObject({ aud: push.baseUrl, sub: "mailto:admin@localhost", publicKey: key.body.publicKey });
			expect(Number(r.headers.ttl)).toBe(86400);
		}
		const d = await until(async () => {
			const x = await deliveryOf(notification.id, "push");
			return x?.status === "sent" ? x : null;
		});
		expect(got[0].headers.topic).toBe(d.id);
		// no resend happened
		expect(push.received.filter(x => x.subscription === phone.id)).toHaveLength(1);
	});

	it("removes a subscription the push service says is gone (410), and still serves the others", async () => {
		const eli = await account("eli");
		const gone = await subscribe(eli.token);
		const live = await subscribe(eli.token);
		push.respond(gone.id, 410);
		const { notification } = await follow(eli.id, "Gus");
		await until(async () => (await deliveryOf(notification.id, "push"))?.status === "sent", { what: "the push delivered" });
		const listed = await p.http("GET", "/api/notifications/push-subscriptions", { token: eli.token });
		expect(listed.body.rows.map((r: { id: string }) => r.id)).toEqual([live.subscriptionId]);
		// only gone ones left: skipped, and the list is empty
		push.respond(live.id, 404);
		const second = await follow(eli.id, "Hal");
		const d = await until(async () => {
			const x = await deliveryOf(second.notification.id, "push");
			return x?.status === "skipped" ? x : null;
		});
		expect(d.reason).toBe("every subscription is gone");
		expect((await p.http("GET", "/api/notifications/push-subscriptions", { token: eli.token })).body.rows).toEqual([]);
	});

	it("retries a push service that fails (5xx) with backoff, and delivers once it answers", async () => {
		const fay = await account("fay");
		const sub = await subscribe(fay.token);
		push.respond(sub.id, 503, 2);
		const { notification } = await follow(fay.id, "Ike");
		const d = await until(
			async () => {
				const x = await deliveryOf(notification.id, "push");
				return x?.status === "sent" ? x : null;
			},
			{ what: "the push after two failures" },
		);
		expect(d.attempts).toBe(2);
		const answers = push.received.filter(x => x.subscription === sub.id).map(x => x.status);
		expect(answers).toEqual([503, 503, 201]);
	});

	it("checks a subscription before storing it: https on a known push service, a real P-256 key, a 16-byte secret", async () => {
		const gil = await account("gil");
		const good = push.subscription();
		const cases: [string, unknown, string][] = [
			["endpoint host", { endpoint: "http://10.0.0.1/push/x", keys: good.keys }, "endpoint"],
			["not a URL", { endpoint: "not a url at all", keys: good.keys }, "endpoint"],
			["credentials", { endpoint: good.endpoint.replace("http://", "http://u:p@"), keys: good.keys }, "endpoint"],
			[
				"key not on the curve",
				{
					endpoint: good.endpoint,
					keys: { ...good.keys, p256dh: Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 7)]).toString("base64url") },
				},
				"keys.p256dh",
			],
			["short secret", { endpoint: good.endpoint, keys: { ...good.keys, auth: Buffer.alloc(8).toString("base64url") } }, "keys.auth"],
		];
		for (const [what, body, field] of cases) {
			const res = await p.http("POST", "/api/notifications/push-subscriptions", { token: gil.token, body });
			expect({ what, status: res.status }).toEqual({ what, status: 422 });
			expect(res.body.errors.map((e: { field: string }) => e.field)).toContain(field);
		}
		const long = await p.http("POST", "/api/notifications/push-subscriptions", {
			token: gil.token,
			body: { endpoint: `${good.endpoint}?${"x".repeat(2100)}`, keys: good.keys },
		});
		expect(long.status).toBe(422);
		expect((await p.http("GET", "/api/notifications/push-subscriptions", { token: gil.token })).body.rows).toEqual([]);
		// the same browser subscribing again is one subscription; someone else's id is 404; unsubscribe
		const first = await p.http("POST", "/api/notifications/push-subscriptions", { token: gil.token, body: good });
		const again = await p.http("POST", "/api/notifications/push-subscriptions", { token: gil.token, body: good });
		expect([first.status, again.status]).toEqual([201, 200]);
		expect(again.body.id).toBe(first.body.id);
		const other = await account("hub");
		expect((await p.http("DELETE", `/api/notifications/push-subscriptions/${first.body.id}`, { token: other.token })).status).toBe(404);
		expect((await p.http("DELETE", `/api/notifications/push-subscriptions/${first.body.id}`, { token: gil.token })).status).toBe(204);
		expect((await p.http("GET", "/api/notifications/push-subscriptions", { token: gil.token })).body.rows).toEqual([]);
	});

	it("holds e-mail and push during the user's quiet hours (in their time zone), in-app is not held", async () => {
		const ivy = await account("ivy");
		await subscribe(ivy.token);
		// Tokyo has no daylight saving: local time is UTC+9 all year, so the expected end is plain arithmetic here.
		const tokyo = new Date(Date.now() + 9 * 3600_000);
		const hhmm = (d: Date) => d.toISOString().slice(11, 16);
		const start = hhmm(new Date(tokyo.getTime() - 60 * 60_000));
		const endLocal = new Date(tokyo.getTime() + 90 * 60_000);
		expect(
			(await prefs(ivy.token, { categories: { follows: { email: true } }, quietHours: { start, end: hhmm(endLocal) }, timeZone: "Asia/Tokyo" }))
				.status,
		).toBe(200);
		const expectedEnd = new Date(Math.floor((endLocal.getTime() - 9 * 3600_000) / 60_000) * 60_000).toISOString();

		const { notification, heldUntil } = await follow(ivy.id, "Jo");
		expect(heldUntil).toBe(expectedEnd);
		// in-app at once
		expect((await p.http("GET", "/api/notifications", { token: ivy.token })).body.items[0].id).toBe(notification.id);
		const held = await deliveries(notification.id);
		expect(held.map(d => [d.channel, d.status, d.dueAt])).toEqual([
			["email", "held", expectedEnd],
			["push", "held", expectedEnd],
		]);
		// the scheduler running now leaves them alone
		await p.broker.call("deliveries.release", {});
		expect((await deliveries(notification.id)).map(d => d.status)).toEqual(["held", "held"]);
		expect(mailsTo(ivy.email)).toEqual([]);
		// when the quiet hours are over, both go
		await p.broker.call("deliveries.release", { asOf: expectedEnd });
		await until(async () => (await deliveries(notification.id)).every(d => d.status === "sent"), {
			what: "both delivered after the quiet hours",
		});
		expect(mailsTo(ivy.email)).toHaveLength(1);
	});

	it("rides out an SMTP outage: retries with backoff, delivers once the server is back", async () => {
		const jan = await account("jan");
		await prefs(jan.token, { categories: { follows: { email: true, push: false } } });
		await smtp.down();
		const { notification } = await follow(jan.id, "Kim");
		await until(async () => ((await deliveryOf(notification.id, "email"))?.attempts ?? 0) >= 2, { what: "two failed attempts" });
		const during = (await deliveryOf(notification.id, "email"))!;
		expect(during.status).not.toBe("sent");
		expect(during.lastError).toMatch(/SMTP server is not available/);
		await smtp.up();
		await until(async () => (await deliveryOf(notification.id, "email"))?.status === "sent", {
			what: "the e-mail after the outage",
			timeoutMs: 15_000,
		});
		expect(mailsTo(jan.email)).toHaveLength(1);
	});

	it("retries a temporary refusal (451); a final one (550) fails without retries or dead letter", async () => {
		const kai = await account("kai");
		await prefs(kai.token, { categories: { follows: { email: true, push: false } } });
		smtp.failNext(2);
		const { notification } = await follow(kai.id, "Lu");
		const d = await until(
			async () => {
				const x = await deliveryOf(notification.id, "email");
				return x?.status === "sent" ? x : null;
			},
			{ what: "the e-mail after two 451" },
		);
		expect(d.attempts).toBe(2);
		expect(mailsTo(kai.email)).toHaveLength(1);

		const lea = await account("lea");
		await prefs(lea.token, { categories: { follows: { email: true, push: false } } });
		smtp.refuse(lea.email);
		const refused = await follow(lea.id, "Mo");
		const f = await until(async () => {
			const x = await deliveryOf(refused.notification.id, "email");
			return x?.status === "failed" ? x : null;
		});
		expect(f).toMatchObject({ attempts: 1, reason: "refused" });
		expect(f.lastError).toMatch(/550/);
		expect((await listDeadLetters(p.broker)).filter(x => (x.payload as { deliveryId?: string }).deliveryId === f.id)).toEqual([]);
	});

	it("moves a delivery that keeps failing to the dead letters; a replay after the fix delivers it once", async () => {
		const max = await account("max");
		await prefs(max.token, { categories: { follows: { email: true, push: false } } });
		await smtp.down();
		const { notification } = await follow(max.id, "Ned");
		const dead = await until(
			async () => (await listDeadLetters(p.broker)).find(x => (x.payload as { notificationId?: string }).notificationId === notification.id),
			{ what: "the dead letter", timeoutMs: 20_000 },
		);
		expect(dead.channel).toBe("notifications.deliver.email");
		// embedded, a message is delivered 1 + NOTIFY_DELIVERY_RETRIES times before it is dead-lettered (lib/channels.ts)
		expect(await deliveryOf(notification.id, "email")).toMatchObject({ status: "failed", attempts: 7 });
		await smtp.up();
		// a sweep does not resurrect it: a failed delivery waits for an operator
		await p.broker.call("deliveries.release", {});
		expect(mailsTo(max.email)).toEqual([]);
		await replayDeadLetters(p.broker, dead.id);
		await until(async () => (await deliveryOf(notification.id, "email"))?.status === "sent", { what: "the replayed e-mail", timeoutMs: 15_000 });
		expect(mailsTo(max.email)).toHaveLength(1);
	});

	it("removes the rows of deliveries that are over once they are a week old, never those still pending", async () => {
		const ona = await account("ona");
		await prefs(ona.token, { categories: { follows: { email: true, push: false } }, quietHours: null });
		const done = await follow(ona.id, "Pat");
		await until(async () => (await deliveryOf(done.notification.id, "email"))?.status === "sent", { what: "a sent e-mail" });
		// a pending one: held by quiet hours that cover the whole day but one minute
		const now = new Date();
		const hhmm = (d: Date) => d.toISOString().slice(11, 16);
		await prefs(ona.token, {
			quietHours: { start: hhmm(new Date(now.getTime() - 60_000)), end: hhmm(new Date(now.getTime() - 120_000)) },
			timeZone: "UTC",
		});
		const held = await follow(ona.id, "Quin");
		expect((await deliveryOf(held.notification.id, "email"))!.status).toBe("held");
		// "a week from now": everything over is older than that
		const pruned = (await p.broker.call("deliveries.prune", { before: new Date(Date.now() + 60_000).toISOString() })) as number;
		expect(pruned).toBeGreaterThan(0);
		expect(await deliveries(done.notification.id)).toEqual([]);
		expect((await deliveryOf(held.notification.id, "email"))!.status).toBe("held");
		// the notifications themselves stay
		expect((await p.http("GET", "/api/notifications", { token: ona.token })).body.items).toHaveLength(2);
		// by default only rows older than a week go
		await follow(ona.id, "Ray");
		expect(await p.broker.call("deliveries.prune", {})).toBe(0);
	});
});
