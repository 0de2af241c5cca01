/**
 * Posts: create/read/update/delete here; the other concepts of the posts service are its parts in
 * ./posts/: visibility for the caller, counters, the feed, explore, reactions (a like is the reaction
 * "like"), saves, shares, comments and search. Every read path filters by the post's visibility for
 * the caller (public / followers / private) through `visibleTo`. README: "Social domain".
 */
import { currentUser, type Ctx } from "../../lib/context";
import { ForbiddenError, NotFoundError } from "../../lib/errors";
import type { DbSettings, MixinSchema, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { DbMixin, newId } from "../../mixins/db.mixin";
import { OutboxMixin } from "../../mixins/outbox.mixin";
import { VISIBILITIES, eventPayload, idParam, textFields, zeroCounts, type PostDoc, type Visibility } from "./common";
import { CommentsMixin } from "./posts/comments.mixin";
import { CountersMixin } from "./posts/counters.mixin";
import { EXPLORE_LATEST_KEY, ExploreMixin } from "./posts/explore.mixin";
import { FeedMixin } from "./posts/feed.mixin";
import { viewerOf, type AnyCtx, type PostsMethods, type Row } from "./posts/posts-this";
import { ReactionsMixin } from "./posts/reactions.mixin";
import { SavesMixin } from "./posts/saves.mixin";
import { SearchMixin } from "./posts/search.mixin";
import { SharesMixin } from "./posts/shares.mixin";
import { VisibilityMixin } from "./posts/visibility.mixin";
import type { SocialDbVars } from "./social-db";

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
		VisibilityMixin,
		CountersMixin,
		FeedMixin,
		ExploreMixin,
		ReactionsMixin,
		SavesMixin,
		SharesMixin,
		CommentsMixin,
		SearchMixin,
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
						...textFields(text),
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
				ctx.meta.$location = `/api/posts/${post.id}`;
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
				if (text !== undefined) Object.assign(set, { text, ...textFields(text) });
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
				await this.publish(
					"posts.updated",
					eventPayload(userId, { authorId: userId, postId: post.id, visibility: set.visibility ?? post.visibility }),
				);
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
					eventPayload(userId, {
						authorId: userId,
						postId: post.id,
						sharedPostId: post.sharedPostId ?? null,
						likes: post.counts?.like ?? 0,
					}),
				);
				ctx.meta.$statusCode = 204;
				return null;
			},
		},
	},

	methods: {
		/** Through the outbox (mixins/outbox.mixin.ts): stored, then sent, re-sent by the relay until it is. */
		publish(channel: string, payload: Record<string, unknown>) {
			return this.publishEvent(channel, payload);
		},

		async releaseMedia(ctx: AnyCtx, ids: string[]) {
			try {
				await ctx.call("media.release", { ids });
			} catch (err) {
				this.logger.warn("could not release media", { ids, error: (err as Error).message });
			}
		},
	},
};

export default PostsService;
