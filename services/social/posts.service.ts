/**
 * Posts: create/read/update/delete, the personalised feed, explore, reactions (a like is the
 * reaction "like"), saves, shares, comments and search. Every read path filters by the post's
 * visibility for the caller (public / followers / private) through `visibleTo`.
 *
 * Counters on a post move only when the unique row behind them (postreactions, postsaves, postshares:
 * one per post and user) was really inserted, changed or removed, with an atomic `$inc`: concurrent
 * clicks and retries cannot make them drift. `recount` rebuilds them from the rows if ever needed.
 *
 * The feed is fan-out on read (see docs/social.md): the followee ids come from the social follow
 * projection (socialfollows), and the posts are read newest first by id (ids are time-ordered) within
 * a time window that widens until the page is full.
 */
import { currentUser, type Ctx } from "../../lib/context";
import { ConcurrentChangeError, ForbiddenError, NotFoundError } from "../../lib/errors";
import { cursorParams } from "../../lib/paging";
import { config, dbDriver } from "../../lib/config";
import type { DbSettings, MixinSchema, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { DbMixin, newId, rowToEntity } from "../../mixins/db.mixin";
import { OutboxMixin, type OutboxMethods } from "../../mixins/outbox.mixin";
import {
	REACTIONS,
	VISIBILITIES,
	canSee,
	decodeCursor,
	encodeCursor,
	eventPayload,
	exploreScore,
	extractHashtags,
	extractMentions,
	idParam,
	idPrefixAt,
	pageParams,
	queryTerms,
	searchTerms,
	timeOfId,
	zeroCounts,
	type Counts,
	type PostDoc,
	type ReactionType,
	type Visibility,
} from "./common";
import type { SocialDbMethods, SocialDbVars } from "./social-db";

const HOUR = 3_600_000;
/** Explore looks at public posts of this many days, at most this many of the newest. */
const EXPLORE_DAYS = 7;
const EXPLORE_CANDIDATES = 2000;
const EXPLORE_SNAPSHOT_TTL_S = 600;
/** First pages share the newest snapshot for this long (cleaned at once when a post appears, changes or goes). */
const EXPLORE_LATEST_TTL_S = 5;
const EXPLORE_LATEST_KEY = "posts.explore-latest";

/** The embedded store (NeDB) or MongoDB: a few queries are shaped for the store that runs them. */
const embedded = dbDriver(config()) !== "mongo";

/** Feed filter for the embedded store: an author in the set, and not someone else's private post. */
function feedFilter(authors: Set<string>, userId: string) {
	// NeDB calls a `$where` function with the document as `this` (its API, not ours).
	return function (this: Row) {
		return authors.has(this.authorId) && (this.authorId === userId || this.visibility !== "private");
	};
}
type Row = Record<string, any>;

export interface PostsMethods extends SocialDbMethods, OutboxMethods {
	loadPost(id: string): Promise<PostDoc | null>;
	loadPosts(ids: string[]): Promise<PostDoc[]>;
	followingAmong(ctx: Ctx<object>, viewerId: string | null, authorIds: string[]): Promise<Set<string>>;
	visibleTo(ctx: Ctx<object>, posts: PostDoc[]): Promise<PostDoc[]>;
	/** The post if the caller may see it; null when it is missing or hidden from them (the same 404 for both). */
	loadVisible(ctx: Ctx<object>, id: string): Promise<PostDoc | null>;
	present(ctx: Ctx<object>, posts: PostDoc[]): Promise<Row[]>;
	incCounts(postId: string, inc: Partial<Record<keyof Counts, number>>): Promise<void>;
	cleanPost(postId: string, opts?: { withShares?: boolean }): Promise<void>;
	publish(channel: string, payload: Record<string, unknown>): Promise<void>;
	setReaction(ctx: Ctx<object>, post: PostDoc, userId: string, type: ReactionType | null, onlyIf?: ReactionType): Promise<ReactionType | null>;
	exploreSnapshot(asOf: number): Promise<[string, number][]>;
	releaseMedia(ctx: Ctx<object>, ids: string[]): Promise<void>;
}

/** The caller of an `auth: "optional"` action, or null (anonymous). */
const viewerOf = (ctx: Ctx<object>) => ctx.meta.user?.id ?? null;

const visibilityParam = { type: "enum", values: VISIBILITIES } as const;
const textParam = { type: "string", trim: true, min: 1, max: 5000 } as const;
const mediaIdsParam = { type: "array", items: idParam, max: 10, unique: true } as const;

const PostsService: ServiceSchema<DbSettings, PostsMethods, SocialDbVars> = {
	name: "posts",
	mixins: [
		DbMixin({
			collection: "social_posts",
			indexes: [{ fields: ["terms"] }, { fields: ["sharedPostId"] }, { fields: ["authorId", "_id"] }],
		}) as MixinSchema,
		OutboxMixin({ collection: "social_posts_outbox" }),
	],

	actions: {
		createPost: {
			rest: "POST /",
			auth: "required",
			summary: "Publish a post.",
			params: {
				text: textParam,
				visibility: { ...visibilityParam, default: "public" },
				mediaIds: { ...mediaIdsParam, optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ text: string; visibility: Visibility; mediaIds?: string[] }>) {
				const userId = currentUser(ctx).id;
				const { text, visibility } = ctx.params;
				const mediaIds = ctx.params.mediaIds ?? [];
				const id = newId();
				if (mediaIds.length) await ctx.call("media.claim", { ids: mediaIds, userId, postId: id });
				let post: PostDoc;
				try {
					post = await this._create<PostDoc>(ctx, {
						id,
						authorId: userId,
						text,
						visibility,
						mediaIds,
						hashtags: extractHashtags(text),
						mentions: extractMentions(text),
						terms: searchTerms(text),
						sharedPostId: null,
						counts: zeroCounts(),
					});
				} catch (err) {
					if (mediaIds.length) await ctx.call("media.unclaim", { ids: mediaIds, postId: id }).catch(() => undefined);
					throw err;
				}
				await this.broker.cacher?.clean(EXPLORE_LATEST_KEY);
				await this.publish("posts.created", eventPayload(userId, { authorId: userId, postId: post.id, visibility }));
				ctx.meta.$statusCode = 201;
				return (await this.present(ctx, [post]))[0];
			},
		},

		getPost: {
			rest: "GET /:id",
			auth: "optional",
			summary: "One post, if the caller may see it (404 otherwise).",
			cache: { keys: ["id", "#user.id"] },
			params: { id: idParam, $$strict: "remove" },
			entity: "loadVisible",
			async handler(ctx: Ctx<{ id: string }>) {
				const post = entityOf<PostDoc>(ctx);
				const [out] = await this.present(ctx, [post]);
				const userId = viewerOf(ctx);
				if (userId) {
					const [reaction] = (await ctx.call("postreactions.findWhere", { query: { postId: post.id, userId }, limit: 1 })) as Row[];
					const saved = (await ctx.call("postsaves.countWhere", { query: { postId: post.id, userId } })) as number;
					out.viewer = { reaction: reaction?.type ?? null, saved: saved > 0 };
				}
				return out;
			},
		},

		updatePost: {
			rest: "PUT /:id",
			auth: "required",
			summary: "Edit your post (text, visibility, media).",
			params: {
				id: idParam,
				text: { ...textParam, optional: true },
				visibility: { ...visibilityParam, optional: true },
				mediaIds: { ...mediaIdsParam, optional: true },
				$$strict: "remove",
			},
			entity: "loadVisible",
			async handler(ctx: Ctx<{ id: string; text?: string; visibility?: Visibility; mediaIds?: string[] }>) {
				const userId = currentUser(ctx).id;
				const post = entityOf<PostDoc>(ctx);
				if (post.authorId !== userId) throw new ForbiddenError("Only the author can edit a post.");
				const { text, visibility, mediaIds } = ctx.params;
				const set: Row = {};
				if (text !== undefined) Object.assign(set, { text, hashtags: extractHashtags(text), mentions: extractMentions(text), terms: searchTerms(text) });
				if (visibility !== undefined) set.visibility = visibility;
				let released: string[] = [];
				if (mediaIds !== undefined) {
					const added = mediaIds.filter(m => !post.mediaIds.includes(m));
					if (added.length) await ctx.call("media.claim", { ids: added, userId, postId: post.id });
					released = post.mediaIds.filter(m => !mediaIds.includes(m));
					set.mediaIds = mediaIds;
				}
				if (Object.keys(set).length) {
					set.updatedAt = new Date().toISOString();
					await this.adapter.updateById(post.id, { $set: set });
					await this.cleanPost(post.id, { withShares: true });
					await this.broker.cacher?.clean(EXPLORE_LATEST_KEY);
				}
				if (released.length) await this.releaseMedia(ctx, released);
				await this.publish("posts.updated", eventPayload(userId, { authorId: userId, postId: post.id, visibility: set.visibility ?? post.visibility }));
				const updated = await this.loadPost(post.id);
				if (!updated) throw new NotFoundError();
				return (await this.present(ctx, [updated]))[0];
			},
		},

		deletePost: {
			rest: "DELETE /:id",
			auth: "required",
			summary: "Delete your post: gone from every feed, search, saved list and counter; its media released.",
			params: { id: idParam },
			entity: "loadVisible",
			async handler(ctx: Ctx<{ id: string }>) {
				const userId = currentUser(ctx).id;
				const post = entityOf<PostDoc>(ctx);
				if (post.authorId !== userId) throw new ForbiddenError("Only the author can delete a post.");
				const removed = await this.adapter.removeMany({ _id: post.id });
				await this.cleanPost(post.id, { withShares: true });
				await this.broker.cacher?.clean(EXPLORE_LATEST_KEY);
				if (!removed) {
					ctx.meta.$statusCode = 204;
					return null;
				}
				// Rows that hung on the post go with it; shares of it keep their own text and say the original is gone.
				await Promise.all([
					ctx.call("postreactions.removeWhere", { query: { postId: post.id } }),
					ctx.call("postsaves.removeWhere", { query: { postId: post.id } }),
					ctx.call("postcomments.removeWhere", { query: { postId: post.id } }),
					ctx.call("postshares.removeWhere", { query: { postId: post.id } }),
					this.adapter.updateMany({ sharedPostId: post.id }, { $set: { originalDeleted: true } }),
				]);
				if (post.sharedPostId) {
					const n = (await ctx.call("postshares.removeWhere", { query: { postId: post.sharedPostId, userId } })) as number;
					if (n) await this.incCounts(post.sharedPostId, { shares: -n });
				}
				if (post.mediaIds?.length) await this.releaseMedia(ctx, post.mediaIds);
				// `likes` lets consumers keeping "likes received" drop the likes that went with the post.
				await this.publish(
					"posts.deleted",
					eventPayload(userId, { authorId: userId, postId: post.id, sharedPostId: post.sharedPostId ?? null, likes: post.counts?.like ?? 0 }),
				);
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

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
				return { items: await this.present(ctx, page), nextCursor };
			},
		},

		explore: {
			rest: "GET /explore/all",
			auth: "optional",
			summary: "Public posts ranked by recent engagement (see docs/social.md for the score); cursor-paginated.",
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
				const items = await this.present(ctx, posts);
				return { items: items.map(item => ({ ...item, score: slice.find(([id]) => id === item.id)?.[1] })), nextCursor };
			},
		},

		like: {
			rest: "POST /:id/like",
			auth: "required",
			idempotent: true,
			summary: "Like a post (your reaction becomes 'like'). Idempotent.",
			params: { id: idParam },
			entity: "loadVisible",
			async handler(ctx: Ctx<{ id: string }>) {
				const userId = currentUser(ctx).id;
				const post = entityOf<PostDoc>(ctx);
				const reaction = await this.setReaction(ctx, post, userId, "like");
				return { postId: post.id, reaction, counts: (await this.loadPost(post.id))?.counts ?? post.counts };
			},
		},
		unlike: {
			rest: "DELETE /:id/like",
			auth: "required",
			summary: "Remove your like (a different reaction is left alone). Idempotent.",
			params: { id: idParam },
			entity: "loadVisible",
			async handler(ctx: Ctx<{ id: string }>) {
				const userId = currentUser(ctx).id;
				const post = entityOf<PostDoc>(ctx);
				const reaction = await this.setReaction(ctx, post, userId, null, "like");
				return { postId: post.id, reaction, counts: (await this.loadPost(post.id))?.counts ?? post.counts };
			},
		},
		react: {
			rest: "POST /:id/react",
			auth: "required",
			idempotent: true,
			summary: "Set your reaction (one per user per post; changing it moves the count).",
			params: { id: idParam, type: { type: "enum", values: [...REACTIONS] }, $$strict: "remove" },
			entity: "loadVisible",
			async handler(ctx: Ctx<{ id: string; type: ReactionType }>) {
				const userId = currentUser(ctx).id;
				const post = entityOf<PostDoc>(ctx);
				const reaction = await this.setReaction(ctx, post, userId, ctx.params.type);
				return { postId: post.id, reaction, counts: (await this.loadPost(post.id))?.counts ?? post.counts };
			},
		},
		unreact: {
			rest: "DELETE /:id/react",
			auth: "required",
			summary: "Remove your reaction, whatever it is. Idempotent.",
			params: { id: idParam },
			entity: "loadVisible",
			async handler(ctx: Ctx<{ id: string }>) {
				const userId = currentUser(ctx).id;
				const post = entityOf<PostDoc>(ctx);
				const reaction = await this.setReaction(ctx, post, userId, null);
				return { postId: post.id, reaction, counts: (await this.loadPost(post.id))?.counts ?? post.counts };
			},
		},

		save: {
			rest: "POST /:id/save",
			auth: "required",
			idempotent: true,
			summary: "Save (bookmark) a post. Idempotent.",
			params: { id: idParam },
			entity: "loadVisible",
			async handler(ctx: Ctx<{ id: string }>) {
				const userId = currentUser(ctx).id;
				const post = entityOf<PostDoc>(ctx);
				const res = (await ctx.call("postsaves.add", { entity: { postId: post.id, userId }, uniqueBy: ["postId", "userId"] })) as { created: boolean };
				if (res.created) await this.incCounts(post.id, { saves: 1 });
				return { postId: post.id, saved: true };
			},
		},
		unsave: {
			rest: "DELETE /:id/save",
			auth: "required",
			summary: "Remove a post from your saved list. Idempotent.",
			params: { id: idParam },
			async handler(ctx: Ctx<{ id: string }>) {
				const userId = currentUser(ctx).id;
				const n = (await ctx.call("postsaves.removeWhere", { query: { postId: ctx.params.id, userId } })) as number;
				if (n) await this.incCounts(ctx.params.id, { saves: -n });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},
		saved: {
			rest: "GET /saved/me",
			auth: "required",
			summary: "Your saved posts that you may still see, most recently saved first.",
			params: { ...pageParams, $$strict: "remove" },
			async handler(ctx: Ctx<{ page: number; pageSize: number }>) {
				const userId = currentUser(ctx).id;
				const { page, pageSize } = ctx.params;
				const rows = (await ctx.call("postsaves.findWhere", { query: { userId }, sort: ["-_id"], limit: 5000 })) as Row[];
				const byId = new Map((await this.loadPosts(rows.map(r => r.postId))).map(p => [p.id, p]));
				const ordered = rows.map(r => byId.get(r.postId)).filter((p): p is PostDoc => !!p);
				const visible = await this.visibleTo(ctx, ordered);
				const items = await this.present(ctx, visible.slice((page - 1) * pageSize, page * pageSize));
				return { items, page, pageSize, total: visible.length };
			},
		},

		share: {
			rest: "POST /:id/share",
			auth: "required",
			idempotent: true,
			summary: "Share (repost) a public post, once per user: 201 with the share post, 200 with the existing one.",
			params: { id: idParam, text: { type: "string", trim: true, max: 5000, optional: true }, $$strict: "remove" },
			entity: "loadVisible",
			async handler(ctx: Ctx<{ id: string; text?: string }>) {
				const userId = currentUser(ctx).id;
				let original = entityOf<PostDoc>(ctx);
				// Sharing a share shares its original.
				if (original.sharedPostId) {
					const inner = await this.loadVisible(ctx, original.sharedPostId);
					if (!inner) throw new NotFoundError();
					original = inner;
				}
				if (original.visibility !== "public") throw new ForbiddenError("Only public posts can be shared.");
				const existingShare = async (): Promise<PostDoc | null> => {
					const [row] = (await ctx.call("postshares.findWhere", { query: { postId: original.id, userId }, limit: 1 })) as Row[];
					return row ? this.loadPost(row.sharePostId) : null;
				};
				const already = await existingShare();
				if (already) return (await this.present(ctx, [already]))[0];
				// The share post first, then the unique row that makes it count: a row always points at an
				// existing post, and of concurrent duplicates only the one whose row went in survives.
				const text = ctx.params.text ?? "";
				const share = await this._create<PostDoc>(ctx, {
					id: newId(),
					authorId: userId,
					text,
					visibility: "public",
					mediaIds: [],
					hashtags: extractHashtags(text),
					mentions: extractMentions(text),
					terms: searchTerms(text),
					sharedPostId: original.id,
					counts: zeroCounts(),
				});
				const res = (await ctx.call("postshares.add", {
					entity: { postId: original.id, userId, sharePostId: share.id },
					uniqueBy: ["postId", "userId"],
				})) as { created: boolean; row: Row | null };
				if (!res.created) {
					await this.adapter.removeMany({ _id: share.id });
					const winner = await existingShare();
					if (!winner) throw new ConcurrentChangeError("The share is changing; try again.");
					return (await this.present(ctx, [winner]))[0];
				}
				await this.incCounts(original.id, { shares: 1 });
				// A share is a post of its author too (and posts.deleted follows when it is deleted).
				await this.publish("posts.created", eventPayload(userId, { authorId: userId, postId: share.id, visibility: "public", sharedPostId: original.id }));
				await this.publish("posts.shared", eventPayload(userId, { authorId: original.authorId, postId: original.id, sharePostId: share.id }));
				ctx.meta.$statusCode = 201;
				return (await this.present(ctx, [share]))[0];
			},
		},

		addComment: {
			rest: "POST /:id/comments",
			auth: "required",
			summary: "Comment on a post you may see.",
			params: { id: idParam, text: { type: "string", trim: true, min: 1, max: 2000 }, $$strict: "remove" },
			entity: "loadVisible",
			async handler(ctx: Ctx<{ id: string; text: string }>) {
				const userId = currentUser(ctx).id;
				const post = entityOf<PostDoc>(ctx);
				const res = (await ctx.call("postcomments.add", {
					entity: { postId: post.id, authorId: userId, text: ctx.params.text, mentions: extractMentions(ctx.params.text) },
				})) as { row: Row };
				await this.incCounts(post.id, { comments: 1 });
				await this.publish("posts.commented", eventPayload(userId, { authorId: post.authorId, postId: post.id, commentId: res.row.id }));
				ctx.meta.$statusCode = 201;
				return res.row;
			},
		},
		comments: {
			rest: "GET /:id/comments",
			auth: "optional",
			summary: "Comments of a post you may see, oldest first.",
			params: { id: idParam, ...pageParams, $$strict: "remove" },
			entity: "loadVisible",
			async handler(ctx: Ctx<{ id: string; page: number; pageSize: number }>) {
				const post = entityOf<PostDoc>(ctx);
				const { page, pageSize } = ctx.params;
				const [items, total] = await Promise.all([
					ctx.call("postcomments.findWhere", { query: { postId: post.id }, sort: ["_id"], limit: pageSize, offset: (page - 1) * pageSize }),
					ctx.call("postcomments.countWhere", { query: { postId: post.id } }),
				]);
				return { items, page, pageSize, total };
			},
		},
		deleteComment: {
			rest: "DELETE /:id/comments/:commentId",
			auth: "required",
			summary: "Delete a comment: its author or the post's author.",
			params: { id: idParam, commentId: idParam },
			entity: "loadVisible",
			async handler(ctx: Ctx<{ id: string; commentId: string }>) {
				const userId = currentUser(ctx).id;
				const post = entityOf<PostDoc>(ctx);
				const [comment] = (await ctx.call("postcomments.findWhere", { query: { id: ctx.params.commentId, postId: post.id }, limit: 1 })) as Row[];
				if (!comment) throw new NotFoundError();
				if (comment.authorId !== userId && post.authorId !== userId) throw new ForbiddenError("Only the comment's author or the post's author can delete it.");
				const n = (await ctx.call("postcomments.removeWhere", { query: { id: comment.id, postId: post.id } })) as number;
				if (n) await this.incCounts(post.id, { comments: -n });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		search: {
			rest: "GET /search",
			auth: "optional",
			summary: "Posts you may see whose text has every word of `q` (`#tag` and `@user` match hashtags and mentions).",
			params: { q: { type: "string", trim: true, min: 1, max: 200 }, ...pageParams, $$strict: "remove" },
			async handler(ctx: Ctx<{ q: string; page: number; pageSize: number }>) {
				const { page, pageSize } = ctx.params;
				const terms = queryTerms(ctx.params.q);
				if (!terms.length) return { items: [], page, pageSize, total: 0 };
				const docs = (await this.adapter.find({ query: { terms: terms[0] }, sort: ["-_id"], limit: 2000 })) as Row[];
				const matching = docs.filter(d => terms.every(t => (d.terms as string[]).includes(t))).map(d => rowToEntity<PostDoc>(d)!);
				const visible = await this.visibleTo(ctx, matching);
				const items = await this.present(ctx, visible.slice((page - 1) * pageSize, page * pageSize));
				return { items, page, pageSize, total: visible.length };
			},
		},

		/** Rebuilds a post's counters from the rows behind them (an operator's repair tool). */
		recount: {
			visibility: "public",
			idempotent: true,
			params: { id: idParam },
			async handler(ctx: Ctx<{ id: string }>) {
				const post = await this.loadPost(ctx.params.id);
				if (!post) throw new NotFoundError();
				const counts = zeroCounts();
				const reactions = (await ctx.call("postreactions.findWhere", { query: { postId: post.id } })) as Row[];
				for (const r of reactions) {
					counts[r.type as ReactionType] += 1;
					counts.reactions += 1;
				}
				counts.comments = (await ctx.call("postcomments.countWhere", { query: { postId: post.id } })) as number;
				counts.shares = (await ctx.call("postshares.countWhere", { query: { postId: post.id } })) as number;
				counts.saves = (await ctx.call("postsaves.countWhere", { query: { postId: post.id } })) as number;
				await this.adapter.updateById(post.id, { $set: { counts } });
				await this.cleanPost(post.id);
				return counts;
			},
		},
	},

	methods: {
		async loadPost(id: string) {
			return rowToEntity<PostDoc>(await this.adapter.findById(id));
		},

		async loadPosts(ids: string[]) {
			if (!ids.length) return [];
			const docs = (await this.adapter.find({ query: { _id: { $in: [...new Set(ids)] } } })) as Row[];
			return docs.map(d => rowToEntity<PostDoc>(d)!);
		},

		async followingAmong(ctx: Ctx<object>, viewerId: string | null, authorIds: string[]) {
			const ids = [...new Set(authorIds)].filter(a => a !== viewerId);
			const out = new Set<string>();
			if (!viewerId) return out;
			for (let i = 0; i < ids.length; i += 1000) {
				const found = (await ctx.call("socialfollows.followingAmong", { followerId: viewerId, ids: ids.slice(i, i + 1000) })) as string[];
				for (const id of found) out.add(id);
			}
			return out;
		},

		/** The posts the caller may see, in the given order. */
		async visibleTo(ctx: Ctx<object>, posts: PostDoc[]) {
			const viewerId = viewerOf(ctx);
			const needFollow = posts.filter(p => p.visibility === "followers" && p.authorId !== viewerId).map(p => p.authorId);
			const following = await this.followingAmong(ctx, viewerId, needFollow);
			return posts.filter(p => canSee(p, viewerId, following.has(p.authorId)));
		},

		async loadVisible(ctx: Ctx<object>, id: string) {
			const post = await this.loadPost(id);
			if (!post) return null;
			const [visible] = await this.visibleTo(ctx, [post]);
			return visible ?? null;
		},

		/** The public shape; a share embeds its original only when the caller may see it. */
		async present(ctx: Ctx<object>, posts: PostDoc[]) {
			const originalIds = posts.map(p => p.sharedPostId).filter((id): id is string => !!id);
			const originals = new Map<string, PostDoc>();
			if (originalIds.length) for (const o of await this.visibleTo(ctx, await this.loadPosts(originalIds))) originals.set(o.id, o);
			const shape = (p: PostDoc): Row => ({
				id: p.id,
				authorId: p.authorId,
				text: p.text,
				visibility: p.visibility,
				mediaIds: p.mediaIds ?? [],
				hashtags: p.hashtags ?? [],
				mentions: p.mentions ?? [],
				sharedPostId: p.sharedPostId ?? null,
				counts: { ...zeroCounts(), ...p.counts },
				createdAt: p.createdAt,
				updatedAt: p.updatedAt,
			});
			return posts.map(p => {
				const out = shape(p);
				if (p.sharedPostId) {
					const o = originals.get(p.sharedPostId);
					out.original = o ? shape(o) : null;
					if (p.originalDeleted) out.originalDeleted = true;
				}
				return out;
			});
		},

		async incCounts(postId: string, inc: Partial<Record<keyof Counts, number>>) {
			const $inc = Object.fromEntries(Object.entries(inc).filter(([, v]) => v).map(([k, v]) => [`counts.${k}`, v]));
			if (Object.keys($inc).length) await this.adapter.updateMany({ _id: postId }, { $inc });
			await this.cleanPost(postId);
		},

		/** Drops the cached views of a post; with `withShares`, also of the shares embedding it (their `original`). */
		async cleanPost(postId: string, opts: { withShares?: boolean } = {}) {
			const cacher = this.broker.cacher;
			if (!cacher) return;
			await cacher.clean(`posts.getPost:"${postId}"|**`);
			if (opts.withShares) {
				const shares = (await this.adapter.find({ query: { sharedPostId: postId } })) as Row[];
				for (const share of shares) await cacher.clean(`posts.getPost:"${share._id}"|**`);
			}
		},

		/** Through the outbox (mixins/outbox.mixin.ts): stored, then sent, re-sent by the relay until it is. */
		publish(channel: string, payload: Record<string, unknown>) {
			return this.publishEvent(channel, payload);
		},

		/**
		 * Moves the caller's reaction on a post to `type` (null removes it; with `onlyIf`, only when it is
		 * that type). Every change is a compare-and-set on the unique row; the counters follow only a change
		 * that happened. Answers the reaction now in place.
		 */
		async setReaction(ctx: Ctx<object>, post: PostDoc, userId: string, type: ReactionType | null, onlyIf?: ReactionType) {
			const event = (name: string) =>
				this.publish(name, eventPayload(userId, { authorId: post.authorId, postId: post.id }));
			for (let attempt = 0; attempt < 10; attempt++) {
				if (type) {
					const res = (await ctx.call("postreactions.add", { entity: { postId: post.id, userId, type }, uniqueBy: ["postId", "userId"] })) as {
						created: boolean;
						row: Row | null;
					};
					if (res.created) {
						await this.incCounts(post.id, { reactions: 1, [type]: 1 });
						if (type === "like") await event("posts.liked");
						return type;
					}
					const row = res.row;
					if (!row) continue; // removed meanwhile: insert again
					if (row.type === type) return type;
					const n = (await ctx.call("postreactions.updateWhere", { query: { id: row.id, type: row.type }, set: { type } })) as number;
					if (n === 1) {
						await this.incCounts(post.id, { [row.type]: -1, [type]: 1 });
						if (row.type === "like") await event("posts.unliked");
						if (type === "like") await event("posts.liked");
						return type;
					}
				} else {
					const [row] = (await ctx.call("postreactions.findWhere", { query: { postId: post.id, userId }, limit: 1 })) as Row[];
					if (!row) return null;
					if (onlyIf && row.type !== onlyIf) return row.type as ReactionType;
					const n = (await ctx.call("postreactions.removeWhere", { query: { id: row.id, type: row.type } })) as number;
					if (n === 1) {
						await this.incCounts(post.id, { reactions: -1, [row.type]: -1 });
						if (row.type === "like") await event("posts.unliked");
						return null;
					}
				}
			}
			throw new ConcurrentChangeError();
		},

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

		async releaseMedia(ctx: Ctx<object>, ids: string[]) {
			try {
				await ctx.call("media.release", { ids });
			} catch (err) {
				this.logger.warn("could not release media", { ids, error: (err as Error).message });
			}
		},
	},
};

export default PostsService;
