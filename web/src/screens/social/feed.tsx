/** Your feed (README, "Social domain" → feed): posts of the people you follow and your own, newest first; the composer on top. */
import { useState } from "preact/hooks";
import { get } from "../../api";
import { Notice } from "../../components/problem-banner";
import type { ScreenProps } from "../../nav";
import { href } from "../../router";
import { Composer, PostList, type PostPage } from "./common";

export default function Feed(_: ScreenProps) {
	const [version, setVersion] = useState(0);
	const [posted, setPosted] = useState(false);
	return (
		<>
			<h1>Feed</h1>
			<p>
				Posts of the people you follow, and yours. Find people in <a href={href("/social/people")}>People</a> or browse{" "}
				<a href={href("/social/explore")}>Explore</a>.
			</p>
			{posted ? <Notice kind="success">Your post is published.</Notice> : null}
			<Composer
				onPosted={() => {
					setPosted(true);
					setVersion(v => v + 1);
				}}
			/>
			<h2>Latest</h2>
			<PostList
				version={version}
				empty="Nothing here yet: write the first post, or follow someone."
				load={(cursor, signal) => get<PostPage>("/api/posts/feed/me", { limit: 20, cursor }, { signal })}
			/>
		</>
	);
}
