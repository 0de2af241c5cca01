/**
 * Exact counters under concurrent clicks, cursor stability of the feed and explore while new posts
 * arrive, explore ranking, the follow projection's idempotence and the domain events on channels.
 */
import { randomUUID } from "node:crypto";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

describe("social feed, explore and counters over HTTP", () => {
	let p: Platform;
	const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
	const tok = (sub: string) => p.token({ sub, roles: [] });
	const events: { channel: string; payload: any }[] = [];
	const recorded = (name: string) => ({
		group: "test-recorder",
		handler(this: unknown, ctx: { params: any }) {
			events.push({ channel: name, payload: ctx.params });
		},
	});

	async function follow(followerId: string, followeeId: string) {
		await (p.broker as any).sendToChannel("users.followed", {
			eventId: randomUUID(),
			actorId: followerId,
			followerId,
			followeeId,
			at: new Date().toISOString(),
		});
		await waitFor(() => p.broker.call("socialfollows.isFollowing", { followerId, followeeId }), { what: "follow" });
	}
	async function post(author: string, body: Record<string, unknown>) {
		const res = await p.http("POST", "/api/posts", { token: tok(author), body });
		expect(res.status).toBe(201);
		return res.body;
	}

	beforeAll(async () => {
		p = await startPlatform({
			services: ["social"],
			extra: [
				{
					name: "social-events-recorder",
					channels: Object.fromEntries(
						["posts.created", "posts.updated", "posts.deleted", "posts.liked", "posts.unliked", "posts.shared", "posts.commented"].map(
							n => [n, recorded(n)],
						),
					),
				} as any,
			],
		});
	});
	afterAll(() => p.stop());

	it("keeps like counts exact with 50 users clicking at once and each clicking again", async () => {
		const author = uid("author");
		const target = await post(author, { text: "popular" });
		const users = Array.from({ length: 50 }, (_, i) => uid(`u${i}`));
		const results = await Promise.all(
			users.flatMap(u => [
				p.http("POST", `/api/posts/${target.id}/like`, { token: tok(u) }),
				p.http("POST", `/api/posts/${target.id}/like`, { token: tok(u) }),
			]),
		);
		expect(results.every(r => r.status === 200)).toBe(true);
		// and one user hammering the button 20 times at once
		await Promise.all(Array.from({ length: 20 }, () => p.http("POST", `/api/posts/${target.id}/like`, { token: tok(users[0]) })));
		const after = await p.http("GET", `/api/posts/${target.id}`);
		expect(after.body.counts).toMatchObject({ like: 50, reactions: 50 });
		expect(await p.broker.call("postreactions.countWhere", { query: { postId: target.id } })).toBe(50);

		// half of them switch to "love" concurrently (twice each), a quarter unlike (twice each)
		await Promise.all([
			...users
				.slice(0, 25)
				.flatMap(u => [1, 2].map(() => p.http("POST", `/api/posts/${target.id}/react`, { token: tok(u), body: { type: "love" } }))),
			...users.slice(25, 37).flatMap(u => [1, 2].map(() => p.http("DELETE", `/api/posts/${target.id}/like`, { token: tok(u) }))),
		]);
		const final = await p.http("GET", `/api/posts/${target.id}`);
		expect(final.body.counts).toMatchObject({ like: 13, love: 25, reactions: 38 });
		// the stored rows agree, and a recount from them changes nothing
		expect(await p.broker.call("posts.recount", { id: target.id })).toMatchObject({ like: 13, love: 25, reactions: 38 });
	});

	it("keeps save and share counts exact under concurrent repeated clicks", async () => {
		const author = uid("author");
		const target = await post(author, { text: "save and share me" });
		const users = Array.from({ length: 50 }, (_, i) => uid(`s${i}`));
		const results = await Promise.all(
			users.flatMap(u => [
				p.http("POST", `/api/posts/${target.id}/save`, { token: tok(u) }),
				p.http("POST", `/api/posts/${target.id}/save`, { token: tok(u) }),
				p.http("POST", `/api/posts/${target.id}/share`, { token: tok(u), body: {} }),
				p.http("POST", `/api/posts/${target.id}/share`, { token: tok(u), body: {} }),
			]),
		);
		expect(results.filter(r => r.status >= 300).map(r => r.body)).toEqual([]);
		const after = await p.http("GET", `/api/posts/${target.id}`);
		expect(after.body.counts).toMatchObject({ saves: 50, shares: 50 });
		// one share post per user
		const shareIds = new Set(results.filter(r => r.body?.sharedPostId === target.id).map(r => r.body.id));
		expect(shareIds.size).toBe(50);
		expect(await p.broker.call("posts.recount", { id: target.id })).toMatchObject({ saves: 50, shares: 50 });
	});

	it("pages the feed with a stable cursor while new posts arrive", async () => {
		const reader = uid("reader");
		const a = uid("a");
		const b = uid("b");
		await follow(reader, a);
		await follow(reader, b);
		const created: string[] = [];
		for (let i = 0; i < 12; i++) created.push((await post(i % 2 ? a : b, { text: `post ${i}`, visibility: i % 3 ? "public" : "followers" })).id);
		const page1 = await p.http("GET", "/api/posts/feed/me?limit=5", { token: tok(reader) });
		expect(page1.status).toBe(200);
		expect(page1.body.items).toHaveLength(5);
		expect(typeof page1.body.nextCursor).toBe("string");

		// new posts arrive between pages
		const newer: string[] = [];
		for (let i = 0; i < 3; i++) newer.push((await post(a, { text: `newer ${i}` })).id);

		const seen = [...page1.body.items.map((i: any) => i.id)];
		let cursor = page1.body.nextCursor;
		while (cursor) {
			const page = await p.http("GET", `/api/posts/feed/me?limit=5&cursor=${cursor}`, { token: tok(reader) });
			expect(page.status).toBe(200);
			seen.push(...page.body.items.map((i: any) => i.id));
			cursor = page.body.nextCursor;
		}
		// no duplicates, no gaps: exactly the 12 older posts, newest first; the newer ones wait for a refresh
		const newestFirst = (ids: string[]) => [...ids].sort().reverse(); // ids are time-ordered
		expect(seen).toEqual(newestFirst(created));
		const refreshed = await p.http("GET", "/api/posts/feed/me?limit=3", { token: tok(reader) });
		expect(refreshed.body.items.map((i: any) => i.id)).toEqual(newestFirst(newer));

		expect((await p.http("GET", "/api/posts/feed/me?cursor=not-a-cursor", { token: tok(reader) })).status).toBe(400);
		const forged = Buffer.from(JSON.stringify({ t: 1, i: "$$$not-an-id" })).toString("base64url");
		expect((await p.http("GET", `/api/posts/feed/me?cursor=${forged}`, { token: tok(reader) })).status).toBe(400);
	});

	it("ranks explore by engagement decayed by age and pages it stably", async () => {
		const author = uid("author");
		const quiet = await post(author, { text: "quiet" });
		const loud = await post(author, { text: "loud" });
		const shared = await post(author, { text: "shared" });
		const fans = Array.from({ length: 3 }, (_, i) => uid(`f${i}`));
		for (const f of fans) await p.http("POST", `/api/posts/${loud.id}/like`, { token: tok(f) });
		await p.http("POST", `/api/posts/${shared.id}/share`, { token: tok(fans[0]), body: {} });
		await p.http("POST", `/api/posts/${shared.id}/share`, { token: tok(fans[1]), body: {} });

		const all: any[] = [];
		const page1 = await p.http("GET", "/api/posts/explore/all?limit=2");
		expect(page1.status).toBe(200);
		all.push(...page1.body.items);
		// new posts (and new engagement) between pages do not shift the pages already ranked
		await post(author, { text: "newcomer" });
		let cursor = page1.body.nextCursor;
		while (cursor) {
			const page = await p.http("GET", `/api/posts/explore/all?limit=2&cursor=${cursor}`);
			all.push(...page.body.items);
			cursor = page.body.nextCursor;
		}
		const ids = all.map(i => i.id);
		expect(new Set(ids).size).toBe(ids.length);
		// shares weigh 3, likes 1: shared (6) > loud (3) > quiet (0), all of the same age
		const order = ids.filter(id => [quiet.id, loud.id, shared.id].includes(id));
		expect(order).toEqual([shared.id, loud.id, quiet.id]);
		expect(all.every(i => i.visibility === "public" && !i.sharedPostId)).toBe(true);
		const scores = all.map(i => i.score);
		expect([...scores].sort((x, y) => y - x)).toEqual(scores);
	});

	it("shows a new post in explore at once and drops a deleted one, despite the shared first-page snapshot", async () => {
		const author = uid("author");
		await p.http("GET", "/api/posts/explore/all?limit=1"); // a first page is now cached for everyone
		const fresh = await post(author, { text: "brand new" });
		const ids = async () => (await p.http("GET", "/api/posts/explore/all?limit=100")).body.items.map((i: any) => i.id);
		expect(await ids()).toContain(fresh.id);
		await p.http("DELETE", `/api/posts/${fresh.id}`, { token: tok(author) });
		expect(await ids()).not.toContain(fresh.id);
	});

	it("gives each reader their own reaction and save on feed, explore and search items (none for anonymous readers)", async () => {
		const author = uid("vauthor");
		const reader = uid("vreader");
		await follow(reader, author);
		const liked = await post(author, { text: "viewer state liked zebra" });
		const plain = await post(author, { text: "viewer state plain zebra" });
		expect((await p.http("POST", `/api/posts/${liked.id}/react`, { token: tok(reader), body: { type: "wow" } })).status).toBe(200);
		expect((await p.http("POST", `/api/posts/${liked.id}/save`, { token: tok(reader) })).status).toBe(200);
		const viewerOf = (items: any[], id: string) => items.find(i => i.id === id)?.viewer;

		const feed = (await p.http("GET", "/api/posts/feed/me?limit=100", { token: tok(reader) })).body.items;
		expect(viewerOf(feed, liked.id)).toEqual({ reaction: "wow", saved: true });
		expect(viewerOf(feed, plain.id)).toEqual({ reaction: null, saved: false });
		// the author's own view of the same posts: their own state, not the reader's
		const own = (await p.http("GET", "/api/posts/feed/me?limit=100", { token: tok(author) })).body.items;
		expect(viewerOf(own, liked.id)).toEqual({ reaction: null, saved: false });

		const explore = (await p.http("GET", "/api/posts/explore/all?limit=100", { token: tok(reader) })).body.items;
		expect(viewerOf(explore, liked.id)).toEqual({ reaction: "wow", saved: true });
		const search = (await p.http("GET", "/api/posts/search?q=zebra", { token: tok(reader) })).body.items;
		expect(viewerOf(search, liked.id)).toEqual({ reaction: "wow", saved: true });
		const anonymous = (await p.http("GET", "/api/posts/explore/all?limit=100")).body.items;
		expect(anonymous.find((i: any) => i.id === liked.id)).not.toHaveProperty("viewer");
	});

	it("applies follow messages idempotently and ignores stale ones", async () => {
		const a = uid("a");
		const b = uid("b");
		const t0 = Date.now();
		const msg = (at: number) => ({ eventId: randomUUID(), actorId: a, followerId: a, followeeId: b, at: new Date(at).toISOString() });
		const send = (channel: string, payload: unknown) => (p.broker as any).sendToChannel(channel, payload);
		await send("users.followed", msg(t0));
		await send("users.followed", msg(t0)); // redelivery
		await waitFor(() => p.broker.call("socialfollows.isFollowing", { followerId: a, followeeId: b }));
		await send("users.unfollowed", msg(t0 + 10));
		await waitFor(async () => !(await p.broker.call("socialfollows.isFollowing", { followerId: a, followeeId: b })));
		// a late, older follow must not resurrect the edge; a newer one does
		await send("users.followed", msg(t0 + 5));
		await send("users.followed", msg(t0 + 20));
		await waitFor(() => p.broker.call("socialfollows.isFollowing", { followerId: a, followeeId: b }));
		expect(await p.broker.call("socialfollows.followees", { userId: a })).toEqual([b]);
	});

	it("publishes domain events on channels with ids only", async () => {
		const author = uid("author");
		const fan = uid("fan");
		const target = await post(author, { text: "eventful" });
		await p.http("PUT", `/api/posts/${target.id}`, { token: tok(author), body: { text: "edited" } });
		await p.http("POST", `/api/posts/${target.id}/like`, { token: tok(fan) });
		await p.http("DELETE", `/api/posts/${target.id}/like`, { token: tok(fan) });
		await p.http("POST", `/api/posts/${target.id}/comments`, { token: tok(fan), body: { text: "c" } });
		await p.http("POST", `/api/posts/${target.id}/share`, { token: tok(fan), body: {} });
		await p.http("DELETE", `/api/posts/${target.id}`, { token: tok(author) });
		const wanted = ["posts.created", "posts.updated", "posts.liked", "posts.unliked", "posts.commented", "posts.shared", "posts.deleted"];
		const mine = await waitFor(() => {
			const list = events.filter(e => e.payload.postId === target.id);
			return wanted.every(w => list.some(e => e.channel === w)) ? list : null;
		});
		for (const e of mine!) {
			expect(e.payload).toMatchObject({ postId: target.id, authorId: author, tenantId: null });
			expect(typeof e.payload.eventId).toBe("string");
			expect(typeof e.payload.at).toBe("string");
			expect(e.payload.text).toBeUndefined();
		}
		expect(mine!.find(e => e.channel === "posts.liked")!.payload.actorId).toBe(fan);
	});
});
