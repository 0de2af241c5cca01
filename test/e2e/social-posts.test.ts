/**
 * The posts API over HTTP through the real gateway: CRUD, author rules, visibility on every read path,
 * reactions, saves, shares, comments and search.
 */
import { randomUUID } from "node:crypto";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

describe("social posts over HTTP", () => {
	let p: Platform;
	const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
	const tok = (sub: string) => p.token({ sub, roles: [] });

	async function follow(followerId: string, followeeId: string) {
		const at = new Date().toISOString();
		await (p.broker as any).sendToChannel("users.followed", { eventId: randomUUID(), actorId: followerId, followerId, followeeId, at });
		await waitFor(() => p.broker.call("socialfollows.isFollowing", { followerId, followeeId }), { what: `${followerId} follows ${followeeId}` });
	}
	async function unfollow(followerId: string, followeeId: string) {
		await (p.broker as any).sendToChannel("users.unfollowed", {
			eventId: randomUUID(),
			actorId: followerId,
			followerId,
			followeeId,
			at: new Date(Date.now() + 1).toISOString(),
		});
		await waitFor(async () => !(await p.broker.call("socialfollows.isFollowing", { followerId, followeeId })), { what: "unfollow" });
	}
	async function post(author: string, body: Record<string, unknown>) {
		const res = await p.http("POST", "/api/posts", { token: tok(author), body });
		expect(res.status).toBe(201);
		expect(res.headers.get("location")).toBe(`/api/posts/${res.body.id}`);
		return res.body;
	}

	beforeAll(async () => {
		p = await startPlatform({ services: ["social"] });
	});
	afterAll(() => p.stop());

	describe("create, read, update, delete", () => {
		it("creates a post with hashtags and mentions extracted, reads it back", async () => {
			const alice = uid("alice");
			const created = await post(alice, { text: "Hello #World and #rust from @bob.smith!", visibility: "public" });
			expect(created).toMatchObject({
				authorId: alice,
				visibility: "public",
				hashtags: ["world", "rust"],
				mentions: ["bob.smith"],
				sharedPostId: null,
			});
			expect(created.counts).toMatchObject({ like: 0, comments: 0, shares: 0, saves: 0 });
			expect(created.terms).toBeUndefined();
			const read = await p.http("GET", `/api/posts/${created.id}`);
			expect(read.status).toBe(200);
			expect(read.body.text).toBe("Hello #World and #rust from @bob.smith!");
		});

		it("validates input and ignores mass-assigned fields", async () => {
			const alice = uid("alice");
			const empty = await p.http("POST", "/api/posts", { token: tok(alice), body: { text: "" } });
			expect(empty.status).toBe(422);
			const tooLong = await p.http("POST", "/api/posts", { token: tok(alice), body: { text: "x".repeat(5001) } });
			expect(tooLong.status).toBe(422);
			const badVis = await p.http("POST", "/api/posts", { token: tok(alice), body: { text: "x", visibility: "friends" } });
			expect(badVis.status).toBe(422);
			const sneaky = await post(alice, { text: "mine", authorId: "mallory", counts: { like: 1000 } });
			expect(sneaky.authorId).toBe(alice);
			expect(sneaky.counts.like).toBe(0);
			expect(sneaky.visibility).toBe("public");
		});

		it("needs a token to write", async () => {
			const res = await p.http("POST", "/api/posts", { body: { text: "anon" } });
			expect(res.status).toBe(401);
		});

		it("lets only the author edit and delete: 403 for those who can see it, 404 for those who cannot", async () => {
			const alice = uid("alice");
			const bob = uid("bob");
			const pub = await post(alice, { text: "public one" });
			const priv = await post(alice, { text: "private one", visibility: "private" });

			expect((await p.http("PUT", `/api/posts/${pub.id}`, { token: tok(bob), body: { text: "hacked" } })).status).toBe(403);
			expect((await p.http("DELETE", `/api/posts/${pub.id}`, { token: tok(bob) })).status).toBe(403);
			expect((await p.http("PUT", `/api/posts/${priv.id}`, { token: tok(bob), body: { text: "hacked" } })).status).toBe(404);
			expect((await p.http("DELETE", `/api/posts/${priv.id}`, { token: tok(bob) })).status).toBe(404);

			const edited = await p.http("PUT", `/api/posts/${pub.id}`, { token: tok(alice), body: { text: "edited #fresh" } });
			expect(edited.status).toBe(200);
			expect(edited.body).toMatchObject({ text: "edited #fresh", hashtags: ["fresh"] });
			expect((await p.http("GET", `/api/posts/${pub.id}`)).body.text).toBe("edited #fresh");

			expect((await p.http("DELETE", `/api/posts/${pub.id}`, { token: tok(alice) })).status).toBe(204);
			expect((await p.http("GET", `/api/posts/${pub.id}`, { token: tok(alice) })).status).toBe(404);
			expect((await p.http("DELETE", `/api/posts/${pub.id}`, { token: tok(alice) })).status).toBe(404);
		});

		it("lists its routes in the OpenAPI document, static segments included", async () => {
			const res = await p.http("GET", "/openapi.json");
			expect(res.status).toBe(200);
			const paths = Object.keys(res.body.paths);
			for (const path of [
				"/api/posts",
				"/api/posts/feed/me",
				"/api/posts/explore/all",
				"/api/posts/saved/me",
				"/api/posts/search",
				"/api/media",
			])
				expect(paths).toContain(path);
		});

		it("answers 404 for an unknown post", async () => {
			expect((await p.http("GET", "/api/posts/nope123")).status).toBe(404);
		});
	});

	describe("visibility on every read path", () => {
		// bob posts one post of each visibility; fan follows bob; stranger does not.
		let bob: string, fan: string, stranger: string;
		let pub: any, fol: any, priv: any;
		const tag = `vis${randomUUID().slice(0, 6)}`;

		beforeAll(async () => {
			bob = uid("bob");
			fan = uid("fan");
			stranger = uid("stranger");
			await follow(fan, bob);
			pub = await post(bob, { text: `public #${tag}`, visibility: "public" });
			fol = await post(bob, { text: `followers #${tag}`, visibility: "followers" });
			priv = await post(bob, { text: `private #${tag}`, visibility: "private" });
		});

		it("get: public for all, followers for followers and the author, private for the author", async () => {
			const status = async (id: string, who?: string) =>
				(await p.http("GET", `/api/posts/${id}`, { token: who ? tok(who) : undefined })).status;
			expect([await status(pub.id), await status(pub.id, stranger), await status(pub.id, fan)]).toEqual([200, 200, 200]);
			expect([await status(fol.id), await status(fol.id, stranger), await status(fol.id, fan), await status(fol.id, bob)]).toEqual([
				404, 404, 200, 200,
			]);
			expect([await status(priv.id), await status(priv.id, stranger), await status(priv.id, fan), await status(priv.id, bob)]).toEqual([
				404, 404, 404, 200,
			]);
		});

		it("feed: a follower sees public and follower-only posts, never private ones", async () => {
			const feed = await p.http("GET", "/api/posts/feed/me?limit=50", { token: tok(fan) });
			expect(feed.status).toBe(200);
			const ids = feed.body.items.map((i: any) => i.id);
			expect(ids).toEqual(expect.arrayContaining([pub.id, fol.id]));
			expect(ids).not.toContain(priv.id);
			const own = await p.http("GET", "/api/posts/feed/me?limit=50", { token: tok(bob) });
			expect(own.body.items.map((i: any) => i.id)).toEqual([priv.id, fol.id, pub.id].sort().reverse());
			const none = await p.http("GET", "/api/posts/feed/me", { token: tok(stranger) });
			expect(none.body.items).toEqual([]);
			expect((await p.http("GET", "/api/posts/feed/me")).status).toBe(401);
		});

		it("explore: public posts only", async () => {
			const ids: string[] = [];
			let cursor: string | null = null;
			do {
				const res: any = await p.http("GET", `/api/posts/explore/all?limit=100${cursor ? `&cursor=${cursor}` : ""}`, { token: tok(fan) });
				expect(res.status).toBe(200);
				ids.push(...res.body.items.map((i: any) => i.id));
				cursor = res.body.nextCursor;
			} while (cursor);
			expect(ids).toContain(pub.id);
			expect(ids).not.toContain(fol.id);
			expect(ids).not.toContain(priv.id);
		});

		it("search: by hashtag and word, filtered per viewer", async () => {
			const search = async (q: string, who?: string) => {
				const res = await p.http("GET", `/api/posts/search?q=${encodeURIComponent(q)}`, { token: who ? tok(who) : undefined });
				expect(res.status).toBe(200);
				return res.body.items.map((i: any) => i.id).sort();
			};
			expect(await search(`#${tag}`)).toEqual([pub.id]);
			expect(await search(`#${tag}`, stranger)).toEqual([pub.id]);
			expect(await search(`#${tag}`, fan)).toEqual([pub.id, fol.id].sort());
			expect(await search(`#${tag}`, bob)).toEqual([pub.id, fol.id, priv.id].sort());
			expect(await search(`followers ${tag}`, stranger)).toEqual([]);
			expect(await search(`followers ${tag}`, fan)).toEqual([fol.id]);
		});

		it("comments: reading or writing them on a hidden post is a 404", async () => {
			const made = await p.http("POST", `/api/posts/${fol.id}/comments`, { token: tok(fan), body: { text: "nice" } });
			expect([made.status, made.headers.get("location")]).toEqual([201, `/api/posts/${fol.id}/comments`]);
			expect((await p.http("GET", `/api/posts/${fol.id}/comments`, { token: tok(stranger) })).status).toBe(404);
			expect((await p.http("GET", `/api/posts/${fol.id}/comments`)).status).toBe(404);
			expect((await p.http("POST", `/api/posts/${fol.id}/comments`, { token: tok(stranger), body: { text: "hi" } })).status).toBe(404);
			const list = await p.http("GET", `/api/posts/${fol.id}/comments`, { token: tok(fan) });
			expect(list.body).toMatchObject({ total: 1, page: 1 });
		});

		it("reactions, saves and shares on a hidden post are 404s", async () => {
			for (const [method, path, body] of [
				["POST", "like", undefined],
				["POST", "react", { type: "love" }],
				["POST", "save", undefined],
				["POST", "share", {}],
			] as const) {
				const res = await p.http(method, `/api/posts/${fol.id}/${path}`, { token: tok(stranger), body });
				expect(res.status).toBe(404);
				const res2 = await p.http(method, `/api/posts/${priv.id}/${path}`, { token: tok(fan), body });
				expect(res2.status).toBe(404);
			}
		});

		it("shares: only public posts can be shared; a share hides its original when it is no longer visible", async () => {
			expect((await p.http("POST", `/api/posts/${fol.id}/share`, { token: tok(fan), body: {} })).status).toBe(403);
			const carol = uid("carol");
			const original = await post(carol, { text: "soon followers-only" });
			const shared = await p.http("POST", `/api/posts/${original.id}/share`, { token: tok(fan), body: { text: "look" } });
			expect(shared.status).toBe(201);
			expect(shared.body.original.id).toBe(original.id);
			// a stranger's view of the share is cached with the original embedded...
			expect((await p.http("GET", `/api/posts/${shared.body.id}`, { token: tok(stranger) })).body.original.id).toBe(original.id);
			// ...then carol narrows the original's audience: strangers see fan's share but not carol's text
			expect((await p.http("PUT", `/api/posts/${original.id}`, { token: tok(carol), body: { visibility: "followers" } })).status).toBe(200);
			const asStranger = await p.http("GET", `/api/posts/${shared.body.id}`, { token: tok(stranger) });
			expect(asStranger.status).toBe(200);
			expect(asStranger.body.original).toBeNull();
			expect(JSON.stringify(asStranger.body)).not.toContain("soon followers-only");
			const fanFollower = uid("ff");
			await follow(fanFollower, fan);
			const feed = await p.http("GET", "/api/posts/feed/me", { token: tok(fanFollower) });
			const item = feed.body.items.find((i: any) => i.id === shared.body.id);
			expect(item.original).toBeNull();
			expect(JSON.stringify(feed.body)).not.toContain("soon followers-only");
		});

		it("saved list: a saved post disappears from it when the saver may no longer see it", async () => {
			const dana = uid("dana");
			const saver = uid("saver");
			await follow(saver, dana);
			const fPost = await post(dana, { text: "for followers", visibility: "followers" });
			expect((await p.http("POST", `/api/posts/${fPost.id}/save`, { token: tok(saver) })).status).toBe(200);
			let saved = await p.http("GET", "/api/posts/saved/me", { token: tok(saver) });
			expect(saved.body.items.map((i: any) => i.id)).toEqual([fPost.id]);
			expect(saved.body.total).toBe(1);
			// getPost is cached per user: unfollowing must not leave a stale visible copy behind
			expect((await p.http("GET", `/api/posts/${fPost.id}`, { token: tok(saver) })).status).toBe(200);
			await unfollow(saver, dana);
			saved = await p.http("GET", "/api/posts/saved/me", { token: tok(saver) });
			expect(saved.body).toMatchObject({ items: [], total: 0 });
			expect((await p.http("GET", `/api/posts/${fPost.id}`, { token: tok(saver) })).status).toBe(404);
			const feed = await p.http("GET", "/api/posts/feed/me", { token: tok(saver) });
			expect(feed.body.items.map((i: any) => i.id)).not.toContain(fPost.id);
		});
	});

	describe("reactions, saves, shares and comments", () => {
		it("like/unlike and react move exactly one count per user", async () => {
			const author = uid("author");
			const u = uid("u");
			const target = await post(author, { text: "react to me" });
			const like = () => p.http("POST", `/api/posts/${target.id}/like`, { token: tok(u) });
			expect((await like()).body).toMatchObject({ reaction: "like", counts: { like: 1, reactions: 1 } });
			expect((await like()).body).toMatchObject({ reaction: "like", counts: { like: 1, reactions: 1 } });
			const love = await p.http("POST", `/api/posts/${target.id}/react`, { token: tok(u), body: { type: "love" } });
			expect(love.body).toMatchObject({ reaction: "love", counts: { like: 0, love: 1, reactions: 1 } });
			// unlike leaves a different reaction alone
			const unlike = await p.http("DELETE", `/api/posts/${target.id}/like`, { token: tok(u) });
			expect(unlike.body).toMatchObject({ reaction: "love", counts: { love: 1, reactions: 1 } });
			const bad = await p.http("POST", `/api/posts/${target.id}/react`, { token: tok(u), body: { type: "meh" } });
			expect(bad.status).toBe(422);
			const viewer = await p.http("GET", `/api/posts/${target.id}`, { token: tok(u) });
			expect(viewer.body.viewer).toEqual({ reaction: "love", saved: false });
			const removed = await p.http("DELETE", `/api/posts/${target.id}/react`, { token: tok(u) });
			expect(removed.body).toMatchObject({ reaction: null, counts: { love: 0, like: 0, reactions: 0 } });
			const again = await p.http("DELETE", `/api/posts/${target.id}/react`, { token: tok(u) });
			expect(again.body).toMatchObject({ reaction: null, counts: { reactions: 0 } });
			expect((await p.http("GET", `/api/posts/${target.id}`, { token: tok(u) })).body.viewer).toEqual({ reaction: null, saved: false });
		});

		it("save/unsave is idempotent and counted once", async () => {
			const author = uid("author");
			const u = uid("u");
			const target = await post(author, { text: "save me" });
			for (let i = 0; i < 3; i++) expect((await p.http("POST", `/api/posts/${target.id}/save`, { token: tok(u) })).status).toBe(200);
			expect((await p.http("GET", `/api/posts/${target.id}`)).body.counts.saves).toBe(1);
			expect((await p.http("GET", `/api/posts/${target.id}`, { token: tok(u) })).body.viewer.saved).toBe(true);
			expect((await p.http("DELETE", `/api/posts/${target.id}/save`, { token: tok(u) })).status).toBe(204);
			expect((await p.http("DELETE", `/api/posts/${target.id}/save`, { token: tok(u) })).status).toBe(204);
			expect((await p.http("GET", `/api/posts/${target.id}`)).body.counts.saves).toBe(0);
		});

		it("share is once per user: 201 then 200 with the same share; deleting the share uncounts it", async () => {
			const author = uid("author");
			const u = uid("u");
			const target = await post(author, { text: "share me" });
			const first = await p.http("POST", `/api/posts/${target.id}/share`, { token: tok(u), body: { text: "wow" } });
			expect(first.status).toBe(201);
			expect(first.headers.get("location")).toBe(`/api/posts/${first.body.id}`);
			expect(first.body).toMatchObject({ authorId: u, sharedPostId: target.id, text: "wow" });
			const second = await p.http("POST", `/api/posts/${target.id}/share`, { token: tok(u), body: {} });
			expect(second.status).toBe(200);
			expect(second.body.id).toBe(first.body.id);
			// sharing the share shares the original (still once)
			const third = await p.http("POST", `/api/posts/${first.body.id}/share`, { token: tok(u), body: {} });
			expect(third.body.id).toBe(first.body.id);
			expect((await p.http("GET", `/api/posts/${target.id}`)).body.counts.shares).toBe(1);
			expect((await p.http("DELETE", `/api/posts/${first.body.id}`, { token: tok(u) })).status).toBe(204);
			expect((await p.http("GET", `/api/posts/${target.id}`)).body.counts.shares).toBe(0);
		});

		it("comments: add, paginate, delete by the comment's author or the post's author only", async () => {
			const author = uid("author");
			const c1 = uid("c1");
			const c2 = uid("c2");
			const target = await post(author, { text: "comment on me" });
			const ids: string[] = [];
			for (let i = 0; i < 5; i++) {
				const res = await p.http("POST", `/api/posts/${target.id}/comments`, { token: tok(i % 2 ? c2 : c1), body: { text: `comment ${i}` } });
				expect(res.status).toBe(201);
				ids.push(res.body.id);
			}
			const page2 = await p.http("GET", `/api/posts/${target.id}/comments?page=2&pageSize=2`);
			expect(page2.body).toMatchObject({ page: 2, pageSize: 2, total: 5 });
			expect(page2.body.items.map((c: any) => c.text)).toEqual(["comment 2", "comment 3"]);
			expect((await p.http("GET", `/api/posts/${target.id}`)).body.counts.comments).toBe(5);
			// c2 may not delete c1's comment; c1 and the post's author may
			expect((await p.http("DELETE", `/api/posts/${target.id}/comments/${ids[0]}`, { token: tok(c2) })).status).toBe(403);
			expect((await p.http("DELETE", `/api/posts/${target.id}/comments/${ids[0]}`, { token: tok(c1) })).status).toBe(204);
			expect((await p.http("DELETE", `/api/posts/${target.id}/comments/${ids[1]}`, { token: tok(author) })).status).toBe(204);
			expect((await p.http("DELETE", `/api/posts/${target.id}/comments/${ids[1]}`, { token: tok(author) })).status).toBe(404);
			expect((await p.http("GET", `/api/posts/${target.id}`)).body.counts.comments).toBe(3);
		});

		it("deleting a post removes it from feeds, search, saved lists, and marks shares of it", async () => {
			const author = uid("author");
			const fan = uid("fan");
			await follow(fan, author);
			const word = `gone${randomUUID().slice(0, 6)}`;
			const target = await post(author, { text: `to be deleted ${word}` });
			await p.http("POST", `/api/posts/${target.id}/save`, { token: tok(fan) });
			await p.http("POST", `/api/posts/${target.id}/like`, { token: tok(fan) });
			await p.http("POST", `/api/posts/${target.id}/comments`, { token: tok(fan), body: { text: "bye" } });
			const share = await p.http("POST", `/api/posts/${target.id}/share`, { token: tok(fan), body: {} });
			expect((await p.http("DELETE", `/api/posts/${target.id}`, { token: tok(author) })).status).toBe(204);

			const feed = await p.http("GET", "/api/posts/feed/me", { token: tok(fan) });
			expect(feed.body.items.map((i: any) => i.id)).not.toContain(target.id);
			expect((await p.http("GET", `/api/posts/search?q=${word}`)).body.total).toBe(0);
			expect((await p.http("GET", "/api/posts/saved/me", { token: tok(fan) })).body.total).toBe(0);
			const shareNow = await p.http("GET", `/api/posts/${share.body.id}`);
			expect(shareNow.body).toMatchObject({ original: null, originalDeleted: true });
			expect(await p.broker.call("postreactions.countWhere", { query: { postId: target.id } })).toBe(0);
			expect(await p.broker.call("postcomments.countWhere", { query: { postId: target.id } })).toBe(0);
			expect(await p.broker.call("postsaves.countWhere", { query: { postId: target.id } })).toBe(0);
		});

		it("searches by mention and plain words", async () => {
			const author = uid("author");
			const handle = `h${randomUUID().slice(0, 6)}`;
			const word = `zebra${randomUUID().slice(0, 6)}`;
			const target = await post(author, { text: `thanks @${handle} for the ${word}` });
			expect((await p.http("GET", `/api/posts/search?q=@${handle}`)).body.items.map((i: any) => i.id)).toEqual([target.id]);
			expect((await p.http("GET", `/api/posts/search?q=${word.toUpperCase()}`)).body.items.map((i: any) => i.id)).toEqual([target.id]);
			expect((await p.http("GET", `/api/posts/search?q=`)).status).toBe(422);
		});
	});
});
