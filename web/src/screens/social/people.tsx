/**
 * People (README, "Identity: users" → `/api/users`): find people by name; a profile with its counts
 * (followers, following, posts, likes received) and Follow / Unfollow.
 */
import { useState } from "preact/hooks";
import { del, get, post, put, type Page } from "../../api";
import { Field } from "../../components/field";
import { Form } from "../../components/form";
import { Loaded, Loading } from "../../components/loading";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { Table } from "../../components/table";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { href } from "../../router";
import { forgetName, type Profile } from "./common";
import { when } from "../../format";

interface Stats {
	followers: number;
	following: number;
	posts: number;
	likesReceived: number;
}

export default function People({ route, session }: ScreenProps) {
	const id = route.query.get("id");
	return id ? <ProfileView id={id === "me" ? session.user.id : id} me={session.user.id} /> : <Directory me={session.user.id} />;
}

function Directory({ me }: { me: string }) {
	const [q, setQ] = useState("");
	const [search, setSearch] = useState("");
	const list = useApi(signal => get<Page<Profile>>("/api/users", { search, pageSize: 50, sort: "name" }, { signal }), [search]);
	return (
		<>
			<h1>People</h1>
			<p>
				Everyone with a profile. <a href={href("/social/people", { id: me })}>Your profile</a>.
			</p>
			<Form
				role="search"
				class="toolbar"
				onSubmit={() => {
					setSearch(q.trim());
				}}
			>
				<label for="people-q">Name</label>
				<input id="people-q" type="search" value={q} maxLength={100} onInput={e => setQ(e.currentTarget.value)} />
				<button type="submit">Find</button>
			</Form>
			<ProblemBanner problem={list.problem} />
			<Loaded api={list}>
				{data => (
					<Table
						caption={search ? `People named like “${search}”` : "People"}
						rows={data.rows}
						rowKey={p => p.id}
						empty="Nobody by that name."
						columns={[
							{ label: "Name", cell: p => <a href={href("/social/people", { id: p.id })}>{p.name}</a> },
							{ label: "About", cell: p => p.bio ?? "—" },
							{ label: "Joined", cell: p => when(p.createdAt) },
						]}
					/>
				)}
			</Loaded>
		</>
	);
}

function ProfileView({ id, me }: { id: string; me: string }) {
	const profile = useApi(signal => get<Profile>(`/api/users/${encodeURIComponent(id)}`, undefined, { signal }), [id]);
	const stats = useApi(signal => get<Stats>(`/api/users/${encodeURIComponent(id)}/stats`, undefined, { signal }), [id]);
	// whether I follow them: my following list holds them (its first 100: README of the web app says so)
	const followState = useApi(
		async signal => {
			if (id === me) return false;
			const mine = await get<Page<Profile>>("/api/users/me/following", { pageSize: 100 }, { signal });
			return mine.rows.some(p => p.id === id);
		},
		[id],
	);
	const [done, setDone] = useState<string | null>(null);
	const toggle = useAction(async (follow: boolean) => {
		if (follow) await post(`/api/users/${encodeURIComponent(id)}/follow`);
		else await del(`/api/users/${encodeURIComponent(id)}/follow`);
		setDone(
			follow
				? `You follow ${profile.data?.name ?? "them"} now: their posts appear in your feed.`
				: `You no longer follow ${profile.data?.name ?? "them"}.`,
		);
		followState.reload();
		stats.reload();
	});
	if (profile.loading && !profile.data) return <Loading />;
	if (profile.problem)
		return (
			<>
				<h1>Profile</h1>
				<ProblemBanner problem={profile.problem} />
				<a href={href("/social/people")}>All people</a>
			</>
		);
	const p = profile.data!;
	const following = followState.data === true;
	return (
		<>
			<p>
				<a href={href("/social/people")}>← All people</a>
			</p>
			<h1>{p.name}</h1>
			{p.bio ? <p>{p.bio}</p> : null}
			<p class="hint profile-meta">
				{[p.location, p.website].filter(Boolean).join(" · ")}
				{p.location || p.website ? " · " : ""}joined {when(p.createdAt)}
			</p>
			<ProblemBanner problem={stats.problem ?? toggle.problem ?? followState.problem} />
			{done ? <Notice kind="success">{done}</Notice> : null}
			{stats.data ? (
				<dl class="cards">
					<div class="card">
						<dt class="label">Followers</dt>
						<dd class="value" data-stat="followers">
							{stats.data.followers}
						</dd>
					</div>
					<div class="card">
						<dt class="label">Following</dt>
						<dd class="value" data-stat="following">
							{stats.data.following}
						</dd>
					</div>
					<div class="card">
						<dt class="label">Posts</dt>
						<dd class="value" data-stat="posts">
							{stats.data.posts}
						</dd>
					</div>
					<div class="card">
						<dt class="label">Likes received</dt>
						<dd class="value" data-stat="likesReceived">
							{stats.data.likesReceived}
						</dd>
					</div>
				</dl>
			) : (
				<Loading label="Loading counts…" />
			)}
			{id === me ? (
				<EditProfile
					profile={p}
					onSaved={() => {
						forgetName(me);
						setDone("Your profile is saved.");
						profile.reload();
					}}
				/>
			) : followState.data === undefined ? null : (
				<div class="toolbar">
					<button
						type="button"
						class={following ? "secondary" : undefined}
						disabled={toggle.busy}
						onClick={() => void toggle.run(!following)}
						aria-label={following ? `Unfollow ${p.name}` : `Follow ${p.name}`}
					>
						{following ? "Unfollow" : "Follow"}
					</button>
				</div>
			)}
		</>
	);
}

/** Your own profile's public fields (`PUT /api/users/profile`; an empty field clears it). */
function EditProfile({ profile, onSaved }: { profile: Profile; onSaved(): void }) {
	const [name, setName] = useState(profile.name ?? "");
	const [bio, setBio] = useState(profile.bio ?? "");
	const [location, setLocation] = useState(profile.location ?? "");
	const [website, setWebsite] = useState(profile.website ?? "");
	const save = useAction((body: Record<string, string | null>) => put("/api/users/profile", body));
	return (
		<details class="panel">
			<summary>Edit your profile</summary>
			<Form
				noValidate
				onSubmit={async () => {
					const r = await save.run({
						name: name.trim(),
						bio: bio.trim() || null,
						location: location.trim() || null,
						website: website.trim() || null,
					});
					if (r.ok) onSaved();
				}}
				problem={save.problem}
				fields={["name", "bio", "location", "website"]}
			>
				<Field label="Name" name="name" value={name} onInput={setName} required maxLength={100} />
				<Field label="About you" name="bio" type="textarea" value={bio} onInput={setBio} maxLength={500} />
				<Field label="Location" name="location" value={location} onInput={setLocation} maxLength={100} />
				<Field label="Website" name="website" type="url" value={website} onInput={setWebsite} maxLength={200} />
				<button type="submit" disabled={save.busy}>
					Save profile
				</button>
			</Form>
		</details>
	);
}
