/**
 * Explore: public posts ranked by recent engagement (README: "Explore"). The ranking is a snapshot kept
 * in the cache, so the later pages of one walk see the same order; first pages share the newest one.
 */
import type { Ctx } from "../../../lib/context";
import { cursorParams } from "../../../lib/paging";
import { decodeCursor, encodeCursor, exploreScore, idPrefixAt, timeOfId, zeroCounts, type PostDoc } from "../common";
import { asMixin, type Row } from "./posts-this";

const HOUR = 3_600_000;
/** Explore looks at public posts of this many days, at most this many of the newest. */
const EXPLORE_DAYS = 7;
const EXPLORE_CANDIDATES = 2000;
const EXPLORE_SNAPSHOT_TTL_S = 600;
/** First pages share the newest snapshot for this long (cleaned at once when a post appears, changes or goes). */
const EXPLORE_LATEST_TTL_S = 5;
export const EXPLORE_LATEST_KEY = "posts.explore-latest";

export const ExploreMixin = asMixin({
	actions: {
		explore: {
			rest: "GET /explore/all",
			auth: "optional",
			summary: "Public posts ranked by recent engagement (the score: README, Explore); cursor-paginated.",
			params: { ...cursorParams, $$strict: "remove" },
			async handler(ctx: Ctx<{ cursor?: string; limit: number }>) {
				const { limit } = ctx.params;
				const cursor = decodeCursor<{ a: number; k: number; i: string }>(
					ctx.params.cursor,
					v => typeof v.a === "number" && typeof v.k === "number" && typeof v.i === "string",
				);
				let asOf = cursor?.a;
				let ranked: [string, number][] | undefined;
				const cacher = this.broker.cacher;
				if (!cursor && cacher) {
					const latest = (await cacher.get(EXPLORE_LATEST_KEY)) as { asOf: number; ranked: [string, number][] } | null;
					if (latest) ({ asOf, ranked } = latest);
				}
				if (!ranked || asOf === undefined) {
					asOf ??= Date.now();
					ranked = await this.exploreSnapshot(asOf);
					if (!cursor && cacher) await cacher.set(EXPLORE_LATEST_KEY, { asOf, ranked }, EXPLORE_LATEST_TTL_S);
				}
				let start = 0;
				if (cursor) {
					// After (score, id) of the last item seen, in (score desc, id desc) order.
					start = ranked.findIndex(([id, score]) => score < cursor.k || (score === cursor.k && id < cursor.i));
					if (start < 0) start = ranked.length;
				}
				const slice = ranked.slice(start, start + limit);
				const byId = new Map((await this.loadPosts(slice.map(([id]) => id))).map(p => [p.id, p]));
				// Still there and still public (it may have been deleted or made private since the snapshot).
				const posts = slice.map(([id]) => byId.get(id)).filter((p): p is PostDoc => !!p && p.visibility === "public");
				const lastRanked = slice[slice.length - 1];
				const nextCursor = start + limit < ranked.length && lastRanked ? encodeCursor({ a: asOf, k: lastRanked[1], i: lastRanked[0] }) : null;
				const items = await this.withViewer(ctx, await this.present(ctx, posts));
				return { items: items.map(item => ({ ...item, score: slice.find(([id]) => id === item.id)?.[1] })), nextCursor };
			},
		},
	},

	methods: {
		/** Public originals of the last EXPLORE_DAYS before `asOf`, ranked; kept in the cache so later pages see the same order. */
		async exploreSnapshot(asOf: number) {
			const key = `posts.explore-snapshot:${asOf}`;
			const cacher = this.broker.cacher;
			const cached = cacher ? ((await cacher.get(key)) as [string, number][] | null) : null;
			if (cached) return cached;
			// The newest EXPLORE_CANDIDATES public posts of the last EXPLORE_DAYS, read through a window that
			// widens (so the store sorts only about that many, not a whole week of posts).
			let docs: Row[] = [];
			for (let windowMs = 6 * HOUR; ; windowMs *= 4) {
				const lowerMs = Math.max(asOf - windowMs, asOf - EXPLORE_DAYS * 24 * HOUR);
				docs = (await this.adapter.find({
					query: { _id: { $gte: idPrefixAt(lowerMs), $lt: idPrefixAt(asOf + 1) }, visibility: "public" },
					sort: ["-_id"],
					limit: EXPLORE_CANDIDATES,
				})) as Row[];
				if (docs.length >= EXPLORE_CANDIDATES || lowerMs <= asOf - EXPLORE_DAYS * 24 * HOUR) break;
			}
			// Shares are filtered here, not in the query: an equality on the indexed sharedPostId would make the
			// embedded store scan every original instead of the id range.
			const ranked: [string, number][] = docs
				.filter(d => !d.sharedPostId)
				.map(d => [d._id as string, exploreScore({ ...zeroCounts(), ...d.counts }, timeOfId(d._id), asOf)] as [string, number])
				.sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? 1 : a[0] > b[0] ? -1 : 0));
			if (cacher) await cacher.set(key, ranked, EXPLORE_SNAPSHOT_TTL_S);
			return ranked;
		},
	},
});
