/**
 * The results and ratings of every leaderboard (internal; `leaderboards` publishes the API). With
 * REDIS_URL (and no MONGO_URI) ratings live in Redis sorted sets shared by every node (elo-redis.ts),
 * else in this service's collection of results (elo-db.ts). README, "Engagement domain".
 */
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import type { RatingStore } from "./elo";
import { DbRatings } from "./elo-db";
import { RedisRatings } from "./elo-redis";

interface Vars {
	ratings: RatingStore;
}

const key = { type: "string", min: 1, max: 64, pattern: /^[a-z0-9][a-z0-9_-]*$/ } as const;
const userId = { type: "string", min: 1, max: 128 } as const;
const season = { type: "number", integer: true, min: 1, convert: true } as const;

const BoardResultsService: ServiceSchema<DbSettings, TenantDbMethods, Vars> = {
	name: "boardresults",
	mixins: [
		TenantDbMixin({
			collection: "engagement_board_results",
			indexes: [
				{ fields: ["tenantId", "board", "season", "seq"], unique: true },
				{ fields: ["tenantId", "eventId"], unique: true },
				{ fields: ["board"] },
				{ fields: ["players"] },
			],
		}),
	],
	settings: { fields: ["eventId", "a", "b", "scoreA", "at", "board", "season", "seq", "players"] },
	created() {
		const cfg = config();
		this.ratings = cfg.REDIS_URL && !cfg.MONGO_URI ? new RedisRatings(cfg.REDIS_URL, `${cfg.NAMESPACE}:eng:`) : new DbRatings(this);
	},
	async stopped() {
		await this.ratings.close();
	},
	actions: {
		record: {
			visibility: "public",
			params: {
				board: key,
				season,
				a: userId,
				b: userId,
				scoreA: { type: "enum", values: [0, 0.5, 1] },
				k: { type: "number", integer: true, min: 1, max: 400 },
				eventId: { type: "string", min: 1, max: 200 },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ board: string; season: number; a: string; b: string; scoreA: number; k: number; eventId: string }>) {
				const { board, season, a, b, scoreA, k, eventId } = ctx.params;
				return this.ratings.record(ctx, board, season, a, b, scoreA, k, eventId);
			},
		},
		standings: {
			visibility: "public",
			params: {
				board: key,
				season,
				offset: { type: "number", integer: true, min: 0 },
				limit: { type: "number", integer: true, min: 1, max: 1000 },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ board: string; season: number; offset: number; limit: number }>) {
				return this.ratings.standings(ctx, ctx.params.board, ctx.params.season, ctx.params.offset, ctx.params.limit);
			},
		},
		standingOf: {
			visibility: "public",
			params: { board: key, season, userId, $$strict: "remove" },
			handler(ctx: Ctx<{ board: string; season: number; userId: string }>) {
				return this.ratings.standingOf(ctx, ctx.params.board, ctx.params.season, ctx.params.userId);
			},
		},
		history: {
			visibility: "public",
			params: { board: key, season, userId, $$strict: "remove" },
			handler(ctx: Ctx<{ board: string; season: number; userId: string }>) {
				return this.ratings.history(ctx, ctx.params.board, ctx.params.season, ctx.params.userId);
			},
		},
	},
};

export default BoardResultsService;
