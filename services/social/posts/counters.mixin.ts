/**
 * Counters on a post move only when the unique row behind them (postreactions, postsaves, postshares:
 * one per post and user) was really inserted, changed or removed, with an atomic `$inc`: concurrent
 * clicks and retries cannot make them drift. `recount` rebuilds them from the rows if ever needed.
 * A change drops the post's cached views.
 */
import type { Ctx } from "../../../lib/context";
import { NotFoundError } from "../../../lib/errors";
import { idParam, zeroCounts, type Counts, type ReactionType } from "../common";
import { asMixin, type Row } from "./posts-this";

export const CountersMixin = asMixin({
	actions: {
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
		async incCounts(postId: string, inc: Partial<Record<keyof Counts, number>>) {
			const $inc = Object.fromEntries(
				Object.entries(inc)
					.filter(([, v]) => v)
					.map(([k, v]) => [`counts.${k}`, v]),
			);
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
	},
});
