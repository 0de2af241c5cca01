/**
 * Notifications over HTTP (`/api/notifications`) and the internal `notifications.send` (action and
 * channel): the list (newest first, cursor, filters, catch-up), unread count, read, read-all, delete,
 * idempotency by eventId, validation, tenant scoping, preferences.
 */
import { randomUUID } from "node:crypto";
import { listDeadLetters } from "../../lib/dead-letters";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

describe("notifications API", () => {
	let p: Platform;
	const tag = randomUUID().slice(0, 8);
	const ids = { ann: "", ben: "", cid: "" };
	let tenantA = "";
	let tenantB = "";
	const tokenOf = (sub: string, tid: string | null = null) => p.token({ sub, tid, roles: tid ? ["member"] : [] });

	const send = (userId: string, eventId: string, extra: Record<string, unknown> = {}, meta: Record<string, unknown> = { user: null }) =>
		p.broker.call(
			"notifications.send",
			{ userId, template: "new-follower", vars: { follower: { id: "f1", name: "Fay" } }, eventId, ...extra },
			{ meta },
		) as Promise<{
			notification: { id: string; tenantId: string | null; title: string };
			created: boolean;
			channels: string[];
		}>;

	beforeAll(async () => {
		p = await startPlatform({
			services: ["platform", "auth", "users", "tenants"],
			env: { PASSWORD_SCRYPT_N: "1024", CHANNELS_RETRY_DELAY_MS: "5" },
		});
		for (const name of ["ann", "ben", "cid"] as const) {
			const res = (await p.broker.call("auth.register", { email: `${name}-${tag}@example.com`, password: "notify-horse-42", name })) as {
				user: { id: string };
			};
			ids[name] = res.user.id;
		}
		const a = (await p.broker.call(
			"tenants.createTenant",
			{ name: "Acme", slug: `acme-${tag}` },
			{ meta: { user: { id: ids.ann, tenantId: null, roles: [] } } },
		)) as { id: string };
		const b = (await p.broker.call(
			"tenants.createTenant",
			{ name: "Bolt", slug: `bolt-${tag}` },
			{ meta: { user: { id: ids.cid, tenantId: null, roles: [] } } },
		)) as { id: string };
		tenantA = a.id;
		tenantB = b.id;
		await p.broker.call("tenants.addMember", { id: tenantA, userId: ids.ben, role: "member" });
	}, 30_000);
	afterAll(() => p?.stop());

	it("lists my notifications newest first, pages with a cursor, filters, counts unread, catches up", async () => {
		const user = ids.ben;
		const made: string[] = [];
		for (let i = 0; i < 5; i++)
			made.push((await send(user, `list-${tag}-${i}`, { vars: { follower: { id: `f${i}`, name: `Follower ${i}` } } })).notification.id);
		const token = tokenOf(user);
		const page1 = await p.http("GET", "/api/notifications?limit=2", { token });
		expect(page1.status).toBe(200);
		expect(page1.body.items.map((n: { id: string }) => n.id)).toEqual([made[4], made[3]]);
		expect(page1.body.items[0]).toMatchObject({
			userId: user,
			tenantId: null,
			category: "follows",
			template: "new-follower",
			title: "New follower",
			body: "Follower 4 started following you.",
			link: expect.stringMatching(/\/users\/f4$/),
			readAt: null,
			data: { follower: { id: "f4", name: "Follower 4" } },
		});
		expect(new Date(page1.body.items[0].createdAt).toISOString()).toBe(page1.body.items[0].createdAt);
		expect(page1.body.unreadCount).toBe(5);
		const page2 = await p.http("GET", `/api/notifications?limit=2&cursor=${page1.body.nextCursor}`, { token });
		expect(page2.body.items.map((n: { id: string }) => n.id)).toEqual([made[2], made[1]]);
		const page3 = await p.http("GET", `/api/notifications?limit=2&cursor=${page2.body.nextCursor}`, { token });
		expect(page3.body.items.map((n: { id: string }) => n.id)).toEqual([made[0]]);
		expect(page3.body.nextCursor).toBeNull();
		// catching up after being offline: only what is newer than the newest one I have
		const newer = await p.http("GET", `/api/notifications?after=${made[2]}`, { token });
		expect(newer.body.items.map((n: { id: string }) => n.id)).toEqual([made[4], made[3]]);

		expect((await p.http("GET", "/api/notifications/unread-count", { token })).body).toEqual({ unreadCount: 5 });
		const read = await p.http("POST", `/api/notifications/${made[1]}/read`, { token });
		expect(read.status).toBe(200);
		expect(read.body.readAt).toEqual(expect.any(String));
		const again = await p.http("POST", `/api/notifications/${made[1]}/read`, { token });
		expect(again.body.readAt).toBe(read.body.readAt); // idempotent
		expect((await p.http("GET", "/api/notifications/unread-count", { token })).body).toEqual({ unreadCount: 4 });
		const unread = await p.http("GET", "/api/notifications?unread=true&limit=100", { token });
		expect(unread.body.items.map((n: { id: string }) => n.id)).not.toContain(made[1]);
		expect(unread.body.items).toHaveLength(4);
		const readOnes = await p.http("GET", "/api/notifications?unread=false", { token });
		expect(readOnes.body.items.map((n: { id: string }) => n.id)).toEqual([made[1]]);

		await send(user, `list-${tag}-lead`, { template: "comment", vars: { commenter: { id: "c1", name: "Cy" }, post: { id: "p1" } } });
		const comments = await p.http("GET", "/api/notifications?category=comments", { token });
		expect(comments.body.items).toHaveLength(1);
		expect(comments.body.items[0]).toMatchObject({ category: "comments", body: "Cy commented on your post." });

		const all = await p.http("POST", "/api/notifications/read-all", { token, body: { category: "follows" } });
		expect(all.body).toEqual({ updated: 4, unreadCount: 1 });
		expect((await p.http("POST", "/api/notifications/read-all", { token })).body).toEqual({ updated: 1, unreadCount: 0 });

		expect((await p.http("DELETE", `/api/notifications/${made[0]}`, { token })).status).toBe(204);
		expect((await p.http("GET", `/api/notifications/${made[0]}`, { token })).status).toBe(404);
		expect((await p.http("DELETE", `/api/notifications/${made[0]}`, { token })).status).toBe(404);
	});

	it("answers 404 for another user's notification, on every route", async () => {
		const { notification } = await send(ids.ann, `private-${tag}`);
		const other = tokenOf(ids.cid);
		for (const [method, path] of [
			["GET", `/api/notifications/${notification.id}`],
			["POST", `/api/notifications/${notification.id}/read`],
			["DELETE", `/api/notifications/${notification.id}`],
		] as const) {
			const res = await p.http(method, path, { token: other });
			expect(res.status).toBe(404);
			expect(res.body.code).toBe("NOT_FOUND");
		}
		expect((await p.http("GET", "/api/notifications", { token: other })).body.items.map((n: { id: string }) => n.id)).not.toContain(
			notification.id,
		);
		// and it is untouched
		expect((await p.http("GET", `/api/notifications/${notification.id}`, { token: tokenOf(ids.ann) })).body.readAt).toBeNull();
	});

	it("needs a token on every route", async () => {
		for (const [method, path] of [
			["GET", "/api/notifications"],
			["GET", "/api/notifications/unread-count"],
			["GET", "/api/notifications/x"],
			["POST", "/api/notifications/x/read"],
			["POST", "/api/notifications/read-all"],
			["DELETE", "/api/notifications/x"],
			["GET", "/api/notifications/preferences"],
			["PUT", "/api/notifications/preferences"],
			["GET", "/api/notifications/templates"],
			["GET", "/api/notifications/push-subscriptions"],
			["POST", "/api/notifications/push-subscriptions"],
		] as const)
			expect({ path, status: (await p.http(method, path)).status }).toEqual({ path, status: 401 });
	});

	it("accepts push subscriptions only over https on a known push service (no PUSH_ALLOW_HTTP here)", async () => {
		const token = tokenOf(ids.ann);
		const keys = {
			p256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
			auth: "tBHItJI5svbpez7KI4CCXg",
		};
		const plain = await p.http("POST", "/api/notifications/push-subscriptions", {
			token,
			body: { endpoint: "http://fcm.googleapis.com/fcm/send/abc", keys },
		});
		expect(plain.status).toBe(422);
		expect(plain.body.errors).toEqual([{ field: "endpoint", message: "must be an https:// URL" }]);
		const local = await p.http("POST", "/api/notifications/push-subscriptions", {
			token,
			body: { endpoint: "https://127.0.0.1/push/abc", keys },
		});
		expect(local.status).toBe(422);
		expect((await p.http("GET", "/api/notifications/push-subscriptions", { token })).body.rows).toEqual([]);
		// a real push service's endpoint is stored (and nothing is sent to it here)
		const fcm = await p.http("POST", "/api/notifications/push-subscriptions", {
			token,
			body: { endpoint: "https://fcm.googleapis.com/fcm/send/abc-123", keys },
		});
		expect(fcm.status).toBe(201);
		expect(fcm.headers.get("location")).toBe(`/api/notifications/push-subscriptions/${fcm.body.id}`);
		expect((await p.http("DELETE", `/api/notifications/push-subscriptions/${fcm.body.id}`, { token })).status).toBe(204);
		// a body over BODY_LIMIT never reaches the service
		const huge = await p.http("POST", "/api/notifications/push-subscriptions", {
			token,
			body: { endpoint: "https://fcm.googleapis.com/x", keys, pad: "x".repeat(1_100_000) },
		});
		expect(huge.status).toBe(413);
	});

	it("is idempotent by eventId, also for concurrent repeats", async () => {
		const eventId = `idem-${tag}`;
		const first = await send(ids.cid, eventId);
		const again = await send(ids.cid, eventId, { vars: { follower: { id: "other", name: "Changed" } } });
		expect(first.created).toBe(true);
		expect(again.created).toBe(false);
		expect(again.notification).toEqual(first.notification);

		const before = (await p.broker.call("notifications.countFor", { userId: ids.cid })) as number;
		const burst = await Promise.all(Array.from({ length: 8 }, () => send(ids.cid, `idem-burst-${tag}`)));
		expect(burst.filter(r => r.created)).toHaveLength(1);
		expect(new Set(burst.map(r => r.notification.id)).size).toBe(1);
		expect(await p.broker.call("notifications.countFor", { userId: ids.cid })).toBe(before + 1);
	});

	it("refuses bad input with 422 naming the field, and stores nothing", async () => {
		const userId = `nobody-${tag}`;
		const attempt = (params: Record<string, unknown>) =>
			p.broker
				.call("notifications.send", {
					userId,
					template: "new-follower",
					vars: { follower: { id: "f", name: "F" } },
					eventId: randomUUID(),
					...params,
				})
				.then(
					() => null,
					(err: { code: number; data: unknown; type: string }) => err,
				);
		const unknownTemplate = await attempt({ template: "no-such-message" });
		expect(unknownTemplate).toMatchObject({ code: 422, data: [{ field: "template" }] });
		const missing = await attempt({ vars: { follower: { id: "f" } } });
		expect(missing).toMatchObject({ code: 422, data: [{ field: "vars.follower.name" }] });
		const tooBig = await attempt({ vars: { follower: { id: "f", name: "x".repeat(9000) } } });
		expect(tooBig).toMatchObject({ code: 422 });
		const longId = await attempt({ eventId: "e".repeat(201) });
		expect(longId).toMatchObject({ code: 422 });
		const extra = await attempt({ sneaky: true });
		expect(extra).toMatchObject({ code: 422 });
		const badCategory = await attempt({ category: "gossip" });
		expect(badCategory).toMatchObject({ code: 422 });
		expect(await p.broker.call("notifications.countFor", { userId })).toBe(0);

		const token = tokenOf(ids.ann);
		expect((await p.http("GET", "/api/notifications?limit=500", { token })).status).toBe(422);
		expect((await p.http("GET", "/api/notifications?search=x", { token })).status).toBe(422);
		expect((await p.http("GET", "/api/notifications?cursor=notacursor", { token })).status).toBe(400);
	});

	it("takes the same message on the channel notifications.send; a malformed one ends in the dead letters", async () => {
		const sendToChannel = (p.broker as unknown as { sendToChannel(c: string, m: unknown): Promise<void> }).sendToChannel.bind(p.broker);
		await sendToChannel("notifications.send", {
			userId: ids.ann,
			template: "new-follower",
			vars: { follower: { id: "ch", name: "Channel" } },
			eventId: `chan-${tag}`,
		});
		await waitFor(
			async () =>
				(await p.http("GET", "/api/notifications", { token: tokenOf(ids.ann) })).body.items.some(
					(n: { body: string }) => n.body === "Channel started following you.",
				),
			{
				what: "the channel's notification",
			},
		);
		await sendToChannel("notifications.send", { userId: ids.ann, template: "new-follower", eventId: `chan-bad-${tag}` });
		const dead = await waitFor(
			async () => (await listDeadLetters(p.broker)).find(d => (d.payload as { eventId?: string }).eventId === `chan-bad-${tag}`),
			{
				what: "the malformed message in the dead letters",
			},
		);
		expect(dead!.channel).toBe("notifications.send");
	});

	it("scopes to tenants: a tenant's message goes to its members only, and shows only under that tenant", async () => {
		const asTenant = (tenantId: string) => ({ user: { id: "system", tenantId, roles: ["owner"] } });
		// cid is not a member of tenant A: 404, like an unknown user, nothing stored
		const outsider = await send(
			ids.cid,
			`t-out-${tag}`,
			{ template: "lead-assigned", vars: { lead: { id: "l1", name: "Lead", company: null } } },
			asTenant(tenantA),
		).catch(e => e);
		expect(outsider).toMatchObject({ code: 404, type: "NOT_FOUND" });
		const before = (await p.broker.call("notifications.countFor", { userId: ids.cid })) as number;
		expect(before).toBeGreaterThanOrEqual(0);
		// a tenant-scoped caller cannot name another tenant in the params
		const forged = await send(
			ids.cid,
			`t-forged-${tag}`,
			{ tenantId: tenantB, template: "lead-assigned", vars: { lead: { id: "l1", name: "Lead", company: null } } },
			asTenant(tenantA),
		).catch(e => e);
		expect(forged).toMatchObject({ code: 404 });
		expect(await p.broker.call("notifications.countFor", { userId: ids.cid })).toBe(before);

		const { notification } = await send(
			ids.ben,
			`t-in-${tag}`,
			{ template: "lead-assigned", vars: { lead: { id: "l2", name: "Big Deal", company: "Initech" } } },
			asTenant(tenantA),
		);
		expect(notification).toMatchObject({ tenantId: tenantA, title: "New lead: Big Deal" });
		const inA = await p.http("GET", "/api/notifications?category=assignments", { token: tokenOf(ids.ben, tenantA) });
		expect(inA.body.items.map((n: { id: string }) => n.id)).toEqual([notification.id]);
		const noTenant = await p.http("GET", "/api/notifications?category=assignments", { token: tokenOf(ids.ben) });
		expect(noTenant.body.items).toEqual([]);
		expect((await p.http("GET", `/api/notifications/${notification.id}`, { token: tokenOf(ids.ben, tenantB) })).status).toBe(404);
		// the tenantless ones show in every scope
		const social = await p.http("GET", "/api/notifications?category=follows&limit=100", { token: tokenOf(ids.ben, tenantA) });
		expect(social.body.items.length).toBeGreaterThan(0);
	});

	it("keeps preferences per user: defaults, partial changes, quiet hours, validation", async () => {
		const token = tokenOf(ids.cid);
		const defaults = await p.http("GET", "/api/notifications/preferences", { token });
		expect(defaults.status).toBe(200);
		expect(defaults.body).toMatchObject({ quietHours: null, timeZone: "UTC" });
		expect(defaults.body.categories.follows).toEqual({ inApp: true, email: false, push: true });
		expect(defaults.body.categories.security).toEqual({ inApp: true, email: true, push: true });

		const changed = await p.http("PUT", "/api/notifications/preferences", {
			token,
			body: {
				categories: { follows: { email: true }, comments: { push: false } },
				quietHours: { start: "22:00", end: "07:30" },
				timeZone: "Europe/Paris",
			},
		});
		expect(changed.status).toBe(200);
		expect(changed.body.categories.follows).toEqual({ inApp: true, email: true, push: true });
		expect(changed.body.categories.comments).toEqual({ inApp: true, email: true, push: false });
		expect(changed.body).toMatchObject({ quietHours: { start: "22:00", end: "07:30" }, timeZone: "Europe/Paris" });
		const next = await p.http("PUT", "/api/notifications/preferences", { token, body: { categories: { follows: { push: false } } } });
		expect(next.body.categories.follows).toEqual({ inApp: true, email: true, push: false });
		expect(next.body.quietHours).toEqual({ start: "22:00", end: "07:30" });
		expect((await p.http("GET", "/api/notifications/preferences", { token })).body).toEqual(next.body);
		expect((await p.http("PUT", "/api/notifications/preferences", { token, body: { quietHours: null } })).body.quietHours).toBeNull();

		for (const body of [
			{ timeZone: "Mars/Olympus" },
			{ categories: { security: { email: false } } },
			{ categories: { gossip: { email: true } } },
			{ categories: { follows: { email: "yes" } } },
			{ quietHours: { start: "25:00", end: "07:00" } },
			{ quietHours: { start: "07:00", end: "07:00" } },
			{ other: 1 },
		]) {
			const res = await p.http("PUT", "/api/notifications/preferences", { token, body });
			expect({ body, status: res.status }).toEqual({ body, status: 422 });
			expect(res.body.errors.length).toBeGreaterThan(0);
		}
		// in-app off for a category: the notification is not in the list
		await p.http("PUT", "/api/notifications/preferences", { token, body: { categories: { mentions: { inApp: false } } } });
		const res = await send(ids.cid, `pref-${tag}`, {
			template: "mention",
			vars: { author: { id: "a", name: "Al" }, post: { id: "p" }, place: "post" },
		});
		expect(res.channels).not.toContain("inApp");
		expect((await p.http("GET", "/api/notifications?category=mentions", { token })).body.items).toEqual([]);
	});
});
