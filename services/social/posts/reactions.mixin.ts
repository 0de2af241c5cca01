/**
 * Reactions: one per user per post (a like is the reaction "like"), the row in postreactions. Like,
 * unlike, react and unreact are one action each, made by `reactionAction`: they differ only in the
 * reaction they move the caller's to, and all answer the post's id, the caller's reaction and the counts.
 */
import type { ActionParams, ActionSchema } from "moleculer";
import { currentUser, type Ctx } from "../../../lib/context";
import { ConcurrentChangeError } from "../../../lib/errors";
import { entityOf } from "../../../middlewares/entity.middleware";
import { REACTIONS, eventPayload, idParam, type PostDoc, type ReactionType } from "../common";
import { asMixin, type AnyCtx, type PostsThis, type Row } from "./posts-this";

interface ReactionSpec<P> {
	rest: string;
	summary: string;
	idempotent?: boolean;
	params: ActionParams;
	/** the reaction the caller's becomes (null: none) */
	to(ctx: Ctx<P>): ReactionType | null;
	/** with `to` null: remove the caller's reaction only when it is this one */
	onlyIf?: ReactionType;
}

/** One reaction action on a post the caller may see (404 otherwise). */
function reactionAction<P extends { id: string }>(spec: ReactionSpec<P>): ActionSchema<PostsThis> {
	return {
		rest: spec.rest,
		auth: "required",
		...(spec.idempotent !== undefined && { idempotent: spec.idempotent }),
		summary: spec.summary,
		params: spec.params,
		entity: "loadVisible",
		async handler(ctx: Ctx<P>) {
			const userId = currentUser(ctx).id;
			const post = entityOf<PostDoc>(ctx);
			const reaction = await this.setReaction(ctx, post, userId, spec.to(ctx), spec.onlyIf);
			return { postId: post.id, reaction, counts: (await this.loadPost(post.id))?.counts ?? post.counts };
		},
	};
}

export const ReactionsMixin = asMixin({
	actions: {
		like: reactionAction({
			rest: "POST /:id/like",
			idempotent: true,
			summary: "Like a post (your reaction becomes 'like'). Idempotent.",
			params: { id: idParam },
			to: () => "like",
		}),
		unlike: reactionAction({
			rest: "DELETE /:id/like",
			summary: "Remove your like (a different reaction is left alone). Idempotent.",
			params: { id: idParam },
			to: () => null,
			onlyIf: "like",
		}),
		react: reactionAction<{ id: string; type: ReactionType }>({
			rest: "POST /:id/react",
			idempotent: true,
			summary: "Set your reaction (one per user per post; changing it moves the count).",
			params: { id: idParam, type: { type: "enum", values: [...REACTIONS] }, $$strict: "remove" },
			to: ctx => ctx.params.type,
		}),
		unreact: reactionAction({
			rest: "DELETE /:id/react",
			summary: "Remove your reaction, whatever it is. Idempotent.",
			params: { id: idParam },
			to: () => null,
		}),
	},

	methods: {
		/**
		 * Moves the caller's reaction on a post to `type` (null removes it; with `onlyIf`, only when it is
		 * that type). Every change is a compare-and-set on the unique row; the counters follow only a change
		 * that happened. Answers the reaction now in place.
		 */
		async setReaction(ctx: AnyCtx, post: PostDoc, userId: string, type: ReactionType | null, onlyIf?: ReactionType) {
			const event = (name: string) => this.publish(name, eventPayload(userId, { authorId: post.authorId, postId: post.id }));
			for (let attempt = 0; attempt < 10; attempt++) {
				if (type) {
					const res = (await ctx.call("postreactions.add", {
						entity: { postId: post.id, userId, type },
						uniqueBy: ["postId", "userId"],
					})) as {
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
	},
});
