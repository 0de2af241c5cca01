/**
 * Shared pieces of the social domain: visibility rules, opaque cursors, text parsing (hashtags,
 * mentions, search terms), the explore score and channel payloads.
 */
import { randomUUID } from "node:crypto";
import { InvalidCursorError } from "../../lib/errors";
import { pageParams as basePageParams } from "../../lib/paging";

export type Visibility = "public" | "followers" | "private";
export const VISIBILITIES: Visibility[] = ["public", "followers", "private"];
export const REACTIONS = ["like", "love", "haha", "wow", "sad", "angry"] as const;
export type ReactionType = (typeof REACTIONS)[number];

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

export const zeroCounts = (): Counts => ({ reactions: 0, like: 0, love: 0, haha: 0, wow: 0, sad: 0, angry: 0, comments: 0, shares: 0, saves: 0 });

export interface PostDoc {
	id: string;
	authorId: string;
	text: string;
	visibility: Visibility;
	mediaIds: string[];
	hashtags: string[];
	mentions: string[];
	terms: string[];
	sharedPostId: string | null;
	originalDeleted?: boolean;
	counts: Counts;
	createdAt: string;
	updatedAt: string;
}

/**
 * May `viewerId` see `post`? `followsAuthor` says whether the viewer follows the post's author
 * (only consulted for follower-only posts).
 */
export function canSee(post: Pick<PostDoc, "authorId" | "visibility">, viewerId: string | null | undefined, followsAuthor: boolean): boolean {
	if (post.visibility === "public") return true;
	if (!viewerId) return false;
	if (post.authorId === viewerId) return true;
	return post.visibility === "followers" && followsAuthor;
}

/** Opaque cursor: base64url of a small JSON object (the last item's sort key and id). */
export function encodeCursor(value: Record<string, unknown>): string {
	return Buffer.from(JSON.stringify(value)).toString("base64url");
}

export function decodeCursor<T extends Record<string, unknown>>(cursor: string | undefined, check: (v: T) => boolean): T | undefined {
	if (!cursor) return undefined;
	try {
		const value = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as T;
		if (value && typeof value === "object" && check(value)) return value;
	} catch {
		/* fall through */
	}
	throw new InvalidCursorError();
}

/** Ids from newId() start with the creation time in base 36 (9 characters): a lower bound for a time. */
export const idPrefixAt = (ms: number) => Math.max(0, Math.floor(ms)).toString(36).padStart(9, "0");
export const timeOfId = (id: string) => parseInt(id.slice(0, 9), 36);

const HASHTAG = /(^|[^\p{L}\p{N}_])#([\p{L}\p{N}_]{1,64})/gu;
const MENTION = /(^|[^\p{L}\p{N}_@])@([\w.-]{1,64})/gu;
const WORD = /[\p{L}\p{N}_]{2,64}/gu;

const unique = (items: string[]) => [...new Set(items)];

export function extractHashtags(text: string): string[] {
	return unique([...text.matchAll(HASHTAG)].map(m => m[2].toLowerCase())).slice(0, 50);
}

/** Without trailing dots and hyphens (a loop: `/[.-]+$/` backtracks quadratically on long runs of them). */
function trimTrailingPunctuation(s: string): string {
	let end = s.length;
	while (end > 0 && (s[end - 1] === "." || s[end - 1] === "-")) end--;
	return s.slice(0, end);
}

export function extractMentions(text: string): string[] {
	return unique([...text.matchAll(MENTION)].map(m => trimTrailingPunctuation(m[2])))
		.filter(Boolean)
		.slice(0, 50);
}

/** What a post stores derived from its text: hashtags, mentions and search terms. */
export function textFields(text: string): { hashtags: string[]; mentions: string[]; terms: string[] } {
	return { hashtags: extractHashtags(text), mentions: extractMentions(text), terms: searchTerms(text) };
}

/** Search terms stored with a post: lowercased words, `#tag`s and `@user`s. */
export function searchTerms(text: string): string[] {
	const words = (text.toLowerCase().normalize("NFKC").match(WORD) ?? []).slice(0, 500);
	return unique([...words, ...extractHashtags(text).map(t => `#${t}`), ...extractMentions(text).map(m => `@${m.toLowerCase()}`)]);
}

/** What a query asks for: `#tag` and `@user` as such, other words as plain terms. */
export function queryTerms(q: string): string[] {
	const out: string[] = [];
	for (const raw of q.normalize("NFKC").split(/\s+/)) {
		if (!raw) continue;
		const tag = /^#([\p{L}\p{N}_]{1,64})$/u.exec(raw);
		const mention = /^@([\w.-]{1,64})$/.exec(raw);
		if (tag) out.push(`#${tag[1].toLowerCase()}`);
		else if (mention) out.push(`@${mention[1].toLowerCase()}`);
		else out.push(...(raw.toLowerCase().match(WORD) ?? []));
	}
	return unique(out).slice(0, 10);
}

/**
 * Explore ranking: engagement decayed by age (Hacker News-style gravity).
 *   score = (reactions + 2·comments + 3·shares + 1) / (ageHours + 2)^1.5
 * Likes are reactions of type "like"; the +1 lets fresh posts without engagement rank by recency.
 */
export function exploreScore(counts: Counts, createdAtMs: number, nowMs: number): number {
	const ageHours = Math.max(0, nowMs - createdAtMs) / 3_600_000;
	const engagement = (counts.reactions ?? 0) + 2 * (counts.comments ?? 0) + 3 * (counts.shares ?? 0) + 1;
	return engagement / Math.pow(ageHours + 2, 1.5);
}

/** A domain event payload: ids only (never the text of a post the consumer might not be allowed to see). */
export function eventPayload(actorId: string, extra: Record<string, unknown>): Record<string, unknown> {
	return { eventId: randomUUID(), actorId, at: new Date().toISOString(), tenantId: null, ...extra };
}

export const idParam = { type: "string", min: 1, max: 64, pattern: /^[\w-]+$/ } as const;

/**
 * lib/paging's page params with `page` unbounded above: social lists have always answered a page past
 * the end as an empty page (200), never 422, and clients page until the items run out.
 */
const { max: _noMaxPage, ...page } = basePageParams.page;
export const pageParams = { ...basePageParams, page } as const;
