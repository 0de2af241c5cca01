/**
 * ELO leaderboards (`/api/gamification/boards`): boards per tenant (a game, a challenge type) with
 * their K and current season; results move ratings by the Elo update (elo.ts); top N, my rank and
 * my neighbours; a new season archives the current one (its standings stay readable with
 * `?season=n`) and starts everyone again at 1200. Ratings: `boardresults`. README, "Engagement domain".
 */
import type { Ctx } from "../../lib/context";
import { ConflictError, NotFoundError } from "../../lib/errors";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { entityOf } from "../../middlewares/entity.middleware";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { DEFAULT_K, type ResultRecord, type Standing } from "./elo";
import { requireMembers } from "./members";

export interface Board {
	id: string;
	key: string;
	name: string;
	k: number;
	season: number;
	createdAt: string;
}

interface Methods extends TenantDbMethods {
	loadBoard(ctx: Ctx<object>, key: string): Promise<Board | null>;
	ensureBoard(ctx: Ctx<object>, key: string): Promise<Board>;
}

const keyParam = { type: "string", min: 1, max: 64, pattern: /^[a-z0-9][a-z0-9_-]*$/ } as const;
const userIdParam = { type: "string", min: 1, max: 128, trim: true } as const;
const seasonParam = { type: "number", integer: true, min: 1, optional: true, convert: true } as const;
const scoreParam = { type: "enum", values: [0, 0.5, 1] } as const;
const eventIdParam = { type: "string", min: 1, max: 128 } as const;
const season = (board: Board, asked?: number) => Math.min(asked ?? board.season, board.season);

