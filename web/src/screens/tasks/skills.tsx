/**
 * The skill tree (README, "Engagement domain" → Skill trees): each skill under its prerequisites as nested
 * lists, with its state for you; unlocking spends its cost from your wallet (409s shown in plain words).
 */
import { useState } from "preact/hooks";
import { get, post } from "../../api";
import { Loading } from "../../components/loading";
import { Notice, ProblemBanner } from "../../components/problem-banner";
import { useAction, useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";

interface Skill {
	key: string;
	name: string;
	description: string;
	cost: { currency: string; amount: number };
	prerequisites: string[];
	state: "unlocked" | "unlockable" | "locked";
	missing: string[];
}

const STATE_WORD = { unlocked: "Unlocked", unlockable: "Ready to unlock", locked: "Locked" } as const;

export default function Skills(_: ScreenProps) {
	const tree = useApi(signal => get<Skill[]>("/api/skills", undefined, { signal }));
	const [done, setDone] = useState<string | null>(null);
	const unlock = useAction(async (s: Skill) => {
		await post(`/api/skills/${encodeURIComponent(s.key)}/unlock`);
		setDone(`${s.name} is unlocked.`);
		tree.reload();
	});
	if (tree.loading && !tree.data) return <Loading />;
	const skills = tree.data ?? [];
	const byKey = new Map(skills.map(s => [s.key, s]));
	const roots = skills.filter(s => s.prerequisites.length === 0);
	return (
		<>
			<h1>Skill tree</h1>
			<p>A skill opens once the skills above it are unlocked; unlocking spends its cost from your wallet.</p>
			<ProblemBanner problem={tree.problem ?? unlock.problem} />
			{done ? <Notice kind="success">{done}</Notice> : null}
			{skills.length === 0 ? (
				<p class="hint">Your organisation has no skills yet (admins add them with the API: POST /api/skills).</p>
			) : (
				<ul class="skill-tree" aria-label="Skills">
					{roots.map(s => (
						<SkillNode key={s.key} s={s} skills={skills} byKey={byKey} seen={new Set()} unlock={unlock} />
					))}
				</ul>
			)}
		</>
	);
}

function SkillNode({
	s,
	skills,
	byKey,
	seen,
	parent,
	unlock,
}: {
	s: Skill;
	skills: Skill[];
	byKey: Map<string, Skill>;
	seen: Set<string>;
	parent?: string;
	unlock: { busy: boolean; run(s: Skill): unknown };
}) {
	const children = skills.filter(c => c.prerequisites.includes(s.key) && !seen.has(c.key));
	const alsoNeeds = s.prerequisites.filter(p => p !== parent).map(p => byKey.get(p)?.name ?? p);
	return (
		<li class={`skill skill-${s.state}`} data-skill={s.key}>
			<div class="skill-row">
				<strong>{s.name}</strong> <span class="tag">{STATE_WORD[s.state]}</span>{" "}
				<span class="hint">
					costs {s.cost.amount} {s.cost.currency}
					{parent && alsoNeeds.length ? ` · also needs ${alsoNeeds.join(", ")}` : ""}
					{s.state === "locked" && s.missing.length ? ` · missing ${s.missing.map(m => byKey.get(m)?.name ?? m).join(", ")}` : ""}
				</span>
				{s.state === "unlockable" ? (
					<button type="button" class="small" disabled={unlock.busy} onClick={() => void unlock.run(s)} aria-label={`Unlock ${s.name}`}>
						Unlock
					</button>
				) : null}
			</div>
			{s.description ? <p class="hint">{s.description}</p> : null}
			{children.length ? (
				<ul>
					{children.map(c => (
						<SkillNode key={c.key} s={c} skills={skills} byKey={byKey} seen={new Set([...seen, s.key])} parent={s.key} unlock={unlock} />
					))}
				</ul>
			) : null}
		</li>
	);
}
