/** Comments on a post, readable and writable by whoever may see the post; rows in postcomments. */
import { currentUser, type Ctx } from "../../../lib/context";
import { ForbiddenError, NotFoundError } from "../../../lib/errors";
import { pageWindow } from "../../../lib/paging";
import { entityOf } from "../../../middlewares/entity.middleware";
import { eventPayload, extractMentions, idParam, pageParams, type PostDoc } from "../common";
import { asMixin, type Row } from "./posts-this";

export const CommentsMixin = asMixin({
	actions: {
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
				// no GET of one comment: the post's comments, which list it
				ctx.meta.$location = `/api/posts/${post.id}/comments`;
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
					ctx.call("postcomments.findWhere", { query: { postId: post.id }, sort: ["_id"], ...pageWindow({ page, pageSize }) }),
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
				const [comment] = (await ctx.call("postcomments.findWhere", {
					query: { id: ctx.params.commentId, postId: post.id },
					limit: 1,
				})) as Row[];
				if (!comment) throw new NotFoundError();
				if (comment.authorId !== userId && post.authorId !== userId)
					throw new ForbiddenError("Only the comment's author or the post's author can delete it.");
				const n = (await ctx.call("postcomments.removeWhere", { query: { id: comment.id, postId: post.id } })) as number;
				if (n) await this.incCounts(post.id, { comments: -n });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},
	},
});
