/**
 * User profiles, the follow graph and per-user stats (notification preferences live in notificationprefs;
 * `/me/preferences` forwards there).
 *
 * - A profile is created by `auth` at registration (`createProfile`, idempotent on the user id) and
 *   then edited by its owner. Its email is private: only the owner sees it.
 * - Follows live in their own collection with a unique (followerId, followeeId) index, so following
 *   twice is one follow even under concurrent requests, and counts are `count` queries: exact by
 *   construction, no counters to drift.
 * - `posts` and `likesReceived` come from the social domain's channels (`posts.created|deleted|liked|
 *   unliked`): a ledger keyed by natural keys (post id, post id + liker), plus the processed event ids,
 *   so a redelivered message changes nothing.
 * - Publishes `users.registered`, `users.profileUpdated`, `users.followed`, `users.unfollowed` to
 *   channels (payload: the public entity, `tenantId: null`, `actorId`, `eventId`, `at`).
 *
 * This file lists the actions; their work is in ./users: profiles.ts, follows.ts, social-ledger.ts.
 */
import { currentUser, type Ctx } from "../../lib/context";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { Collection } from "../../mixins/collection";
import { DbMixin } from "../../mixins/db.mixin";
import { OutboxMixin } from "../../mixins/outbox.mixin";
import { preferencesPatchParams } from "../platform/notificationprefs.service";
import { followMethods } from "./users/follows";
import { profileMethods } from "./users/profiles";
import { socialChannel, socialLedgerMethods, SOCIAL_CHANNELS } from "./users/social-ledger";
import type { Follow, FollowListParams, LedgerRow, ProcessedEvent, ProfileChanges, UsersMethods, UsersVars } from "./users/types";

export type { PublicProfile } from "./users/types";

const PUBLIC_FIELDS = ["id", "name", "bio", "avatarUrl", "location", "website", "createdAt", "updatedAt"];

const id = { type: "string", min: 1, max: 64, trim: true } as const;
const nullableText = (max: number) => ({ type: "string", max, trim: true, optional: true, nullable: true }) as const;
const nullableUrl = { type: "url", optional: true, nullable: true, max: 500 } as const;

