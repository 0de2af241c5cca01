/**
 * The users service over HTTP through the real gateway: profiles (privacy, mass assignment),
 * search, preferences, the follow graph (idempotency, failures, exact counts under concurrency).
 */
import { randomUUID } from "node:crypto";
import { startPlatform, type Platform } from "../helpers/platform";

type Sender = { sendToChannel(name: string, payload: unknown): Promise<void> };

describe("users over HTTP", () => {
	let p: Platform;
	const uid = () => `u${randomUUID().replace(/-/g, "").slice(0, 16)}`;
	const tokenOf = (id: string) => p.token({ sub: id, tid: null as unknown as string, roles: [] });
	const createProfile = (id: string, name: string, email = `${id}@example.test`) =>
		p.broker.call<Record<string, unknown>, Record<string, unknown>>("users.createProfile", { id, email, name });

	beforeAll(async () => {
		p = await startPlatform({ services: ["users", "activity", "notificationprefs"] });
	});
	afterAll(() => p.stop());

	describe("profiles", () => {
		let alice: string;
		let bob: string;
		beforeAll(async () => {
			alice = uid();
			bob = uid();
			await createProfile(alice, "Alice Liddell");
			await createProfile(bob, "Bob Builder");
		});

		it("createProfile is idempotent on the id and publishes users.registered once", async () => {
			const id = uid();
			const spy = jest.spyOn(p.broker as unknown as Sender, "sendToChannel");
			try {
				const first = await createProfile(id, "Carol", `${id}@Example.test`);
				const again = await createProfile(id, "Carol Changed", `${id}@example.test`);
				expect(again).toEqual(first);
				expect(first).toMatchObject({ id, name: "Carol", email: `${id}@example.test`, bio: null });
				const registered = spy.mock.calls.filter(([name]) => name === "users.registered");
				expect(registered).toHaveLength(1);
				expect(registered[0][1]).toMatchObject({ id, name: "Carol", tenantId: null, actorId: id });
				expect(registered[0][1]).toHaveProperty("eventId");
				expect(registered[0][1]).toHaveProperty("at");
				expect(registered[0][1]).not.toHaveProperty("email");
			} finally {
				spy.mockRestore();
			}
		});

		it("createProfile retried concurrently stores one profile and publishes once", async () => {
			const id = uid();
			const spy = jest.spyOn(p.broker as unknown as Sender, "sendToChannel");
			try {
				const results = await Promise.all([1, 2, 3, 4].map(() => createProfile(id, "Racer")));
				expect(new Set(results.map(r => JSON.stringify(r))).size).toBe(1);
				expect(spy.mock.calls.filter(([name, payload]) => name === "users.registered" && (payload as { id: string }).id === id)).toHaveLength(
					1,
				);
			} finally {
				spy.mockRestore();
			}
		});

		it("shows the email to its owner only", async () => {
			const anonymous = await p.http("GET", `/api/users/${alice}`);
			expect(anonymous.status).toBe(200);
			expect(anonymous.body).toMatchObject({ id: alice, name: "Alice Liddell" });
			expect(anonymous.body).not.toHaveProperty("email");

			const other = await p.http("GET", `/api/users/${alice}`, { token: tokenOf(bob) });
			expect(other.body).not.toHaveProperty("email");

			const owner = await p.http("GET", `/api/users/${alice}`, { token: tokenOf(alice) });
			expect(owner.body.email).toBe(`${alice}@example.test`);

			const me = await p.http("GET", "/api/users/me", { token: tokenOf(alice) });
			expect(me.status).toBe(200);
			expect(me.body).toMatchObject({ id: alice, email: `${alice}@example.test` });
			expect(Object.keys(me.body).sort()).toEqual(["avatarUrl", "bio", "createdAt", "email", "id", "location", "name", "updatedAt", "website"]);
		});

		it("answers 404 NOT_FOUND for an unknown user and 401 for /me without a token", async () => {
			const res = await p.http("GET", `/api/users/${uid()}`);
			expect(res.status).toBe(404);
			expect(res.headers.get("content-type")).toContain("application/problem+json");
			expect(res.body.code).toBe("NOT_FOUND");
			expect((await p.http("GET", "/api/users/me")).status).toBe(401);
		});

		it("updates the own profile and ignores email, roles, tenant, password and id (mass assignment)", async () => {
			const before = await p.http("GET", "/api/users/me", { token: tokenOf(alice) });
			const res = await p.http("PUT", "/api/users/profile", {
				token: tokenOf(alice),
				body: {
					name: "Alice L.",
					bio: "Down the rabbit hole",
					website: "https://alice.example.test",
					location: "Oxford",
					email: "attacker@example.test",
					role: "owner",
					roles: ["owner"],
					tenantId: "t-evil",
					password: "hunter2hunter2",
					id: bob,
					createdAt: "2000-01-01T00:00:00.000Z",
					preferences: { email: { marketing: true } },
				},
			});
			expect(res.status).toBe(200);
			expect(res.body).toMatchObject({
				id: alice,
				name: "Alice L.",
				bio: "Down the rabbit hole",
				location: "Oxford",
				email: `${alice}@example.test`,
			});
			expect(res.body.createdAt).toBe(before.body.createdAt);
			for (const key of ["role", "roles", "tenantId", "password", "preferences"]) expect(res.body).not.toHaveProperty(key);

			const bobNow = await p.http("GET", `/api/users/${bob}`);
			expect(bobNow.body.name).toBe("Bob Builder");
			const prefs = await p.http("GET", "/api/users/me/preferences", { token: tokenOf(alice) });
			expect(prefs.body.categories.marketing.email).toBe(false);
			// Nothing of it reached the store either.
			const svc = p.broker.getLocalService("users") as unknown as { adapter: { findById(id: string): Promise<Record<string, unknown>> } };
			const raw = await svc.adapter.findById(alice);
			expect(raw).toMatchObject({ _id: alice, email: `${alice}@example.test`, createdAt: before.body.createdAt });
			for (const key of ["role", "roles", "tenantId", "password", "preferences", "id"]) expect(raw).not.toHaveProperty(key);

			// The cached public read shows the change.
			const pub = await p.http("GET", `/api/users/${alice}`);
			expect(pub.body.name).toBe("Alice L.");
		});

		it("rejects invalid profile values with 422 and needs a token", async () => {
			const bad = await p.http("PUT", "/api/users/profile", { token: tokenOf(alice), body: { website: "not a url", name: "" } });
			expect(bad.status).toBe(422);
			expect(bad.body.code).toBeDefined();
			expect(Array.isArray(bad.body.errors)).toBe(true);
			expect((await p.http("PUT", "/api/users/profile", { body: { name: "x" } })).status).toBe(401);
			expect((await p.http("PUT", "/api/users/profile", { token: tokenOf(uid()), body: { name: "x" } })).status).toBe(404);
		});

		it("clears a field with null", async () => {
			const res = await p.http("PUT", "/api/users/profile", { token: tokenOf(bob), body: { location: "Here" } });
			expect(res.body.location).toBe("Here");
			const cleared = await p.http("PUT", "/api/users/profile", { token: tokenOf(bob), body: { location: null } });
			expect(cleared.body.location).toBeNull();
		});
	});

	describe("search", () => {
		const tag = `Zq${randomUUID().slice(0, 6)}`;
		beforeAll(async () => {
			await createProfile(uid(), `${tag} Anna`);
			await createProfile(uid(), `${tag.toLowerCase()} anders`);
			await createProfile(uid(), `${tag} Bea`);
			await createProfile(uid(), "a.c literal");
			await createProfile(uid(), "abc regex bait");
		});

		it("GET /search/:query matches names case-insensitively", async () => {
			const res = await p.http("GET", `/api/users/search/${tag.toUpperCase()}%20AN`);
			expect(res.status).toBe(200);
			expect(res.body.total).toBe(2);
			expect(res.body.rows.map((r: { name: string }) => r.name).sort()).toEqual([`${tag} Anna`, `${tag.toLowerCase()} anders`].sort());
			expect(res.body.rows[0]).not.toHaveProperty("email");
		});

		it("escapes regular expression characters", async () => {
			const res = await p.http("GET", `/api/users/search/${encodeURIComponent("a.c")}`);
			expect(res.body.rows.map((r: { name: string }) => r.name)).toEqual(["a.c literal"]);
			const star = await p.http("GET", `/api/users/search/${encodeURIComponent(".*")}`);
			expect(star.status).toBe(200);
			expect(star.body.total).toBe(0);
		});

		it("GET /?search= paginates with a total", async () => {
			const page1 = await p.http("GET", `/api/users/?search=${tag}&page=1&pageSize=2`);
			expect(page1.status).toBe(200);
			expect(page1.body).toMatchObject({ total: 3, page: 1, pageSize: 2, totalPages: 2 });
			expect(page1.body.rows).toHaveLength(2);
			const page2 = await p.http("GET", `/api/users/?search=${tag}&page=2&pageSize=2`);
			expect(page2.body.rows).toHaveLength(1);
			const names = [...page1.body.rows, ...page2.body.rows].map((r: { id: string }) => r.id);
			expect(new Set(names).size).toBe(3);
			expect((await p.http("GET", "/api/users/?pageSize=101")).status).toBe(422);
			const noSlash = await p.http("GET", `/api/users?search=${tag.toLowerCase()}&sort=-name`);
			expect(noSlash.status).toBe(200);
			expect(noSlash.body.total).toBe(3);
			expect(noSlash.body.rows[0].name).toBe(`${tag.toLowerCase()} anders`);
		});
	});

	describe("preferences", () => {
		let dora: string;
		beforeAll(async () => {
			dora = uid();
			await createProfile(dora, "Dora");
		});

		it("are the notification preferences: the same defaults as /api/notifications/preferences", async () => {
			const res = await p.http("GET", "/api/users/me/preferences", { token: tokenOf(dora) });
			expect(res.status).toBe(200);
			expect(res.body).toEqual((await p.http("GET", "/api/notifications/preferences", { token: tokenOf(dora) })).body);
			expect(Object.keys(res.body).sort()).toEqual(["categories", "quietHours", "timeZone"]);
			expect(res.body.categories.follows).toEqual({ inApp: true, email: false, push: true });
			expect(res.body.categories.security.email).toBe(true);
		});

		it("a change through either route is one change: one home, no copy on the profile", async () => {
			const res = await p.http("PUT", "/api/users/me/preferences", {
				token: tokenOf(dora),
				body: { categories: { likes: { email: true } }, quietHours: { start: "22:00", end: "07:00" }, timeZone: "Europe/Paris" },
			});
			expect(res.status).toBe(200);
			expect(res.body.categories.likes).toEqual({ inApp: true, email: true, push: false });
			const viaNotifications = await p.http("GET", "/api/notifications/preferences", { token: tokenOf(dora) });
			expect(viaNotifications.body).toEqual(res.body);
			expect(await p.broker.call("notificationprefs.forUser", { userId: dora })).toEqual(res.body);
			// and back: a change made at /api/notifications/preferences shows at /api/users/me/preferences
			await p.http("PUT", "/api/notifications/preferences", { token: tokenOf(dora), body: { quietHours: null } });
			expect((await p.http("GET", "/api/users/me/preferences", { token: tokenOf(dora) })).body.quietHours).toBeNull();
			const svc = p.broker.getLocalService("users") as unknown as { adapter: { findById(id: string): Promise<Record<string, unknown>> } };
			expect(await svc.adapter.findById(dora)).not.toHaveProperty("preferences");
			// the same checks as the notifications route: unknown keys and non-booleans are 422, security e-mail stays on
			for (const body of [
				{ email: { likes: true } },
				{ categories: { likes: { email: "yes" } } },
				{ categories: { security: { email: false } } },
			])
				expect((await p.http("PUT", "/api/users/me/preferences", { token: tokenOf(dora), body })).status).toBe(422);
			expect((await p.http("GET", "/api/users/me/preferences")).status).toBe(401);
		});
	});

	describe("follows", () => {
		let erin: string;
		let finn: string;
		let gus: string;
		beforeAll(async () => {
			[erin, finn, gus] = [uid(), uid(), uid()];
			await createProfile(erin, "Erin");
			await createProfile(finn, "Finn");
			await createProfile(gus, "Gus");
		});

		it("refuses self-follow, unknown users and anonymous callers", async () => {
			const self = await p.http("POST", `/api/users/${erin}/follow`, { token: tokenOf(erin) });
			expect(self.status).toBe(400);
			expect(self.body.code).toBe("CANNOT_FOLLOW_SELF");
			const unknown = await p.http("POST", `/api/users/${uid()}/follow`, { token: tokenOf(erin) });
			expect(unknown.status).toBe(404);
			expect(unknown.body.code).toBe("NOT_FOUND");
			expect((await p.http("POST", `/api/users/${finn}/follow`)).status).toBe(401);
			const noProfile = await p.http("POST", `/api/users/${finn}/follow`, { token: tokenOf(uid()) });
			expect(noProfile.status).toBe(409);
			expect(noProfile.body.code).toBe("PROFILE_REQUIRED");
			expect((await p.http("DELETE", `/api/users/${uid()}/follow`, { token: tokenOf(erin) })).status).toBe(404);
			expect((await p.http("GET", `/api/users/${uid()}/followers`)).status).toBe(404);
			expect((await p.http("GET", `/api/users/${uid()}/stats`)).status).toBe(404);
		});

		it("following twice is one follow, published once; unfollow is idempotent", async () => {
			const spy = jest.spyOn(p.broker as unknown as Sender, "sendToChannel");
			try {
				const first = await p.http("POST", `/api/users/${finn}/follow`, { token: tokenOf(erin) });
				expect(first.status).toBe(200);
				expect(first.body).toEqual({ followerId: erin, followeeId: finn, following: true });
				const second = await p.http("POST", `/api/users/${finn}/follow`, { token: tokenOf(erin) });
				expect(second.status).toBe(200);
				await p.http("POST", `/api/users/${finn}/follow`, { token: tokenOf(gus) });

				const stats = await p.http("GET", `/api/users/${finn}/stats`);
				expect(stats.body).toEqual({ followers: 2, following: 0, posts: 0, likesReceived: 0 });
				const followed = spy.mock.calls.filter(([name]) => name === "users.followed");
				expect(followed).toHaveLength(2);
				expect(followed[0][1]).toMatchObject({ followerId: erin, followeeId: finn, actorId: erin, tenantId: null });

				const followers = await p.http("GET", `/api/users/${finn}/followers`);
				expect(followers.status).toBe(200);
				expect(followers.body).toMatchObject({ total: 2, page: 1, pageSize: 20 });
				expect(followers.body.rows.map((r: { id: string }) => r.id).sort()).toEqual([erin, gus].sort());
				expect(followers.body.rows[0]).toHaveProperty("followedAt");
				expect(followers.body.rows[0]).not.toHaveProperty("email");

				const following = await p.http("GET", `/api/users/${erin}/following`);
				expect(following.body.rows.map((r: { id: string }) => r.id)).toEqual([finn]);
				expect(await p.broker.call("users.followingIds", { userId: erin })).toEqual([finn]);
				const mine = await p.http("GET", "/api/users/me/following", { token: tokenOf(erin) });
				expect(mine.body.total).toBe(1);

				const un = await p.http("DELETE", `/api/users/${finn}/follow`, { token: tokenOf(erin) });
				expect(un.status).toBe(204);
				const unAgain = await p.http("DELETE", `/api/users/${finn}/follow`, { token: tokenOf(erin) });
				expect(unAgain.status).toBe(204);
				expect(spy.mock.calls.filter(([name]) => name === "users.unfollowed")).toHaveLength(1);
				expect((await p.http("GET", `/api/users/${finn}/stats`)).body.followers).toBe(1);
				expect((await p.http("GET", `/api/users/${erin}/stats`)).body.following).toBe(0);
			} finally {
				spy.mockRestore();
			}
		});

		it("paginates followers", async () => {
			const star = uid();
			await createProfile(star, "Star");
			const fans = Array.from({ length: 5 }, () => uid());
			for (const f of fans) {
				await createProfile(f, `Fan ${f}`);
				await p.http("POST", `/api/users/${star}/follow`, { token: tokenOf(f) });
			}
			const page1 = await p.http("GET", `/api/users/${star}/followers?page=1&pageSize=2`);
			const page3 = await p.http("GET", `/api/users/${star}/followers?page=3&pageSize=2`);
			expect(page1.body).toMatchObject({ total: 5, totalPages: 3 });
			expect(page3.body.rows).toHaveLength(1);
			// newest first by default
			expect(page1.body.rows[0].id).toBe(fans[4]);
			const oldest = await p.http("GET", `/api/users/${star}/followers?pageSize=1&sort=createdAt`);
			expect(oldest.body.rows[0].id).toBe(fans[0]);
		});

		it("keeps exact counts under many concurrent follows and unfollows", async () => {
			const target = uid();
			await createProfile(target, "Target");
			const users = Array.from({ length: 24 }, () => uid());
			await Promise.all(users.map((u, i) => createProfile(u, `Crowd ${i}`)));
			const follow = (from: string, to: string) => p.http("POST", `/api/users/${to}/follow`, { token: tokenOf(from) });
			const unfollow = (from: string, to: string) => p.http("DELETE", `/api/users/${to}/follow`, { token: tokenOf(from) });

			// Round 1: everyone follows the target, each three times at once, and follows the next two users.
			const round1 = await Promise.all(
				users.flatMap((u, i) => [
					follow(u, target),
					follow(u, target),
					follow(u, target),
					follow(u, users[(i + 1) % users.length]),
					follow(u, users[(i + 2) % users.length]),
				]),
			);
			expect(round1.every(r => r.status === 200)).toBe(true);
			expect((await p.http("GET", `/api/users/${target}/stats`)).body.followers).toBe(users.length);

			// Round 2: the even ones unfollow (twice at once) while the odd ones follow again and unfollow the next user.
			const round2 = await Promise.all(
				users.flatMap((u, i) =>
					i % 2 === 0 ? [unfollow(u, target), unfollow(u, target)] : [follow(u, target), unfollow(u, users[(i + 1) % users.length])],
				),
			);
			expect(round2.every(r => r.status === 200 || r.status === 204)).toBe(true);

			// The truth, computed from what each user did last.
			const edges = new Set<string>();
			users.forEach((u, i) => {
				if (i % 2 === 1) edges.add(`${u}>${target}`);
				if (i % 2 === 0) edges.add(`${u}>${users[(i + 1) % users.length]}`);
				edges.add(`${u}>${users[(i + 2) % users.length]}`);
			});
			const truth = (id: string) => ({
				followers: [...edges].filter(e => e.endsWith(`>${id}`)).length,
				following: [...edges].filter(e => e.startsWith(`${id}>`)).length,
			});

			const targetStats = await p.http("GET", `/api/users/${target}/stats`);
			expect(targetStats.body).toMatchObject({ ...truth(target), followers: users.length / 2 });
			const list = await p.http("GET", `/api/users/${target}/followers?pageSize=100`);
			expect(list.body.total).toBe(users.length / 2);
			expect(new Set(list.body.rows.map((r: { id: string }) => r.id)).size).toBe(users.length / 2);
			for (const u of users) {
				const s = await p.http("GET", `/api/users/${u}/stats`);
				expect({ id: u, ...s.body }).toMatchObject({ id: u, ...truth(u) });
			}
		});
	});
});

