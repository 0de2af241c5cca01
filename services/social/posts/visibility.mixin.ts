/**
 * Posts as the caller may see them. Every read path filters by the post's visibility for the caller
 * (public / followers / private) through `visibleTo`; whether the caller follows an author comes from
 * the social follow projection (socialfollows).
 */
import { rowToEntity } from "../../../mixins/db.mixin";
import { canSee, zeroCounts, type PostDoc } from "../common";
import { asMixin, viewerOf, type AnyCtx, type Row } from "./posts-this";

export const VisibilityMixin = asMixin({
	methods: {
		async loadPost(id: string) {
			return rowToEntity<PostDoc>(await this.adapter.findById(id));
		},

		async loadPosts(ids: string[]) {
			if (!ids.length) return [];
			const docs = (await this.adapter.find({ query: { _id: { $in: [...new Set(ids)] } } })) as Row[];
			return docs.map(d => rowToEntity<PostDoc>(d)!);
		},

		async followingAmong(ctx: AnyCtx, viewerId: string | null, authorIds: string[]) {
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
		async visibleTo(ctx: AnyCtx, posts: PostDoc[]) {
			const viewerId = viewerOf(ctx);
			const needFollow = posts.filter(p => p.visibility === "followers" && p.authorId !== viewerId).map(p => p.authorId);
			const following = await this.followingAmong(ctx, viewerId, needFollow);
			return posts.filter(p => canSee(p, viewerId, following.has(p.authorId)));
		},

		async loadVisible(ctx: AnyCtx, id: string) {
			const post = await this.loadPost(id);
			if (!post) return null;
			const [visible] = await this.visibleTo(ctx, [post]);
			return visible ?? null;
		},

		/** Adds `viewer: { reaction, saved }` (the signed-in caller's own, as `GET /:id` answers it) to a page of presented posts: two queries per page. */
		async withViewer(ctx: AnyCtx, items: Row[]) {
			const userId = viewerOf(ctx);
			if (!userId || items.length === 0) return items;
			const ids = items.map(i => i.id as string);
			const query = { userId, postId: { $in: ids } };
			const [reactions, saves] = (await Promise.all([
				ctx.call("postreactions.findWhere", { query, limit: ids.length }),
				ctx.call("postsaves.findWhere", { query, limit: ids.length }),
			])) as [Row[], Row[]];
			const reactionOf = new Map(reactions.map(r => [r.postId as string, r.type as string]));
			const saved = new Set(saves.map(r => r.postId as string));
			return items.map(i => ({ ...i, viewer: { reaction: reactionOf.get(i.id as string) ?? null, saved: saved.has(i.id as string) } }));
		},

		/** The public shape; a share embeds its original only when the caller may see it. */
		async present(ctx: AnyCtx, posts: PostDoc[]) {
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
	},
});