const UsersService: ServiceSchema<DbSettings, UsersMethods, UsersVars> = {
	name: "users",
	mixins: [DbMixin({ collection: "users", indexes: [{ fields: ["name"] }] }), OutboxMixin({ collection: "users_outbox" })],
	settings: {
		fields: [...PUBLIC_FIELDS],
	},

	channels: Object.fromEntries(SOCIAL_CHANNELS.map(type => [type, socialChannel(type)])),

	actions: {
		// Literal paths first: `GET /:id` would otherwise capture `/me`.
		me: {
			rest: "GET /me",
			auth: "required",
			summary: "Your own profile, email included.",
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				return this.toOwner(await this.requireRaw(currentUser(ctx).id));
			},
		},
		myActivity: {
			rest: "GET /me/activity",
			auth: "required",
			summary: "What happened to and around you, newest first.",
			params: { ...pageParams, sort: { type: "enum", values: ["-at", "at"], default: "-at" }, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number; sort: string }>) {
				const { page, pageSize, sort } = ctx.params;
				return ctx.call("activity.listFor", { userId: currentUser(ctx).id, page, pageSize, sort });
			},
		},
		// Notification preferences have one home, notificationprefs (`/api/notifications/preferences`): these two
		// routes are kept for existing clients and forward to it, as the caller (same body, same answer).
		preferences: {
			rest: "GET /me/preferences",
			auth: "required",
			summary: "Your notification preferences: the same as GET /api/notifications/preferences (kept for existing clients).",
			params: { $$strict: true },
			handler(ctx: Ctx) {
				return ctx.call("notificationprefs.getPreferences", {});
			},
		},
		updatePreferences: {
			rest: "PUT /me/preferences",
			auth: "required",
			summary: "Change some notification preferences: the same as PUT /api/notifications/preferences (kept for existing clients).",
			params: preferencesPatchParams,
			handler(ctx: Ctx<Record<string, unknown>>) {
				return ctx.call("notificationprefs.updatePreferences", ctx.params);
			},
		},
		updateProfile: {
			rest: "PUT /profile",
			auth: "required",
			summary: "Edit your profile. Email, roles, tenant, password and id are not editable here (ignored).",
			params: {
				$$strict: "remove",
				name: { type: "string", min: 1, max: 100, trim: true, optional: true },
				bio: nullableText(500),
				avatarUrl: nullableUrl,
				location: nullableText(100),
				website: nullableUrl,
			},
			handler(ctx: Ctx<ProfileChanges>) {
				return this.updateProfile(ctx);
			},
		},
		search: {
			rest: "GET /search/:query",
			auth: "optional",
			summary: "Profiles whose name contains the query (case-insensitive).",
			cache: { keys: ["query", "page", "pageSize", "sort"] },
			params: {
				query: { type: "string", min: 1, max: 100, trim: true },
				...pageParams,
				sort: { type: "enum", values: ["name", "-name", "createdAt", "-createdAt"], default: "name" },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ query: string; page: number; pageSize: number; sort: string }>) {
				const { query, page, pageSize, sort } = ctx.params;
				return this.searchProfiles(ctx, query, { page, pageSize }, sort);
			},
		},
		listUsers: {
			rest: "GET /",
			auth: "optional",
			summary: "Profiles, optionally filtered by `search` on the name (case-insensitive).",
			cache: { keys: ["search", "page", "pageSize", "sort"] },
			params: {
				search: { type: "string", max: 100, trim: true, optional: true },
				...pageParams,
				sort: { type: "enum", values: ["name", "-name", "createdAt", "-createdAt"], default: "name" },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ search?: string; page: number; pageSize: number; sort: string }>) {
				const { search, page, pageSize, sort } = ctx.params;
				return this.searchProfiles(ctx, search, { page, pageSize }, sort);
			},
		},
		profile: {
			rest: "GET /:id",
			auth: "optional",
			summary: "A public profile (with the email when it is yours).",
			cache: { keys: ["id", "#user.id"] },
			params: { id, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string }>) {
				return this.view(ctx, await this.requireRaw(ctx.params.id));
			},
		},
		follow: {
			rest: "POST /:id/follow",
			auth: "required",
			idempotent: true,
			summary: "Follow a user. Following twice is one follow.",
			params: { id },
			handler(ctx: Ctx<{ id: string }>) {
				return this.follow(ctx);
			},
		},
		unfollow: {
			rest: "DELETE /:id/follow",
			auth: "required",
			summary: "Stop following a user (no-op when you did not follow them).",
			params: { id },
			handler(ctx: Ctx<{ id: string }>) {
				return this.unfollow(ctx);
			},
		},
		followers: {
			rest: "GET /:id/followers",
			auth: "optional",
			summary: "Who follows this user (`me` for yourself), newest first by default.",
			params: { id, ...pageParams, sort: { type: "enum", values: ["-createdAt", "createdAt"], default: "-createdAt" }, $$strict: "remove" },
			handler(ctx: Ctx<FollowListParams>) {
				return this.followList(ctx, "followeeId");
			},
		},
		following: {
			rest: "GET /:id/following",
			auth: "optional",
			summary: "Whom this user follows (`me` for yourself), newest first by default.",
			params: { id, ...pageParams, sort: { type: "enum", values: ["-createdAt", "createdAt"], default: "-createdAt" }, $$strict: "remove" },
			handler(ctx: Ctx<FollowListParams>) {
				return this.followList(ctx, "followerId");
			},
		},
		stats: {
			rest: "GET /:id/stats",
			auth: "optional",
			summary: "Followers, following, posts and likes received (`me` for yourself). Exact counts, not cached.",
			params: { id, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.statsOf(ctx);
			},
		},

		// Internal (other services only).
		createProfile: {
			visibility: "public",
			idempotent: true,
			summary: "Create the profile of a newly registered user; a retry returns the same profile.",
			params: {
				id,
				email: { type: "email", max: 254 },
				name: { type: "string", min: 1, max: 100, trim: true },
			},
			handler(ctx: Ctx<{ id: string; email: string; name: string }>) {
				return this.createProfile(ctx);
			},
		},
		getProfile: {
			visibility: "public",
			idempotent: true,
			summary: "A user's public profile (404 when there is none).",
			params: { id },
			async handler(ctx: Ctx<{ id: string }>) {
				return this.toPublic(await this.requireRaw(ctx.params.id));
			},
		},
		followingIds: {
			visibility: "public",
			idempotent: true,
			summary: "The ids of the users this user follows (for feeds), newest follow first.",
			params: { userId: id, limit: { type: "number", integer: true, min: 1, max: 10_000, default: 5_000, convert: true } },
			async handler(ctx: Ctx<{ userId: string; limit: number }>) {
				const rows = await this.follows.find({ followerId: ctx.params.userId }, { sort: ["-createdAt"], limit: ctx.params.limit });
				return rows.map(r => r.followeeId);
			},
		},
	},

	methods: {
		...profileMethods,
		...followMethods,
		...socialLedgerMethods,
	},

	created() {
		this.follows = new Collection<Follow>({
			collection: "users_follows",
			indexes: [{ fields: ["followerId", "followeeId"], unique: true }, { fields: ["followerId"] }, { fields: ["followeeId"] }],
		});
		this.ledger = new Collection<LedgerRow>({ collection: "users_social", indexes: [{ fields: ["authorId"] }, { fields: ["postId"] }] });
		this.processed = new Collection<ProcessedEvent>({ collection: "users_social_events" });
	},
	async started() {
		await Promise.all([this.follows.open(this.broker), this.ledger.open(this.broker), this.processed.open(this.broker)]);
	},
	async stopped() {
		await Promise.all([this.follows.close(), this.ledger.close(), this.processed.close()]);
	},
};

export default UsersService;
