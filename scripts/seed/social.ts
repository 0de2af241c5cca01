/** Social: profiles follow each other, posts (some with a picture), likes and comments. */
import sharp from "sharp";
import { user, type SeedContext } from "./context";
import { COMMENTS, draws, POSTS, USERS } from "./data";

export const socialUnits = () => {
	const { follows, likes } = draws();
	return USERS.length + POSTS.length + follows.length + likes.length + COMMENTS.length;
};

/** A 1200×675 gradient PNG, the same bytes every run. */
async function picture([from, to]: [string, string]): Promise<Buffer> {
	const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="675"><defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="${from}"/><stop offset="1" stop-color="${to}"/></linearGradient></defs><rect width="1200" height="675" fill="url(#g)"/><circle cx="900" cy="220" r="140" fill="#ffffff" fill-opacity="0.25"/><circle cx="300" cy="480" r="90" fill="#ffffff" fill-opacity="0.18"/></svg>`;
	return sharp(Buffer.from(svg)).png().toBuffer();
}

export async function seedSocial(ctx: SeedContext): Promise<void> {
	const { api, progress, tally } = ctx;
	const { follows, likes } = draws();

	progress.begin("social: follows");
	const following = new Map<string, Set<string>>();
	for (const u of USERS) {
		const a = user(ctx, u.key);
		const rows = (await api.get(`/api/users/${a.id}/following?pageSize=100`, a.token)).rows as { id: string }[];
		following.set(u.key, new Set(rows.map(r => r.id)));
		progress.tick();
	}
	for (const [from, to] of follows) {
		const a = user(ctx, from);
		const target = user(ctx, to).id;
		const had = following.get(from)!.has(target);
		if (!had) await api.post(`/api/users/${target}/follow`, a.token);
		tally.add("follows", !had);
		progress.tick();
	}

	progress.begin("social: posts");
	const mine = new Map<string, { id: string; text: string }[]>();
	const postIds: string[] = [];
	for (const post of POSTS) {
		const a = user(ctx, post.author);
		if (!mine.has(post.author)) {
			const feed = (await api.get("/api/posts/feed/me?limit=100", a.token)).items as { id: string; text: string; authorId: string }[];
			mine.set(
				post.author,
				feed.filter(p => p.authorId === a.id),
			);
		}
		let found = mine.get(post.author)!.find(p => p.text === post.text);
		if (!found) {
			const mediaIds: string[] = [];
			if (post.image) {
				const form = new FormData();
				form.append("file", new Blob([new Uint8Array(await picture(post.image))], { type: "image/png" }), "demo.png");
				const media = await api.call("POST", "/api/media", { token: a.token, raw: form });
				mediaIds.push(media.body.id);
				tally.add("images", true);
			}
			found = await api.post("/api/posts", a.token, { text: post.text, visibility: post.visibility ?? "public", mediaIds });
			tally.add("posts", true);
		} else tally.add("posts", false);
		postIds.push(found!.id);
		progress.tick();
	}

	progress.begin("social: likes");
	const byPost = new Map<number, string[]>();
	for (const [i, who] of likes) if ((POSTS[i].visibility ?? "public") === "public") byPost.set(i, [...(byPost.get(i) ?? []), who]);
	for (const [i, who] of likes) if (!byPost.get(i)?.includes(who)) progress.tick(); // likes of follower-only posts are not drawn
	for (const [i, likers] of byPost) {
		const before = (await api.get(`/api/posts/${postIds[i]}`, user(ctx, POSTS[i].author).token)).counts.like as number;
		let after = before;
		for (const who of likers) {
			after = (await api.post(`/api/posts/${postIds[i]}/like`, user(ctx, who).token)).counts.like;
			progress.tick();
		}
		tally.add("likes", true, after - before);
		tally.add("likes", false, likers.length - (after - before));
	}

	progress.begin("social: comments");
	const seen = new Map<number, { authorId: string; text: string }[]>();
	for (const c of COMMENTS) {
		const a = user(ctx, c.author);
		if (!seen.has(c.post)) seen.set(c.post, (await api.get(`/api/posts/${postIds[c.post]}/comments?pageSize=100`, a.token)).items);
		const had = seen.get(c.post)!.some(x => x.authorId === a.id && x.text === c.text);
		if (!had) await api.post(`/api/posts/${postIds[c.post]}/comments`, a.token, { text: c.text });
		tally.add("comments", !had);
		progress.tick();
	}
}
