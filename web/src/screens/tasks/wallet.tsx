/** Your wallet, level and badges (README, "Engagement domain" → wallets, levels and badges): `GET /api/gamification/me` and the xp ledger. */
import { get } from "../../api";
import { Loading } from "../../components/loading";
import { ProblemBanner } from "../../components/problem-banner";
import { Table } from "../../components/table";
import { useApi } from "../../components/use-api";
import type { ScreenProps } from "../../nav";
import { href } from "../../router";
import { when } from "../../format";

export interface Summary {
	userId: string;
	balances: Record<string, number>;
	level: { level: number; xp: number; levelXp: number; nextLevelXp: number };
	counters: { tasksCompleted: number; streakDays: number; challengesWon: number };
	badges: { id: string; name: string; counter: string; current: number; target: number; earned: boolean }[];
}

interface Entry {
	id: string;
	amount: number;
	balanceAfter: number;
	sequence: number;
	reason: string;
	at: string;
}

export default function Wallet(_: ScreenProps) {
	// polled: a completed task pays through an event, a moment after the task is saved
	const me = useApi(signal => get<Summary>("/api/gamification/me", undefined, { signal }), [], { pollMs: 5000 });
	const ledger = useApi(signal => get<{ rows: Entry[] }>("/api/gamification/ledger/xp", { limit: 20 }, { signal }), [], { pollMs: 5000 });
	if (me.loading && !me.data) return <Loading />;
	const s = me.data;
	return (
		<>
			<h1>Wallet and level</h1>
			<ProblemBanner problem={me.problem ?? ledger.problem} />
			{s ? (
				<>
					<section aria-labelledby="level-h" class="panel level">
						<h2 id="level-h">
							Level <span data-value="level">{s.level.level}</span>
						</h2>
						<label for="level-progress">
							<span data-value="xp">{s.level.xp}</span> xp · {Math.max(0, s.level.nextLevelXp - s.level.xp)} xp to level{" "}
							{s.level.level + 1}
						</label>
						<progress
							id="level-progress"
							max={s.level.nextLevelXp - s.level.levelXp}
							value={Math.max(0, s.level.xp - s.level.levelXp)}
							aria-valuetext={`${s.level.xp} of ${s.level.nextLevelXp} xp`}
						/>
					</section>
					<h2>Balances</h2>
					<dl class="cards">
						{Object.entries(s.balances).map(([c, v]) => (
							<div class="card" key={c}>
								<dt class="label">{c}</dt>
								<dd class="value" data-balance={c}>
									{v}
								</dd>
							</div>
						))}
						<div class="card">
							<dt class="label">tasks done</dt>
							<dd class="value">{s.counters.tasksCompleted}</dd>
						</div>
						<div class="card">
							<dt class="label">day streak</dt>
							<dd class="value">{s.counters.streakDays}</dd>
						</div>
						<div class="card">
							<dt class="label">challenges won</dt>
							<dd class="value">{s.counters.challengesWon}</dd>
						</div>
					</dl>
					<h2>Badges</h2>
					<ul class="badges">
						{s.badges.map(b => (
							<li key={b.id} class={b.earned ? "badge-card earned" : "badge-card"} data-badge={b.id}>
								<strong>{b.name}</strong> <span class="tag">{b.earned ? "earned" : "not yet"}</span>
								<label class="hint">
									{b.current} of {b.target}
									<progress max={b.target} value={b.current} aria-label={`${b.name}: ${b.current} of ${b.target}`} />
								</label>
							</li>
						))}
					</ul>
					<p>
						See where you stand on the <a href={href("/engagement/leaderboard")}>leaderboard</a>, or spend coins in the{" "}
						<a href={href("/engagement/skills")}>skill tree</a>.
					</p>
				</>
			) : null}
			<h2>Recent xp</h2>
			{ledger.data ? (
				<Table
					caption="Your xp entries, newest first"
					rows={ledger.data.rows}
					rowKey={e => e.id}
					empty="No xp yet: complete a task."
					columns={[
						{ label: "When", cell: e => when(e.at) },
						{ label: "Why", cell: e => e.reason },
						{ label: "Amount", numeric: true, cell: e => (e.amount > 0 ? `+${e.amount}` : e.amount) },
						{ label: "Balance", numeric: true, cell: e => e.balanceAfter },
					]}
				/>
			) : null}
		</>
	);
}
