/**
 * `posts` and `likesReceived` in GET /api/users/:id/stats, kept from the social domain's channels
 * (published here by the test, as the posts service will): exact under redelivery of any message.
 */
import { randomUUID } from "node:crypto";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

type Sender = { sendToChannel(name: string, payload: unknown): Promise<void> };

describe("users stats from social events", () => {
	let p: Platform;
	let apply: jest.SpyInstance;
	const uid = () => `u${randomUUID().replace(/-/g, "").slice(0, 16)}`;

	beforeAll(async () => {
		p = await startPlatform({ services: ["users"] });
		const svc = p.broker.getLocalService("users") as unknown as { applySocialEvent(...args: unknown[]): Promise<void> };
		apply = jest.spyOn(svc, "applySocialEvent");
	});
	afterAll(() => p.stop());

	/** Publishes the messages and waits until the consumer has handled every one of them. */
	async function deliver(messages: [string, Record<string, unknown>][]) {
		const before = apply.mock.calls.length;
		for (const [channel, payload] of messages) await (p.broker as unknown as Sender).sendToChannel(channel, payload);
		await waitFor(() => apply.mock.calls.length >= before + messages.length, { what: "the social messages" });
		const results = await Promise.allSettled(apply.mock.results.slice(before).map(r => r.value));
		expect(results.every(r => r.status === "fulfilled")).toBe(true);
	}

	const event = (actorId: string, authorId: string, postId: string) => ({
		eventId: randomUUID(),
		actorId,
		authorId,
		postId,
		tenantId: null,
		at: new Date().toISOString(),
	});

	it("counts posts and likes received, once per event even when delivered again", async () => {
		const [author, fan1, fan2] = [uid(), uid(), uid()];
		for (const [id, name] of [
			[author, "Author"],
			[fan1, "Fan One"],
			[fan2, "Fan Two"],
		])
			await p.broker.call("users.createProfile", { id, email: `${id}@example.test`, name });
		const [post1, post2] = [randomUUID(), randomUUID()];

		const created1 = event(author, author, post1);
		const created2 = event(author, author, post2);
		await deliver([
			["posts.created", created1],
			["posts.created", created1],
			["posts.created", created2],
		]);
		expect((await p.http("GET", `/api/users/${author}/stats`)).body).toEqual({ followers: 0, following: 0, posts: 2, likesReceived: 0 });

		const like1 = event(fan1, author, post1);
		const like2 = event(fan2, author, post1);
		const like3 = event(fan1, author, post2);
		await deliver([
			["posts.liked", like1],
			["posts.liked", like1],
			["posts.liked", like2],
			["posts.liked", like3],
			["posts.liked", like3],
		]);
		expect((await p.http("GET", `/api/users/${author}/stats`)).body).toMatchObject({ posts: 2, likesReceived: 3 });

		const unlike2 = event(fan2, author, post1);
		await deliver([
			["posts.unliked", unlike2],
			["posts.deleted", event(author, author, post2)],
		]);
		expect((await p.http("GET", `/api/users/${author}/stats`)).body).toMatchObject({ posts: 1, likesReceived: 1 });

		// Old messages delivered again (a replay, a redelivery) change nothing.
		await deliver([
			["posts.liked", like2],
			["posts.created", created2],
			["posts.unliked", unlike2],
		]);
		expect((await p.http("GET", `/api/users/${author}/stats`)).body).toEqual({ followers: 0, following: 0, posts: 1, likesReceived: 1 });
		// Likers' own stats are untouched.
		expect((await p.http("GET", `/api/users/${fan1}/stats`)).body).toEqual({ followers: 0, following: 0, posts: 0, likesReceived: 0 });
	});
});
