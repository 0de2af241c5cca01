/**
 * The social services in-process (no gateway): the service-side access rules, counter repair from the
 * unique rows, retried calls, and the follow projection's handling of bad messages.
 */
import { randomUUID } from "node:crypto";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

describe("social services in-process", () => {
	let p: Platform;
	const as = (id: string) => ({ meta: { user: { id, tenantId: null, roles: [] } } });
	const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

	beforeAll(async () => {
		p = await startPlatform({ services: ["social"], gateway: false });
	});
	afterAll(() => p.stop());

	it("enforces auth on the service side too", async () => {
		// (the access middleware may throw synchronously: call inside an async function)
		await expect((async () => p.broker.call("posts.createPost", { text: "no user" }))()).rejects.toMatchObject({ code: 401 });
		await expect((async () => p.broker.call("posts.feed", {}))()).rejects.toMatchObject({ code: 401 });
	});

	it("a repeated call (a client or broker retry) never counts twice", async () => {
		const author = uid("author");
		const u = uid("u");
		const post: any = await p.broker.call("posts.createPost", { text: "retry me" }, as(author));
		for (let i = 0; i < 3; i++) {
			await p.broker.call("posts.like", { id: post.id }, as(u));
			await p.broker.call("posts.save", { id: post.id }, as(u));
			await p.broker.call("posts.share", { id: post.id }, as(u));
		}
		const now: any = await p.broker.call("posts.getPost", { id: post.id }, as(author));
		expect(now.counts).toMatchObject({ like: 1, reactions: 1, saves: 1, shares: 1 });
	});

	it("recount rebuilds drifted counters from the rows", async () => {
		const author = uid("author");
		const post: any = await p.broker.call("posts.createPost", { text: "drift" }, as(author));
		const users = [uid("a"), uid("b"), uid("c")];
		for (const u of users) await p.broker.call("posts.react", { id: post.id, type: "wow" }, as(u));
		await p.broker.call("posts.addComment", { id: post.id, text: "hi" }, as(users[0]));
		// simulate a crash between a row write and its $inc
		const posts = p.broker.getLocalService("posts") as any;
		await posts.adapter.updateMany({ _id: post.id }, { $set: { "counts.wow": 99, "counts.comments": 0 } });
		const counts = await p.broker.call("posts.recount", { id: post.id });
		expect(counts).toMatchObject({ wow: 3, reactions: 3, comments: 1, like: 0 });
		const fresh: any = await p.broker.call("posts.getPost", { id: post.id }, as(author));
		expect(fresh.counts).toMatchObject({ wow: 3, comments: 1 });
	});

	it("ignores malformed follow messages and keeps consuming", async () => {
		const send = (channel: string, payload: unknown) => (p.broker as any).sendToChannel(channel, payload);
		await send("users.followed", { eventId: randomUUID(), followerId: "", followeeId: 3 });
		await send("users.unfollowed", null);
		const a = uid("a");
		const b = uid("b");
		await send("users.followed", { eventId: randomUUID(), actorId: a, followerId: a, followeeId: b, at: new Date().toISOString() });
		await waitFor(() => p.broker.call("socialfollows.isFollowing", { followerId: a, followeeId: b }), { what: "the valid message applied" });
		expect(await p.broker.call("socialfollows.followingAmong", { followerId: a, ids: [b, "someone-else"] })).toEqual([b]);
	});
});
