/** Search over the terms stored with each post (README: "Search"), filtered by visibility for the caller. */
import type { Ctx } from "../../../lib/context";
import { pageWindow } from "../../../lib/paging";
import { rowToEntity } from "../../../mixins/db.mixin";
import { pageParams, queryTerms, type PostDoc } from "../common";
import { asMixin, type Row } from "./posts-this";

export const SearchMixin = asMixin({
	actions: {
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
				const { limit, offset } = pageWindow({ page, pageSize });
				const items = await this.withViewer(ctx, await this.present(ctx, visible.slice(offset, offset + limit)));
				return { items, page, pageSize, total: visible.length };
			},
		},
	},
});
