/**
 * Leaderboards (README, "Engagement domain"): the organisation's xp ranking (`GET /api/gamification/leaderboard/xp`,
 * moved by every completed task) and the ELO boards (`/api/gamification/boards`) with their standings.
 */
import { useState } from "preact/hooks";
import { get } from "../../api";
import { Loading } from "../../components/loading";
import { ProblemBanner } from "../../components/problem-banner";
import { Table } from "../../components/table";
import { useApi } from "../../components/use-api";
import { SelectFilter } from "../../components/filters";
import type { ScreenProps } from "../../nav";
import { Author } from "../social/common";

interface Ranked {
	userId: string;
	balance: number;
	rank: number;
}

interface Board {
	key: string;
	name: string;
	k: number;
	season: number;
}

interface Standing {
	userId: string;
	rating: number;
	rank: number;
}

export default function Leaderboard({ session }: ScreenProps) {
	const xp = useApi(
		signal => get<{ total: number; rows: Ranked[]; me: Ranked | null }>("/api/gamification/leaderboard/xp", { top: 10 }, { signal }),
		[],
		{ pollMs: 5000 },
	);
	const boards = useApi(signal => get<Board[]>("/api/gamification/boards", undefined, { signal }));
	const [board, setBoard] = useState("");
	const me = session.user.id;
	return (
		<>
			<h1>Leaderboard</h1>
			<h2>Experience</h2>
			<ProblemBanner problem={xp.problem} />
			{xp.data ? (
				<>
					<p data-testid="my-rank">
						{xp.data.me
							? `You are number ${xp.data.me.rank} of ${xp.data.total} with ${xp.data.me.balance} xp.`
							: "You have no xp yet: complete a task."}
					</p>
					<Table
						caption="Top 10 by xp"
						rows={xp.data.rows}
						rowKey={r => r.userId}
						rowClass={r => (r.userId === me ? "me" : "")}
						empty="Nobody has xp yet."
						columns={[
							{ label: "Rank", numeric: true, cell: r => r.rank },
							{ label: "Member", cell: r => (r.userId === me ? <strong>You</strong> : <Author id={r.userId} />) },
							{ label: "xp", numeric: true, cell: r => r.balance },
						]}
					/>
				</>
			) : (
				<Loading />
			)}
			<h2>Boards</h2>
			<ProblemBanner problem={boards.problem} />
			{boards.data ? (
				boards.data.length ? (
					<>
						<div class="toolbar">
							<SelectFilter
								label="Board"
								value={board}
								onChange={setBoard}
								any="Choose a board…"
								words={boards.data.map(b => [b.key, `${b.name} (season ${b.season})`] as const)}
							/>
						</div>
						{board ? <Standings key={board} board={board} me={me} /> : null}
					</>
				) : (
					<p class="hint">No ELO board yet (an admin creates one; challenges make the board “challenges”).</p>
				)
			) : (
				<Loading />
			)}
		</>
	);
}

function Standings({ board, me }: { board: string; me: string }) {
	const top = useApi(
		signal =>
			get<{ board: Board; season: number; top: Standing[] }>(`/api/gamification/boards/${encodeURIComponent(board)}`, { top: 20 }, { signal }),
		[board],
	);
	if (top.problem) return <ProblemBanner problem={top.problem} />;
	if (!top.data) return <Loading />;
	return (
		<Table
			caption={`${top.data.board.name}, season ${top.data.season}`}
			rows={top.data.top}
			rowKey={r => r.userId}
			rowClass={r => (r.userId === me ? "me" : "")}
			empty="No result on this board yet."
			columns={[
				{ label: "Rank", numeric: true, cell: r => r.rank },
				{ label: "Player", cell: r => (r.userId === me ? <strong>You</strong> : <Author id={r.userId} />) },
				{ label: "Rating", numeric: true, cell: r => r.rating },
			]}
		/>
	);
}
