/** Explore (README, "Social domain" → explore): public posts of the last 7 days ranked by engagement and age; search by words and #tags. */
import { useState } from "preact/hooks";
import { get } from "../../api";
import { Form } from "../../components/form";
import type { ScreenProps } from "../../nav";
import { PostList, type Post, type PostPage } from "./common";

export default function Explore(_: ScreenProps) {
	const [q, setQ] = useState("");
	const [search, setSearch] = useState("");
	return (
		<>
			<h1>Explore</h1>
			<p>Popular public posts of the week; new posts rank by how recent they are until people react.</p>
			<Form
				role="search"
				class="toolbar"
				onSubmit={() => {
					setSearch(q.trim());
				}}
			>
				<label for="explore-q">Search posts</label>
				<input
					id="explore-q"
					type="search"
					value={q}
					maxLength={200}
					onInput={e => setQ(e.currentTarget.value)}
					placeholder="words or #tag"
				/>
				<button type="submit">Search</button>
				{search ? (
					<button
						type="button"
						class="secondary"
						onClick={() => {
							setQ("");
							setSearch("");
						}}
					>
						Clear
					</button>
				) : null}
			</Form>
			<h2>{search ? `Posts matching “${search}”` : "Trending"}</h2>
			{search ? (
				<PostList
					key={`s:${search}`}
					empty="No post matches every word."
					load={async (cursor, signal) => {
						const page = Number(cursor ?? 1);
						const r = await get<{ items: Post[]; total: number; page: number; pageSize: number }>(
							"/api/posts/search",
							{ q: search, page, pageSize: 20 },
							{ signal },
						);
						return { items: r.items, nextCursor: r.page * r.pageSize < r.total ? String(r.page + 1) : null };
					}}
				/>
			) : (
				<PostList
					key="explore"
					empty="No public post this week yet."
					load={(cursor, signal) => get<PostPage>("/api/posts/explore/all", { limit: 20, cursor }, { signal })}
				/>
			)}
		</>
	);
}