describe("users routes", () => {
	let p: Platform;
	beforeAll(async () => {
		p = await startPlatform({ services: ["users"] });
	});
	afterAll(() => p.stop());

	it("literal paths are not captured by /:id, and `me` works in follow lists and stats", async () => {
		const id = `u${randomUUID().slice(0, 8)}`;
		await p.broker.call("users.createProfile", { id, email: `${id}@example.test`, name: "stats" });
		const token = p.token({ sub: id, tid: null as unknown as string, roles: [] });
		const search = await p.http("GET", "/api/users/search/profile");
		expect(search.status).toBe(200);
		expect(search.body).toHaveProperty("rows");
		expect((await p.http("GET", "/api/users/me", { token })).body.id).toBe(id);
		expect((await p.http("GET", "/api/users/me/stats", { token })).body).toEqual({ followers: 0, following: 0, posts: 0, likesReceived: 0 });
		expect((await p.http("GET", "/api/users/me/followers", { token })).body.total).toBe(0);
		expect((await p.http("GET", "/api/users/me/stats")).status).toBe(401);
	});

	it("publishes its routes in the OpenAPI document", async () => {
		const res = await p.http("GET", "/openapi.json");
		expect(res.status).toBe(200);
		const paths = Object.keys(res.body.paths).filter(k => k.startsWith("/api/users"));
		for (const path of [
			"/api/users/me",
			"/api/users/me/preferences",
			"/api/users/me/activity",
			"/api/users/profile",
			"/api/users/{id}",
			"/api/users/{id}/follow",
			"/api/users/{id}/stats",
		])
			expect(paths).toContain(path);
		expect(paths.some(k => /createProfile|getProfile|followingIds/.test(k))).toBe(false);
	});
});

