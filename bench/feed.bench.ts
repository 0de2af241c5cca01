/**
 * Feed benchmark: one reader following 1,000 accounts, 100,000 posts by 5,000 authors over 30 days
 * (70% public, 20% followers-only, 10% private), seeded straight through the adapters. Measures the
 * `posts.feed` action (pages 1..5 through the cursor) and `posts.explore` in-process, p50/p99.
 *
 *   npx tsx bench/feed.bench.ts            # defaults
 *   POSTS=200000 FOLLOWS=2000 npx tsx bench/feed.bench.ts
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const POSTS = Number(process.env.POSTS ?? 100_000);
const AUTHORS = Number(process.env.AUTHORS ?? 5_000);
const FOLLOWS = Number(process.env.FOLLOWS ?? 1_000);
const DAYS = Number(process.env.DAYS ?? 30);
const ROUNDS = Number(process.env.ROUNDS ?? 200);

process.env.NODE_ENV = "test";
process.env.DB_DRIVER = "memory";
process.env.LOG_LEVEL = process.env.LOG_LEVEL ?? "warn";
process.env.METRICS = "false";
process.env.DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "valence-feed-bench-"));

function percentile(sorted: number[], p: number): number {
	return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
	const { ServiceBroker } = await import("moleculer");
	const { brokerOptions } = await import("../moleculer.config");
	const { config } = await import("../lib/config");
	const { idPrefixAt, zeroCounts } = await import("../services/social/common");
	const broker = new ServiceBroker({ ...brokerOptions(config()), nodeID: "feed-bench" });
	for (const name of ["posts", "socialfollows", "postreactions", "postsaves", "postshares", "postcomments"])
		broker.loadService(path.join(__dirname, "..", "services", "social", `${name}.service.ts`));
	await broker.start();

	const posts = broker.getLocalService("posts") as any;
	const follows = broker.getLocalService("socialfollows") as any;
	const reader = "reader";
	const authors = Array.from({ length: AUTHORS }, (_, i) => `author${i}`);
	const followed = authors.slice(0, FOLLOWS);

	let t = Date.now();
	await follows.adapter.insertMany(followed.map(a => ({ _id: `f-${a}`, followerId: reader, followeeId: a, active: true, atMs: 0 })));
	const now = Date.now();
	const span = DAYS * 24 * 3_600_000;
	const batch: Record<string, unknown>[] = [];
	const visibilities = ["public", "public", "public", "public", "public", "public", "public", "followers", "followers", "private"];
	for (let i = 0; i < POSTS; i++) {
		const createdMs = now - Math.floor(Math.random() * span);
		const created = new Date(createdMs).toISOString();
		batch.push({
			_id: idPrefixAt(createdMs) + randomBytes(8).toString("base64url").slice(0, 11),
			authorId: authors[Math.floor(Math.random() * AUTHORS)],
			text: `post ${i} #tag${i % 100}`,
			visibility: visibilities[i % visibilities.length],
			mediaIds: [],
			hashtags: [`tag${i % 100}`],
			mentions: [],
			terms: ["post", String(i), `#tag${i % 100}`],
			sharedPostId: null,
			counts: { ...zeroCounts(), like: i % 7, reactions: i % 7, comments: i % 3 },
			createdAt: created,
			updatedAt: created,
		});
		if (batch.length === 5000) await posts.adapter.insertMany(batch.splice(0));
	}
	if (batch.length) await posts.adapter.insertMany(batch.splice(0));
	console.log(`seeded ${POSTS} posts by ${AUTHORS} authors over ${DAYS} days; reader follows ${FOLLOWS} (${Date.now() - t} ms)`);

	const meta = { user: { id: reader, tenantId: null, roles: [] } };
	const measure = async (label: string, fn: () => Promise<number>) => {
		for (let i = 0; i < 10; i++) await fn(); // warm up
		const times: number[] = [];
		let items = 0;
		for (let i = 0; i < ROUNDS; i++) {
			const start = process.hrtime.bigint();
			items += await fn();
			times.push(Number(process.hrtime.bigint() - start) / 1e6);
		}
		times.sort((a, b) => a - b);
		console.log(
			`${label.padEnd(28)} p50 ${percentile(times, 50).toFixed(2)} ms   p99 ${percentile(times, 99).toFixed(2)} ms   max ${times[times.length - 1].toFixed(2)} ms   (${ROUNDS} runs, ${(items / ROUNDS).toFixed(1)} items/page)`,
		);
	};

	t = Date.now();
	const cursors: (string | undefined)[] = [undefined];
	for (let page = 0; page < 5; page++) {
		const res = (await broker.call("posts.feed", { limit: 20, cursor: cursors[page] }, { meta })) as { nextCursor: string | null };
		cursors.push(res.nextCursor ?? undefined);
	}
	for (let page = 0; page < 5; page++) {
		await measure(`feed page ${page + 1} (limit 20)`, async () => {
			const res = (await broker.call("posts.feed", { limit: 20, cursor: cursors[page] }, { meta })) as { items: unknown[] };
			return res.items.length;
		});
	}
	// Deep page: a cursor one week back.
	const weekBack = Buffer.from(JSON.stringify({ t: now - 7 * 86_400_000, i: idPrefixAt(now - 7 * 86_400_000) })).toString("base64url");
	await measure(
		"feed page a week back",
		async () => ((await broker.call("posts.feed", { limit: 20, cursor: weekBack }, { meta })) as { items: unknown[] }).items.length,
	);
	const explore = async () => ((await broker.call("posts.explore", { limit: 20 }, { meta })) as { items: unknown[] }).items.length;
	await measure("explore page 1 (cold)", async () => {
		await broker.cacher!.clean("posts.explore-latest");
		return explore();
	});
	await measure("explore page 1 (warm)", explore);

	await broker.stop();
	fs.rmSync(process.env.DATA_DIR!, { recursive: true, force: true });
}

main().catch(err => {
	console.error(err);
	process.exit(1);
});
