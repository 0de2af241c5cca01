/** Saves (bookmarks): one row per user per post in postsaves, private to the user who saved. */
import { currentUser, type Ctx } from "../../../lib/context";
import { pageWindow } from "../../../lib/paging";
import { entityOf } from "../../../middlewares/entity.middleware";
import { idParam, pageParams, type PostDoc } from "../common";
import { asMixin, type Row } from "./posts-this";

export const SavesMixin = asMixin({
	actions: {
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
				const res = (await ctx.call("postsaves.add", { entity: { postId: post.id, userId }, uniqueBy: ["postId", "userId"] })) as {
					created: boolean;
				};
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
				const { limit, offset } = pageWindow({ page, pageSize });
				const items = await this.present(ctx, visible.slice(offset, offset + limit));
				return { items, page, pageSize, total: visible.length };
			},
		},
	},
});