describe("users outbox", () => {
	let p: Platform;
	beforeAll(async () => {
		p = await startPlatform({ services: ["users"] });
	});
	afterAll(() => p.stop());

	it("keeps an event the channel refused and the outbox relay publishes it", async () => {
		const [a, b] = [`u${randomUUID().slice(0, 8)}`, `u${randomUUID().slice(0, 8)}`];
		for (const id of [a, b]) await p.broker.call("users.createProfile", { id, email: `${id}@example.test`, name: id });
		const spy = jest.spyOn(p.broker as unknown as Sender, "sendToChannel").mockRejectedValueOnce(new Error("JetStream unavailable"));
		try {
			const res = await p.http("POST", `/api/users/${b}/follow`, { token: p.token({ sub: a, tid: null as unknown as string, roles: [] }) });
			expect(res.status).toBe(200); // the follow is stored: the request succeeds
			expect(spy).toHaveBeenCalledTimes(1);
			const svc = p.broker.getLocalService("users") as unknown as { relayOutbox(): Promise<number> };
			expect(await svc.relayOutbox()).toBe(1);
			expect(spy).toHaveBeenCalledTimes(2);
			expect(spy.mock.calls[1][0]).toBe("users.followed");
			expect(spy.mock.calls[1][1]).toEqual(spy.mock.calls[0][1]); // same event, same eventId
			expect(await svc.relayOutbox()).toBe(0);
		} finally {
			spy.mockRestore();
		}
	});
});
