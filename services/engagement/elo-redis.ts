/**
 * Ratings in Redis sorted sets, shared by every node (when REDIS_URL is set and MONGO_URI is not).
 * A result is ONE Lua script: read both ratings, apply the Elo update (elo.ts), write both, keep the
 * record and the history, once per eventId. Scores are stored negated so that ZRANGE lists the best
 * first with ties by user id ascending. Keys (prefix `<ns>:eng:`): `elo:{t}:{board}:{season}`,
 * `eloev:{t}` eventId → record, `elohist:{t}:{board}:{season}:{user}` the player's results.
 */
import type { Redis } from "ioredis";
import type { CallerScope } from "../../lib/context";
import { redisClient } from "../../lib/redis";
import { tenantOf } from "../../mixins/tenant.mixin";
import { START_RATING, type RatingStore, type ResultRecord, type Standing } from "./elo";

// KEYS: zset, ev, histA, histB  ARGV: a, b, scoreA, k, eventId, at, start
const RECORD_SCRIPT = `
local seen = redis.call('HGET', KEYS[2], ARGV[5])
if seen then return {'dup', seen} end
local start = tonumber(ARGV[7])
local za = redis.call('ZSCORE', KEYS[1], ARGV[1])
local zb = redis.call('ZSCORE', KEYS[1], ARGV[2])
local ra = za and -tonumber(za) or start
local rb = zb and -tonumber(zb) or start
local s = tonumber(ARGV[3])
local k = tonumber(ARGV[4])
local ea = 1 / (1 + 10 ^ ((rb - ra) / 400))
local eb = 1 / (1 + 10 ^ ((ra - rb) / 400))
local na = math.floor(ra + k * (s - ea) + 0.5)
local nb = math.floor(rb + k * (1 - s - eb) + 0.5)
redis.call('ZADD', KEYS[1], -na, ARGV[1], -nb, ARGV[2])
local rec = cjson.encode({eventId = ARGV[5], a = {userId = ARGV[1], before = ra, after = na}, b = {userId = ARGV[2], before = rb, after = nb}, scoreA = s, at = ARGV[6]})
redis.call('HSET', KEYS[2], ARGV[5], rec)
redis.call('RPUSH', KEYS[3], rec)
redis.call('RPUSH', KEYS[4], rec)
return {'ok', rec}
`;

type Commands = Redis & { eloRecord(...args: (string | number)[]): Promise<string[]> };

export class RedisRatings implements RatingStore {
	private readonly redis: Commands;

	constructor(
		url: string,
		private readonly prefix: string,
	) {
		const client = redisClient(url, "durable");
		client.defineCommand("eloRecord", { numberOfKeys: 4, lua: RECORD_SCRIPT });
		// ioredis types commands added by defineCommand only at run time
		this.redis = client as Commands;
	}

	private board(scope: CallerScope, board: string, season: number) {
		return `${this.prefix}elo:${tenantOf(scope)}:${board}:${season}`;
	}
	private hist(scope: CallerScope, board: string, season: number, userId: string) {
		return `${this.prefix}elohist:${tenantOf(scope)}:${board}:${season}:${userId}`;
	}

	async record(scope: CallerScope, board: string, season: number, a: string, b: string, scoreA: number, k: number, eventId: string) {
		const [status, json] = await this.redis.eloRecord(
			this.board(scope, board, season),
			`${this.prefix}eloev:${tenantOf(scope)}`,
			this.hist(scope, board, season, a),
			this.hist(scope, board, season, b),
			a,
			b,
			scoreA,
			k,
			eventId,
			new Date().toISOString(),
			START_RATING,
		);
		return { ...(JSON.parse(json) as ResultRecord), duplicate: status === "dup" };
	}

	private async ranked(key: string, flat: string[]): Promise<Standing[]> {
		const out: Standing[] = [];
		for (let i = 0; i < flat.length; i += 2) {
			const rating = -Number(flat[i + 1]);
			const higher = await this.redis.zcount(key, "-inf", `(${-rating}`);
			out.push({ userId: flat[i], rating, rank: higher + 1 });
		}
		return out;
	}

	async standings(scope: CallerScope, board: string, season: number, offset: number, limit: number) {
		const key = this.board(scope, board, season);
		return this.ranked(key, await this.redis.zrange(key, offset, offset + limit - 1, "WITHSCORES"));
	}

	async standingOf(scope: CallerScope, board: string, season: number, userId: string) {
		const key = this.board(scope, board, season);
		const [score, position] = await Promise.all([this.redis.zscore(key, userId), this.redis.zrank(key, userId)]);
		const rating = score === null ? START_RATING : -Number(score);
		const higher = await this.redis.zcount(key, "-inf", `(${-rating}`);
		return { userId, rating, rank: higher + 1, position };
	}

	async history(scope: CallerScope, board: string, season: number, userId: string) {
		const rows = await this.redis.lrange(this.hist(scope, board, season, userId), 0, -1);
		return rows.map(r => JSON.parse(r) as ResultRecord);
	}

	async close() {
		await this.redis.quit().catch(() => undefined);
	}
}
