/**
 * Ratings in the `leaderboards` collection: one row per result, numbered per board and season
 * (`seq`). A player's rating is the `after` of their latest result. Recording reads the board's last
 * `seq` and both players' latest results, computes the update and inserts at `seq + 1`: the unique
 * index on (tenantId, board, season, seq) refuses a second result at the same number, so of two
 * concurrent results one lands and the other reads again (compare-and-set); the unique index on
 * (tenantId, eventId) makes a result count once. Standings fold the season's results in memory:
 * fine for the embedded store, Redis sorted sets for large boards.
 */
import { Errors } from "moleculer";
import type { CallerScope } from "../../lib/context";
import { eloUpdate, START_RATING, type RatingStore, type ResultRecord, type Standing } from "./elo";
import type { LedgerStore } from "./ledger-db";

interface ResultRow extends ResultRecord {
	board: string;
	season: number;
	seq: number;
	players: string[];
}

const MAX_ATTEMPTS = 50;

export class DbRatings implements RatingStore {
	constructor(private readonly store: LedgerStore) {}

	private async latest(scope: CallerScope, board: string, season: number, userId: string): Promise<number> {
		const [row] = await this.store._find<ResultRow>(scope, { query: { board, season, players: userId }, sort: ["-seq"], limit: 1 });
		if (!row) return START_RATING;
		return row.a.userId === userId ? row.a.after : row.b.after;
	}

	async record(scope: CallerScope, board: string, season: number, a: string, b: string, scoreA: number, k: number, eventId: string) {
		for (let i = 0; ; i++) {
			const seen = await this.store.scopedFindOne(scope, { eventId });
			if (seen) return { ...this.store.toEntity<ResultRow>(seen), duplicate: true };
			const [last] = await this.store._find<ResultRow>(scope, { query: { board, season }, sort: ["-seq"], limit: 1 });
			const [ra, rb] = await Promise.all([this.latest(scope, board, season, a), this.latest(scope, board, season, b)]);
			const next = eloUpdate(ra, rb, scoreA, k);
			const record: ResultRecord = {
				eventId,
				a: { userId: a, before: ra, after: next.a },
				b: { userId: b, before: rb, after: next.b },
				scoreA,
				at: new Date().toISOString(),
			};
			try {
				await this.store._insert(scope, { entities: [{ ...record, board, season, seq: (last?.seq ?? 0) + 1, players: [a, b] }] });
				return { ...record, duplicate: false };
			} catch (err) {
				// the insert's only client error is a unique-index clash (409): another result landed first
				if (!(err instanceof Errors.MoleculerClientError) || i >= MAX_ATTEMPTS) throw err;
				await new Promise(r => setTimeout(r, Math.random() * Math.min(50, 2 ** i)));
			}
		}
	}

	private async all(scope: CallerScope, board: string, season: number): Promise<Standing[]> {
		const rows = await this.store.scopedScan<ResultRow>(scope, { board, season }, ["a", "b", "seq"]);
		const latest = new Map<string, { seq: number; rating: number }>();
		for (const r of rows)
			for (const side of [r.a, r.b])
				if ((latest.get(side.userId)?.seq ?? 0) < r.seq) latest.set(side.userId, { seq: r.seq, rating: side.after });
		const sorted = [...latest.entries()]
			.map(([userId, v]) => ({ userId, rating: v.rating }))
			.sort((x, y) => y.rating - x.rating || (x.userId < y.userId ? -1 : 1));
		let rank = 0;
		return sorted.map((s, i) => ({ ...s, rank: i > 0 && sorted[i - 1].rating === s.rating ? rank : (rank = i + 1) }));
	}

	async standings(scope: CallerScope, board: string, season: number, offset: number, limit: number) {
		return (await this.all(scope, board, season)).slice(offset, offset + limit);
	}

	async standingOf(scope: CallerScope, board: string, season: number, userId: string) {
		const all = await this.all(scope, board, season);
		const position = all.findIndex(s => s.userId === userId);
		if (position >= 0) return { ...all[position], position };
		return { userId, rating: START_RATING, rank: all.filter(s => s.rating > START_RATING).length + 1, position: null };
	}

	async history(scope: CallerScope, board: string, season: number, userId: string) {
		const rows = await this.store._find<ResultRow>(scope, { query: { board, season, players: userId }, sort: ["seq"], limit: 10_000 });
		return rows.map(({ eventId, a, b, scoreA, at }) => ({ eventId, a, b, scoreA, at }));
	}

	async close() {}
}
