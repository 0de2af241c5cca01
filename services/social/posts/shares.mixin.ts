/**
 * Shares (reposts): a share is a post of its sharer pointing at a public original, once per user and
 * original (the unique row in postshares decides among concurrent shares).
 */
import { currentUser, type Ctx } from "../../../lib/context";
import { ConcurrentChangeError, ForbiddenError, NotFoundError } from "../../../lib/errors";
import { entityOf } from "../../../middlewares/entity.middleware";
import { newId } from "../../../mixins/db.mixin";
import { eventPayload, idParam, textFields, zeroCounts, type PostDoc } from "../common";
import { asMixin, type Row } from "./posts-this";

export const SharesMixin = asMixin({
	actions: {
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
					...textFields(text),
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
				await this.publish(
					"posts.created",
					eventPayload(userId, { authorId: userId, postId: share.id, visibility: "public", sharedPostId: original.id }),
				);
				await this.publish("posts.shared", eventPayload(userId, { authorId: original.authorId, postId: original.id, sharePostId: share.id }));
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/posts/${share.id}`;
				return (await this.present(ctx, [share]))[0];
			},
		},
	},
});
