/** What every part of the posts service sees on `this`, and how a part is declared. */
import type { Service } from "moleculer";
import type { Ctx } from "../../../lib/context";
import type { DbSettings, MixinSchema } from "../../../lib/schema";
import type { OutboxMethods } from "../../../mixins/outbox.mixin";
import type { Counts, PostDoc, ReactionType } from "../common";
import type { SocialDbMethods, SocialDbVars } from "../social-db";

/** A stored row or an answer object, as the store and the edge services hand them back. */
export type Row = Record<string, any>;

/** Any action's context (methods take the caller's, whatever its params). */
export type AnyCtx = Ctx<object>;

export interface PostsMethods extends SocialDbMethods, OutboxMethods {
	loadPost(id: string): Promise<PostDoc | null>;
	loadPosts(ids: string[]): Promise<PostDoc[]>;
	followingAmong(ctx: AnyCtx, viewerId: string | null, authorIds: string[]): Promise<Set<string>>;
	visibleTo(ctx: AnyCtx, posts: PostDoc[]): Promise<PostDoc[]>;
	/** The post if the caller may see it; null when it is missing or hidden from them (the same 404 for both). */
	loadVisible(ctx: AnyCtx, id: string): Promise<PostDoc | null>;
	present(ctx: AnyCtx, posts: PostDoc[]): Promise<Row[]>;
	withViewer(ctx: AnyCtx, items: Row[]): Promise<Row[]>;
	incCounts(postId: string, inc: Partial<Record<keyof Counts, number>>): Promise<void>;
	cleanPost(postId: string, opts?: { withShares?: boolean }): Promise<void>;
	publish(channel: string, payload: Record<string, unknown>): Promise<void>;
	setReaction(ctx: AnyCtx, post: PostDoc, userId: string, type: ReactionType | null, onlyIf?: ReactionType): Promise<ReactionType | null>;
	exploreSnapshot(asOf: number): Promise<[string, number][]>;
	releaseMedia(ctx: AnyCtx, ids: string[]): Promise<void>;
}

/** `this` in the posts service and in each of its parts. */
export type PostsThis = Service<DbSettings> & SocialDbVars & PostsMethods;

/** One part of the posts service (./*.mixin.ts), typed with the whole service's `this`. */
export type PostsPart = MixinSchema<DbSettings, PostsMethods, SocialDbVars>;

/** Moleculer types a schema's `mixins` with an untyped `this`: a part typed with its own is handed over as one. */
export const asMixin = (part: PostsPart): MixinSchema => part as MixinSchema;

/** The caller of an `auth: "optional"` action, or null (anonymous). */
export const viewerOf = (ctx: AnyCtx): string | null => ctx.meta.user?.id ?? null;
