/**
 * The Elo update (README, "Engagement domain" → "Formulas"): for players A and B with ratings Ra, Rb
 * and A's score S (1 win, 0.5 draw, 0 loss), E = 1 / (1 + 10^((Rb − Ra) / 400)) and
 * R'a = round(Ra + K·(S − E)), and for B the same from its side (score 1 − S, E computed with the
 * ratings swapped), each rounded once per update
 * (half up). Ratings start at 1200. The Redis script (elo-redis.ts) computes the same in Lua doubles.
 */
import type { CallerScope } from "../../lib/context";

export const START_RATING = 1200;
export const DEFAULT_K = 32;

export const expectedScore = (ra: number, rb: number) => 1 / (1 + 10 ** ((rb - ra) / 400));

export function eloUpdate(ra: number, rb: number, scoreA: number, k: number): { a: number; b: number } {
	return { a: Math.floor(ra + k * (scoreA - expectedScore(ra, rb)) + 0.5), b: Math.floor(rb + k * (1 - scoreA - expectedScore(rb, ra)) + 0.5) };
}

export interface RatingChange {
	userId: string;
	before: number;
	after: number;
}

export interface ResultRecord {
	eventId: string;
	a: RatingChange;
	b: RatingChange;
	scoreA: number;
	at: string;
}

export interface Standing {
	userId: string;
	rating: number;
	rank: number;
}

/** Where ratings live (Redis sorted sets, or the `leaderboards` collection of results); every call acts in the caller's tenant. */
export interface RatingStore {
	/** Applies one result once per eventId (a repeat answers the first), atomically for both players. */
	record(
		scope: CallerScope,
		board: string,
		season: number,
		a: string,
		b: string,
		scoreA: number,
		k: number,
		eventId: string,
	): Promise<ResultRecord & { duplicate: boolean }>;
	/** Every rated player, best first (ties by user id). */
	standings(scope: CallerScope, board: string, season: number, offset: number, limit: number): Promise<Standing[]>;
	/** The player's standing: rank = 1 + how many rate higher; an unrated player stands at START_RATING. */
	standingOf(scope: CallerScope, board: string, season: number, userId: string): Promise<Standing & { position: number | null }>;
	history(scope: CallerScope, board: string, season: number, userId: string): Promise<ResultRecord[]>;
	close(): Promise<void>;
}
