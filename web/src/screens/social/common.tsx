/**
 * What the social screens share (README, "Web app" → "Social screens"): a post card (like, react, comments),
 * the composer (text and an image uploaded through `POST /api/media`), and author names read once per user
 * from `GET /api/users/:id`.
 */
import { useEffect, useId, useState } from "preact/hooks";
import { asProblem, del, get, post, type ApiProblem } from "../../api";
import { Field } from "../../components/field";
import { Form } from "../../components/form";
import { Loading } from "../../components/loading";
import { ProblemBanner } from "../../components/problem-banner";
import { useAction, useApi } from "../../components/use-api";
import { href } from "../../router";
import { useSession } from "../../session";
import { when } from "../../format";

export const REACTIONS = ["like", "love", "haha", "wow", "sad", "angry"] as const;
export type Reaction = (typeof REACTIONS)[number];

export interface Counts {
	reactions: number;
	like: number;
	love: number;
	haha: number;
	wow: number;
	sad: number;
	angry: number;
	comments: number;
	shares: number;
	saves: number;
}

export interface Post {
	id: string;
	authorId: string;
	text: string;
	visibility: "public" | "followers" | "private";
	mediaIds: string[];
	hashtags: string[];
	counts: Counts;
	createdAt: string;
	viewer?: { reaction: Reaction | null; saved: boolean };
}

export interface PostPage {
	items: Post[];
	nextCursor: string | null;
}

export interface Profile {
	id: string;
	name: string;
	bio?: string | null;
	location?: string | null;
	website?: string | null;
	createdAt: string;
}

interface Comment {
	id: string;
	authorId: string;
	text: string;
	createdAt: string;
}

// one request per user for the whole visit: names change rarely, and a card must not wait for them
const names = new Map<string, Promise<string>>();
function nameOf(id: string): Promise<string> {
	let n = names.get(id);
	if (!n) {
		n = get<Profile>(`/api/users/${encodeURIComponent(id)}`).then(
			p => p.name || "Unnamed",
			() => "Unknown user",
		);
		names.set(id, n);
	}
	return n;
}

/** After a profile change: the next read asks the server again. */
export const forgetName = (id: string) => void names.delete(id);

export function useName(id: string): string | null {
	const [name, setName] = useState<string | null>(null);
	useEffect(() => {
		let live = true;
		void nameOf(id).then(n => live && setName(n));
		return () => void (live = false);
	}, [id]);
	return name;
}

/** A user's name, a link to their profile. */
export function Author({ id }: { id: string }) {
	const name = useName(id);
	return <a href={href("/social/people", { id })}>{name ?? "…"}</a>;
}

/** The composer: text, an optional image (uploaded at once, previewed from the server), visibility. */
export function Composer({ onPosted }: { onPosted(p: Post): void }) {
	const fileId = useId();
	const [text, setText] = useState("");
	const [visibility, setVisibility] = useState<Post["visibility"]>("public");
	const [media, setMedia] = useState<{ id: string; name: string } | null>(null);
	const [uploading, setUploading] = useState<string | null>(null);
	const [uploadProblem, setUploadProblem] = useState<ApiProblem | null>(null);
	const send = useAction((body: { text: string; visibility: string; mediaIds: string[] }) => post<Post>("/api/posts", body));

	async function upload(input: HTMLInputElement) {
		const file = input.files?.[0];
		if (!file) return;
		setUploadProblem(null);
		setUploading(file.name);
		try {
			const form = new FormData();
			form.append("file", file, file.name);
			const m = await post<{ id: string }>("/api/media", form);
			setMedia({ id: m.id, name: file.name });
		} catch (err) {
			setUploadProblem(asProblem(err));
			input.value = "";
		} finally {
			setUploading(null);
		}
	}

	return (
		<form
			class="composer panel"
			aria-label="New post"
			noValidate
			onSubmit={async e => {
				e.preventDefault();
				const form = e.currentTarget as HTMLFormElement;
				const r = await send.run({ text, visibility, mediaIds: media ? [media.id] : [] });
				if (r.ok) {
					setText("");
					setMedia(null);
					form.reset();
					onPosted(r.value);
				}
			}}
		>
			<ProblemBanner problem={send.problem} fields={["text"]} />
			<Field label="What's new?" name="text" type="textarea" value={text} onInput={setText} problem={send.problem} maxLength={5000} required />
			<div class="composer-row">
				<div class="field">
					<label for={fileId}>Image (JPEG, PNG, WebP or GIF, up to 10 MB)</label>
					<input
						id={fileId}
						type="file"
						accept="image/jpeg,image/png,image/webp,image/gif"
						aria-describedby={uploadProblem ? `${fileId}-error` : undefined}
						aria-invalid={uploadProblem ? true : undefined}
						disabled={uploading !== null}
						onChange={e => void upload(e.currentTarget)}
					/>
					{uploadProblem ? (
						<p class="field-error" id={`${fileId}-error`} role="alert" data-code={uploadProblem.code}>
							{uploadProblem.status === 415
								? "This file is not an image we accept (JPEG, PNG, WebP or GIF)."
								: uploadProblem.status === 413
									? "This file is too large."
									: uploadProblem.detail}
						</p>
					) : null}
				</div>
				<div class="field">
					<label for={`${fileId}-vis`}>Who can see it</label>
					<select id={`${fileId}-vis`} value={visibility} onChange={e => setVisibility(e.currentTarget.value as Post["visibility"])}>
						<option value="public">Everyone</option>
						<option value="followers">Followers</option>
						<option value="private">Only me</option>
					</select>
				</div>
			</div>
			{uploading ? <Loading label={`Uploading ${uploading}…`} /> : null}
			{media ? (
				<div class="composer-media">
					<img src={`/media/${media.id}/thumb`} alt={`Attached: ${media.name}`} />
					<button type="button" class="secondary small" onClick={() => setMedia(null)}>
						Remove image
					</button>
				</div>
			) : null}
			<button type="submit" disabled={send.busy || uploading !== null}>
				Post
			</button>
		</form>
	);
}

