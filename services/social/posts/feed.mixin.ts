/**
 * The personalised feed, fan-out on read (README: "Feed: fan-out on read"): the followee ids come from
 * the social follow projection (socialfollows), and the posts are read newest first by id (ids are
 * time-ordered) within a time window that widens until the page is full.
 */
import { config, dbDriver } from "../../../lib/config";
import { currentUser, type Ctx } from "../../../lib/context";
import { cursorParams } from "../../../lib/paging";
import { rowToEntity } from "../../../mixins/db.mixin";
import { decodeCursor, encodeCursor, idPrefixAt, timeOfId, type PostDoc } from "../common";
import { asMixin, type Row } from "./posts-this";

const HOUR = 3_600_000;

/** The embedded store (NeDB) or MongoDB: the feed query is shaped for the store that runs it. */
const embedded = dbDriver(config()) !== "mongo";

/** Feed filter for the embedded store: an author in the set, and not someone else's private post. */
function feedFilter(authors: Set<string>, userId: string) {
	// NeDB calls a `$where` function with the document as `this` (its API, not ours).
	return function (this: Row) {
		return authors.has(this.authorId) && (this.authorId === userId || this.visibility !== "private");
	};
}

export const FeedMixin = asMixin({
	actions: {
		feed: {
			rest: "GET /feed/me",
			auth: "required",
			summary: "Your feed: posts of the people you follow that you may see, and your own; newest first, cursor-paginated.",
			params: { ...cursorParams, $$strict: "remove" },
			async handler(ctx: Ctx<{ cursor?: string; limit: number }>) {
				const userId = currentUser(ctx).id;
				const { limit } = ctx.params;
				const cursor = decodeCursor<{ t: number; i: string }>(
					ctx.params.cursor,
					v => typeof v.i === "string" && /^[0-9a-z]{9}[\w-]{0,55}$/.test(v.i) && typeof v.t === "number",
				);
				const followees = (await ctx.call("socialfollows.followees", { userId })) as string[];
				const authors = [...new Set([userId, ...followees])];
				const upper = cursor?.i;
				const top = cursor ? timeOfId(cursor.i) : Date.now() + 60_000;
				// Fan-out on read: newest first by (time-ordered) id inside a window that widens until the page is full.
				let windowMs = 6 * HOUR;
				let docs: Row[] = [];
				for (;;) {
					const lowerMs = top - windowMs;
					const idRange: Row = {};
					if (upper) idRange.$lt = upper;
					if (lowerMs > 0) idRange.$gte = idPrefixAt(lowerMs);
					const query: Row = embedded
						? // NeDB checks `$in` by scanning the array per document; a Set lookup keeps 1,000 followees cheap.
							{ $where: feedFilter(new Set(authors), userId) }
						: { authorId: { $in: authors }, $or: [{ authorId: userId }, { visibility: { $in: ["public", "followers"] } }] };
					if (Object.keys(idRange).length) query._id = idRange;
					docs = (await this.adapter.find({ query, sort: ["-_id"], limit: limit + 1 })) as Row[];
					if (docs.length > limit || lowerMs <= 0) break;
					windowMs *= 4;
				}
				const page = docs.slice(0, limit).map(d => rowToEntity<PostDoc>(d)!);
				const last = page[page.length - 1];
				const nextCursor = docs.length > limit && last ? encodeCursor({ t: Date.parse(last.createdAt), i: last.id }) : null;
				return { items: await this.withViewer(ctx, await this.present(ctx, page)), nextCursor };
			},
		},
	},
});
