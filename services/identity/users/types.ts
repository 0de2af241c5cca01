/** What the users service keeps and calls: its rows, `this`, and the methods its modules add. */
import type { Ctx } from "../../../lib/context";
import type { Page, PageQuery } from "../../../lib/paging";
import type { DbSettings, ServiceThis } from "../../../lib/schema";
import type { CollectionOf } from "../../../mixins/collection";
import type { DbMethods, DbVars } from "../../../mixins/db.mixin";
import type { OutboxMethods } from "../../../mixins/outbox.mixin";

/** A stored profile as the store holds it (`_id`, the private email and preferences too). */
export type Raw = Record<string, unknown>;

export interface PublicProfile {
	id: string;
	name: string;
	bio: string | null;
	avatarUrl: string | null;
	location: string | null;
	website: string | null;
	createdAt: string;
	updatedAt: string;
}

export interface Follow {
	id: string;
	followerId: string;
	followeeId: string;
	createdAt: string;
}

export interface LedgerRow {
	id: string;
	kind: "post" | "like";
	authorId: string;
	postId: string;
	actorId?: string;
	createdAt: string;
}

/** An event stored before it is published, removed once the channel accepted it. */
export interface ProcessedEvent {
	id: string;
	type: string;
	createdAt: string;
}

/** The fields a profile's owner may change. */
export const EDITABLE = ["name", "bio", "avatarUrl", "location", "website"] as const;
export type ProfileChanges = Partial<Record<(typeof EDITABLE)[number], string | null>>;

export type FollowListParams = {
	id: string;
	page: number;
	pageSize: number;
	sort: "-createdAt" | "createdAt";
};

export interface FollowStats {
	followers: number;
	following: number;
	posts: number;
	likesReceived: number;
}

export interface UsersVars extends DbVars {
	follows: CollectionOf<Follow>;
	ledger: CollectionOf<LedgerRow>;
	processed: CollectionOf<ProcessedEvent>;
}

export interface UsersMethods extends DbMethods, OutboxMethods {
	// profiles.ts
	findRaw(id: string): Promise<Raw | null>;
	requireRaw(id: string): Promise<Raw>;
	toPublic(raw: Raw): PublicProfile;
	toOwner(raw: Raw): PublicProfile & { email: string };
	view(ctx: Ctx<object>, raw: Raw): PublicProfile;
	resolveId(ctx: Ctx<object>, id: string): string;
	searchProfiles(ctx: Ctx<object>, search: string | undefined, page: PageQuery, sort: string): Promise<Page<PublicProfile>>;
	updateProfile(ctx: Ctx<ProfileChanges>): Promise<PublicProfile & { email: string }>;
	createProfile(ctx: Ctx<{ id: string; email: string; name: string }>): Promise<PublicProfile & { email: string }>;
	publish(name: string, actorId: string, data: Raw): Promise<void>;
	cleanProfileCaches(): Promise<void>;
	// follows.ts
	follow(ctx: Ctx<{ id: string }>): Promise<{ followerId: string; followeeId: string; following: true }>;
	unfollow(ctx: Ctx<{ id: string }>): Promise<null>;
	followList(ctx: Ctx<FollowListParams>, by: "followerId" | "followeeId"): Promise<Page<PublicProfile & { followedAt: string }>>;
	statsOf(ctx: Ctx<{ id: string }>): Promise<FollowStats>;
	// social-ledger.ts
	applySocialEvent(type: string, payload: Raw): Promise<void>;
}

export type UsersThis = ServiceThis<DbSettings, UsersMethods, UsersVars>;

/** Some of the users methods, written in a module beside the service (`this` is the service). */
export type UsersMethodsOf<K extends keyof UsersMethods> = Pick<UsersMethods, K> & ThisType<UsersThis>;