const REACTION_WORD: Record<Reaction, string> = { like: "Like", love: "Love", haha: "Haha", wow: "Wow", sad: "Sad", angry: "Angry" };

/** One post: author, text, images, reactions (the reader's own from `viewer`), comments. */
export function PostCard({ post: initial }: { post: Post }) {
	const [p, setP] = useState(initial);
	const [open, setOpen] = useState(false);
	const [notImage, setNotImage] = useState<Set<string>>(new Set());
	const [confirming, setConfirming] = useState(false);
	const [deleted, setDeleted] = useState(false);
	const session = useSession();
	const mineToDelete = session.status === "signedIn" && session.user.id === p.authorId;
	const remove = useAction(async () => {
		await del(`/api/posts/${encodeURIComponent(p.id)}`);
		setDeleted(true);
	});
	const headingId = useId();
	const author = useName(p.authorId);
	useEffect(() => {
		// feed, explore and search items carry the reader's `viewer`; a list without it: the post itself has it
		if (!initial.viewer) get<Post>(`/api/posts/${encodeURIComponent(initial.id)}`).then(setP, () => undefined);
	}, [initial.id]);
	const mine = p.viewer?.reaction ?? null;
	const react = useAction(async (type: Reaction | null) => {
		const path = `/api/posts/${encodeURIComponent(p.id)}`;
		const r =
			type === null
				? await del<{ reaction: Reaction | null; counts: Counts }>(`${path}/react`)
				: type === "like"
					? await post<{ reaction: Reaction | null; counts: Counts }>(`${path}/like`)
					: await post<{ reaction: Reaction | null; counts: Counts }>(`${path}/react`, { type });
		setP(prev => ({ ...prev, counts: r.counts, viewer: { saved: prev.viewer?.saved ?? false, reaction: r.reaction } }));
	});
	if (deleted)
		return (
			<p class="post panel hint" role="status">
				Your post is deleted.
			</p>
		);
	return (
		<article class="post panel" aria-labelledby={headingId} data-post-id={p.id}>
			<header class="post-head">
				<h3 id={headingId} class="post-author">
					<Author id={p.authorId} />
				</h3>
				<span class="hint">
					{when(p.createdAt)}
					{p.visibility !== "public" ? ` · ${p.visibility === "followers" ? "followers" : "only you"}` : ""}
				</span>
			</header>
			<p class="post-text">{p.text}</p>
			{p.mediaIds.length ? (
				<div class="post-media">
					{p.mediaIds.map((m, i) =>
						// a video (or a file without image variants) has no `medium`: a link to the file instead
						notImage.has(m) ? (
							<a key={m} href={`/media/${m}`} target="_blank" rel="noopener">
								Attachment {i + 1} (open)
							</a>
						) : (
							<img
								key={m}
								src={`/media/${m}/medium`}
								alt={`Image ${i + 1} posted by ${author ?? "the author"}`}
								loading="lazy"
								onError={() => setNotImage(prev => new Set([...prev, m]))}
							/>
						),
					)}
				</div>
			) : null}
			<div class="post-actions">
				<button
					type="button"
					class="secondary small"
					aria-pressed={mine === "like"}
					disabled={react.busy}
					onClick={() => void react.run(mine === "like" ? null : "like")}
				>
					{mine === "like" ? "Liked" : "Like"} · <span class="count">{p.counts.like}</span>
				</button>
				<label class="inline">
					<span>Reaction</span>
					<select
						value={mine ?? ""}
						disabled={react.busy}
						onChange={e => void react.run((e.currentTarget.value || null) as Reaction | null)}
					>
						<option value="">None</option>
						{REACTIONS.map(r => (
							<option key={r} value={r}>
								{REACTION_WORD[r]} ({p.counts[r]})
							</option>
						))}
					</select>
				</label>
				<span class="hint">{p.counts.reactions} reactions</span>
				<button type="button" class="link" aria-expanded={open} onClick={() => setOpen(!open)}>
					Comments ({p.counts.comments})
				</button>
				{mineToDelete ? (
					confirming ? (
						<span class="confirm" role="group" aria-label="Delete this post?">
							<span>Delete this post?</span>
							<button type="button" class="danger small" disabled={remove.busy} onClick={() => void remove.run()}>
								Delete
							</button>
							<button type="button" class="secondary small" onClick={() => setConfirming(false)}>
								Keep
							</button>
						</span>
					) : (
						<button type="button" class="link" onClick={() => setConfirming(true)}>
							Delete…
						</button>
					)
				) : null}
			</div>
			<ProblemBanner problem={react.problem ?? remove.problem} />
			{open ? <Comments post={p} onCount={n => setP(prev => ({ ...prev, counts: { ...prev.counts, comments: n } }))} /> : null}
		</article>
	);
}