const LeaderboardsService: ServiceSchema<DbSettings & { rest: string }, Methods> = {
	name: "leaderboards",
	mixins: [TenantDbMixin({ collection: "engagement_boards", indexes: [{ fields: ["tenantId", "key"], unique: true }] })],
	settings: { rest: "/gamification/boards", fields: ["id", "key", "name", "k", "season", "createdAt"] },
	actions: {
		listBoards: {
			rest: "GET /",
			roles: ["member"],
			params: { $$strict: "remove" },
			handler(ctx: Ctx) {
				return this._find(ctx, { query: {}, sort: ["key"], limit: 100 });
			},
		},
		createBoard: {
			rest: "POST /",
			roles: ["admin"],
			params: {
				key: keyParam,
				name: { type: "string", min: 1, max: 100, trim: true },
				k: { type: "number", integer: true, min: 1, max: 400, default: DEFAULT_K },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ key: string; name: string; k: number }>) {
				const { key, name, k } = ctx.params;
				if (await this.loadBoard(ctx, key)) throw new ConflictError("A board with this key exists.");
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/gamification/boards/${key}`;
				return this._create<Board>(ctx, { key, name, k, season: 1 });
			},
		},
		getBoard: {
			rest: "GET /:key",
			roles: ["member"],
			entity: { method: "loadBoard", param: "key" },
			summary: "The board and its top `top` players (of `season`, default the current one).",
			params: {
				key: keyParam,
				season: seasonParam,
				top: { type: "number", integer: true, min: 1, max: 100, default: 10, convert: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ key: string; season?: number; top: number }>) {
				const board = entityOf<Board>(ctx);
				const s = season(board, ctx.params.season);
				const top = await ctx.call<Standing[], object>("boardresults.standings", {
					board: board.key,
					season: s,
					offset: 0,
					limit: ctx.params.top,
				});
				return { board, season: s, top };
			},
		},
		myStanding: {
			rest: "GET /:key/me",
			roles: ["member"],
			entity: { method: "loadBoard", param: "key" },
			summary: "Your rating and rank, and the `around` players on each side of you.",
			params: {
				key: keyParam,
				season: seasonParam,
				around: { type: "number", integer: true, min: 0, max: 20, default: 2, convert: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ key: string; season?: number; around: number }>) {
				const board = entityOf<Board>(ctx);
				const s = season(board, ctx.params.season);
				const me = await ctx.call<Standing & { position: number | null }, object>("boardresults.standingOf", {
					board: board.key,
					season: s,
					userId: ctx.meta.user!.id,
				});
				const neighbours =
					me.position === null
						? []
						: await ctx.call<Standing[], object>("boardresults.standings", {
								board: board.key,
								season: s,
								offset: Math.max(0, me.position - ctx.params.around),
								limit: 2 * ctx.params.around + 1,
							});
				return { season: s, userId: me.userId, rating: me.rating, rank: me.rank, neighbours };
			},
		},
		playerHistory: {
			rest: "GET /:key/history",
			roles: ["member"],
			entity: { method: "loadBoard", param: "key" },
			summary: "A player's results (`userId`), oldest first.",
			params: { key: keyParam, userId: userIdParam, season: seasonParam, $$strict: "remove" },
			handler(ctx: Ctx<{ key: string; userId: string; season?: number }>) {
				const board = entityOf<Board>(ctx);
				return ctx.call<ResultRecord[], object>("boardresults.history", {
					board: board.key,
					season: season(board, ctx.params.season),
					userId: ctx.params.userId,
				});
			},
		},
		recordResult: {
			rest: "POST /:key/results",
			roles: ["admin"],
			entity: { method: "loadBoard", param: "key" },
			summary: "A game between `playerA` and `playerB`; `scoreA` 1 (A won), 0.5 (draw) or 0. Counts once per `eventId`.",
			params: { key: keyParam, playerA: userIdParam, playerB: userIdParam, scoreA: scoreParam, eventId: eventIdParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ key: string; playerA: string; playerB: string; scoreA: number; eventId: string }>) {
				const board = entityOf<Board>(ctx);
				const { playerA, playerB, scoreA, eventId } = ctx.params;
				if (playerA === playerB) throw new ConflictError("A game needs two players.");
				await requireMembers(this, ctx, ctx.meta.user!.tenantId!, [playerA, playerB], "playerA");
				const result = await ctx.call<{ duplicate: boolean }, object>("boardresults.record", {
					board: board.key,
					season: board.season,
					a: playerA,
					b: playerB,
					scoreA,
					k: board.k,
					eventId: `result:${eventId}`,
				});
				// a repeat of the eventId: 200 with the result first recorded
				ctx.meta.$statusCode = result.duplicate ? 200 : 201;
				// no GET of one result: player A's results of the season, which list it
				ctx.meta.$location = `/api/gamification/boards/${board.key}/history?userId=${encodeURIComponent(playerA)}&season=${board.season}`;
				return result;
			},
		},
		newSeason: {
			rest: "POST /:key/seasons",
			roles: ["admin"],
			entity: { method: "loadBoard", param: "key" },
			summary: "Archives the current season (readable with ?season=n) and starts the next, everyone at 1200.",
			params: { key: keyParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ key: string }>) {
				const board = entityOf<Board>(ctx);
				const n = await this.scopedUpdateWhere(ctx, { key: board.key, season: board.season }, { season: board.season + 1 });
				if (n === 0) throw new ConflictError("The season changed meanwhile.");
				return { ...board, season: board.season + 1, archivedSeason: board.season };
			},
		},
		/** Internal: a head-to-head result from another service (challenges); the board is made on first use. */
		report: {
			visibility: "public",
			params: {
				board: keyParam,
				playerA: userIdParam,
				playerB: userIdParam,
				scoreA: scoreParam,
				eventId: { type: "string", min: 1, max: 200 },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<{ board: string; playerA: string; playerB: string; scoreA: number; eventId: string }>) {
				const board = await this.ensureBoard(ctx, ctx.params.board);
				const { playerA, playerB, scoreA, eventId } = ctx.params;
				return ctx.call("boardresults.record", {
					board: board.key,
					season: board.season,
					a: playerA,
					b: playerB,
					scoreA,
					k: board.k,
					eventId,
				});
			},
		},
	},
	methods: {
		async loadBoard(ctx: Ctx<object>, key: string) {
			const row = await this.scopedFindOne(ctx, { key });
			return row ? this.toEntity<Board>(row) : null;
		},
		async ensureBoard(ctx: Ctx<object>, key: string) {
			const found = await this.loadBoard(ctx, key);
			if (found) return found;
			try {
				return await this._create<Board>(ctx, { key, name: key, k: DEFAULT_K, season: 1 });
			} catch (err) {
				// made by a concurrent first result: use that one
				if (!(err instanceof ConflictError) && !(await this.loadBoard(ctx, key))) throw err;
				const made = await this.loadBoard(ctx, key);
				if (!made) throw new NotFoundError("No such board.", key);
				return made;
			}
		},
	},
};

export default LeaderboardsService;