function Comments({ post: p, onCount }: { post: Post; onCount(n: number): void }) {
	const list = useApi(
		signal => get<{ items: Comment[]; total: number }>(`/api/posts/${encodeURIComponent(p.id)}/comments`, { pageSize: 50 }, { signal }),
		[p.id],
	);
	const [text, setText] = useState("");
	const add = useAction((t: string) => post<Comment>(`/api/posts/${encodeURIComponent(p.id)}/comments`, { text: t }));
	useEffect(() => {
		if (list.data) onCount(list.data.total);
	}, [list.data?.total]);
	return (
		<section class="comments" aria-label="Comments">
			<ProblemBanner problem={list.problem} />
			{list.loading && !list.data ? <Loading label="Loading comments…" /> : null}
			{list.data ? (
				list.data.items.length ? (
					<ul class="comment-list">
						{list.data.items.map(c => (
							<li key={c.id}>
								<strong>
									<Author id={c.authorId} />
								</strong>{" "}
								<span class="hint">{when(c.createdAt)}</span>
								<p>{c.text}</p>
							</li>
						))}
					</ul>
				) : (
					<p class="hint">No comments yet.</p>
				)
			) : null}
			<Form
				noValidate
				onSubmit={async () => {
					if ((await add.run(text)).ok) {
						setText("");
						list.reload();
					}
				}}
				problem={add.problem}
				fields={["text"]}
			>
				<Field label="Your comment" name="text" value={text} onInput={setText} maxLength={2000} required />
				<button type="submit" class="small" disabled={add.busy}>
					Comment
				</button>
			</Form>
		</section>
	);
}

/** A list of posts with "Load more" through the cursor. */
export function PostList({
	load,
	empty,
	version = 0,
}: {
	load(cursor: string | null, signal: AbortSignal): Promise<PostPage>;
	empty: string;
	version?: number;
}) {
	const first = useApi(signal => load(null, signal), [version]);
	const [more, setMore] = useState<Post[]>([]);
	const [cursor, setCursor] = useState<string | null>(null);
	const next = useAction(async (c: string) => {
		const page = await load(c, new AbortController().signal);
		setMore(m => [...m, ...page.items]);
		setCursor(page.nextCursor ?? null);
	});
	useEffect(() => {
		setMore([]);
		setCursor(first.data?.nextCursor ?? null);
	}, [first.data]);
	if (first.loading && !first.data) return <Loading label="Loading posts…" />;
	if (first.problem) return <ProblemBanner problem={first.problem} />;
	const items = [...(first.data?.items ?? []), ...more];
	return (
		<>
			{items.length === 0 ? <p class="empty-state">{empty}</p> : null}
			<div class="posts">
				{items.map(p => (
					<PostCard key={p.id} post={p} />
				))}
			</div>
			<ProblemBanner problem={next.problem} />
			{cursor ? (
				<button type="button" class="secondary" disabled={next.busy} onClick={() => void next.run(cursor)}>
					{next.busy ? "Loading…" : "Load more"}
				</button>
			) : null}
		</>
	);
}
