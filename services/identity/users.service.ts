/**
 * User profiles, notification preferences, the follow graph and per-user stats.
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
 */
import { randomUUID } from "node:crypto";
import { currentUser, type Ctx } from "../../lib/context";
import { CannotFollowSelfError, ConflictError, MalformedMessageError, NotFoundError, ProfileRequiredError } from "../../lib/errors";
import { pageOf, pageParams, pageWindow, type Page, type PageQuery } from "../../lib/paging";
import type { ChannelSchema, DbSettings, ServiceSchema, ServiceThis } from "../../lib/schema";
import { escapeRegex } from "../../lib/text";
import { Collection, type CollectionOf } from "../../mixins/collection";
import { DbMixin, type DbMethods, type DbVars } from "../../mixins/db.mixin";
import { OutboxMixin, type OutboxMethods } from "../../mixins/outbox.mixin";
import { mergePreferences, preferencesParams, type Preferences, type PreferencesPatch } from "./preferences";

type Raw = Record<string, unknown>;

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

interface Follow {
	id: string;
	followerId: string;
	followeeId: string;
	createdAt: string;
}

interface LedgerRow {
	id: string;
	kind: "post" | "like";
	authorId: string;
	postId: string;
	actorId?: string;
	createdAt: string;
}

/** An event stored before it is published, removed once the channel accepted it. */
interface ProcessedEvent {
	id: string;
	type: string;
	createdAt: string;
}

interface UsersVars extends DbVars {
	follows: CollectionOf<Follow>;
	ledger: CollectionOf<LedgerRow>;
	processed: CollectionOf<ProcessedEvent>;
}

interface UsersMethods extends DbMethods, OutboxMethods {
	findRaw(id: string): Promise<Raw | null>;
	requireRaw(id: string): Promise<Raw>;
	toPublic(raw: Raw): PublicProfile;
	toOwner(raw: Raw): PublicProfile & { email: string };
	view(ctx: Ctx<object>, raw: Raw): PublicProfile;
	resolveId(ctx: Ctx<object>, id: string): string;
	searchProfiles(ctx: Ctx<object>, search: string | undefined, page: PageQuery, sort: string): Promise<Page<PublicProfile>>;
	followList(ctx: Ctx<FollowListParams>, by: "followerId" | "followeeId"): Promise<Page<PublicProfile & { followedAt: string }>>;
	publish(name: string, actorId: string, data: Raw): Promise<void>;
	cleanProfileCaches(): Promise<void>;
	applySocialEvent(type: string, payload: Raw): Promise<void>;
}

type UsersThis = ServiceThis<DbSettings, UsersMethods, UsersVars>;

type FollowListParams = {
	id: string;
	page: number;
	pageSize: number;
	sort: "-createdAt" | "createdAt";
};

const PUBLIC_FIELDS = ["id", "name", "bio", "avatarUrl", "location", "website", "createdAt", "updatedAt"];
const EDITABLE = ["name", "bio", "avatarUrl", "location", "website"] as const;

const id = { type: "string", min: 1, max: 64, trim: true } as const;
const nullableText = (max: number) => ({ type: "string", max, trim: true, optional: true, nullable: true }) as const;
const nullableUrl = { type: "url", optional: true, nullable: true, max: 500 } as const;

function requireStrings(payload: Raw, fields: string[]): void {
	const bad = fields.filter(f => typeof payload[f] !== "string" || !(payload[f] as string).length);
	if (bad.length) throw new MalformedMessageError(`Malformed message: '${bad.join("', '")}' missing.`, { fields: bad });
}

/** A social-domain channel consumer: group `users`, retried, dead-lettered when it keeps failing. */
function socialChannel(type: string): ChannelSchema<UsersThis> {
	return {
		group: "users",
		maxRetries: 5,
		deadLettering: { enabled: true },
		handler(ctx: Ctx<Raw>) {
			return this.applySocialEvent(type, ctx.params);
		},
	};
}

const UsersService: ServiceSchema<DbSettings, UsersMethods, UsersVars> = {
	name: "users",
	mixins: [DbMixin({ collection: "users", indexes: [{ fields: ["name"] }] }), OutboxMixin({ collection: "users_outbox" })],
	settings: {
		fields: [...PUBLIC_FIELDS],
	},

	channels: {
		"posts.created": socialChannel("posts.created"),
		"posts.deleted": socialChannel("posts.deleted"),
		"posts.liked": socialChannel("posts.liked"),
		"posts.unliked": socialChannel("posts.unliked"),
	},

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
		preferences: {
			rest: "GET /me/preferences",
			auth: "required",
			summary: "Your notification preferences (channel × topic).",
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				const raw = await this.requireRaw(currentUser(ctx).id);
				return mergePreferences(raw.preferences as PreferencesPatch);
			},
		},
		updatePreferences: {
			rest: "PUT /me/preferences",
			auth: "required",
			summary: "Change some of your notification preferences; the others keep their value.",
			params: preferencesParams,
			async handler(ctx: Ctx<PreferencesPatch>) {
				const userId = currentUser(ctx).id;
				const raw = await this.requireRaw(userId);
				const preferences = mergePreferences(raw.preferences as PreferencesPatch, ctx.params);
				await this._update(ctx, { id: userId, preferences });
				return preferences;
			},
		},
		getPreferences: {
			visibility: "public",
			idempotent: true,
			summary: "A user's notification preferences (for the notification senders).",
			params: { userId: id },
			async handler(ctx: Ctx<{ userId: string }>): Promise<Preferences> {
				const raw = await this.requireRaw(ctx.params.userId);
				return mergePreferences(raw.preferences as PreferencesPatch);
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
			async handler(ctx: Ctx<Partial<Record<(typeof EDITABLE)[number], string | null>>>) {
				const userId = currentUser(ctx).id;
				const current = await this.requireRaw(userId);
				const changes: Raw = {};
				for (const field of EDITABLE) {
					const value = ctx.params[field];
					if (value !== undefined && value !== (current[field] ?? null)) changes[field] = value;
				}
				if (!Object.keys(changes).length) return this.toOwner(current);
				await this._update(ctx, { id: userId, ...changes });
				const updated = await this.requireRaw(userId);
				await this.cleanProfileCaches();
				await this.publish("users.profileUpdated", userId, { ...this.toPublic(updated), changed: Object.keys(changes) });
				return this.toOwner(updated);
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
			async handler(ctx: Ctx<{ id: string }>) {
				const followerId = currentUser(ctx).id;
				const followeeId = ctx.params.id;
				if (followeeId === followerId) throw new CannotFollowSelfError();
				await this.requireRaw(followeeId);
				if (!(await this.findRaw(followerId))) throw new ProfileRequiredError();
				let created = true;
				try {
					await this.follows.insert({ followerId, followeeId });
				} catch (err) {
					if (!(err instanceof ConflictError)) throw err;
					created = false;
				}
				if (created) await this.publish("users.followed", followerId, { followerId, followeeId });
				return { followerId, followeeId, following: true };
			},
		},
		unfollow: {
			rest: "DELETE /:id/follow",
			auth: "required",
			summary: "Stop following a user (no-op when you did not follow them).",
			params: { id },
			async handler(ctx: Ctx<{ id: string }>) {
				const followerId = currentUser(ctx).id;
				const followeeId = ctx.params.id;
				const removed = await this.follows.remove({ followerId, followeeId });
				if (removed > 0) await this.publish("users.unfollowed", followerId, { followerId, followeeId });
				else await this.requireRaw(followeeId);
				ctx.meta.$statusCode = 204;
				return null;
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
			async handler(ctx: Ctx<{ id: string }>) {
				const userId = this.resolveId(ctx, ctx.params.id);
				await this.requireRaw(userId);
				const [followers, following, posts, likesReceived] = await Promise.all([
					this.follows.count({ followeeId: userId }),
					this.follows.count({ followerId: userId }),
					this.ledger.count({ kind: "post", authorId: userId }),
					this.ledger.count({ kind: "like", authorId: userId }),
				]);
				return { followers, following, posts, likesReceived };
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
			async handler(ctx: Ctx<{ id: string; email: string; name: string }>) {
				const { id: userId, email, name } = ctx.params;
				const existing = await this.findRaw(userId);
				if (existing) return this.toOwner(existing);
				try {
					await this._insert(ctx, { entity: { id: userId, email: email.toLowerCase(), name } });
				} catch (err) {
					// A concurrent retry stored it first: same answer, one event.
					if (err instanceof ConflictError) return this.toOwner(await this.requireRaw(userId));
					throw err;
				}
				const created = await this.requireRaw(userId);
				await this.cleanProfileCaches();
				await this.publish("users.registered", userId, { ...this.toPublic(created) });
				return this.toOwner(created);
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
		async findRaw(userId: string) {
			const doc = await this.adapter.findById(userId);
			return doc ? this.adapter.entityToObject(doc) : null;
		},
		async requireRaw(userId: string) {
			const raw = await this.findRaw(userId);
			if (!raw) throw new NotFoundError("Not found.", userId);
			return raw;
		},
		toPublic(raw: Raw): PublicProfile {
			return {
				id: String(raw._id ?? raw.id),
				name: raw.name as string,
				bio: (raw.bio as string) ?? null,
				avatarUrl: (raw.avatarUrl as string) ?? null,
				location: (raw.location as string) ?? null,
				website: (raw.website as string) ?? null,
				createdAt: raw.createdAt as string,
				updatedAt: raw.updatedAt as string,
			};
		},
		toOwner(raw: Raw) {
			return { ...this.toPublic(raw), email: raw.email as string };
		},
		view(ctx: Ctx<object>, raw: Raw) {
			const self = ctx.meta.user?.id && ctx.meta.user.id === String(raw._id ?? raw.id);
			return self ? this.toOwner(raw) : this.toPublic(raw);
		},
		resolveId(ctx: Ctx<object>, value: string) {
			return value === "me" ? currentUser(ctx).id : value;
		},
		async searchProfiles(ctx: Ctx<object>, search: string | undefined, { page, pageSize }: PageQuery, sort: string) {
			const query: Raw = search ? { name: { $regex: new RegExp(escapeRegex(search), "i") } } : {};
			const found = await this._list<Raw>(ctx, { query, sort: [sort, "_id"], page, pageSize });
			return { ...found, rows: found.rows.map(row => this.toPublic(row)) };
		},
		async followList(ctx: Ctx<FollowListParams>, by: "followerId" | "followeeId") {
			const userId = this.resolveId(ctx, ctx.params.id);
			const { page, pageSize, sort } = ctx.params;
			await this.requireRaw(userId);
			const other = by === "followerId" ? "followeeId" : "followerId";
			const [rows, total] = await Promise.all([
				this.follows.find({ [by]: userId }, { sort: [sort, "_id"], ...pageWindow({ page, pageSize }) }),
				this.follows.count({ [by]: userId }),
			]);
			const ids = rows.map(r => r[other]);
			const docs = ids.length ? await this.adapter.find({ query: { _id: { $in: ids } } }) : [];
			const byId = new Map(docs.map(d => this.adapter.entityToObject(d)).map(r => [String(r._id), r]));
			const out = rows
				.filter(r => byId.has(r[other]))
				.map(r => ({ ...this.toPublic(byId.get(r[other])!), followedAt: r.createdAt }));
			return pageOf(out, total, { page, pageSize });
		},
		/** Domain events go through the outbox (mixins/outbox.mixin.ts): stored, then sent, re-sent until they are. */
		async publish(name: string, actorId: string, data: Raw) {
			await this.publishEvent(name, { ...data, tenantId: null, actorId, eventId: randomUUID(), at: new Date().toISOString() });
		},
		async cleanProfileCaches() {
			const cacher = this.broker.cacher;
			if (!cacher) return;
			await Promise.all(["users.profile:**", "users.search:**", "users.listUsers:**"].map(p => cacher.clean(p)));
		},
		async applySocialEvent(type: string, p: Raw) {
			requireStrings(p, ["eventId", "authorId", "postId", ...(type === "posts.liked" || type === "posts.unliked" ? ["actorId"] : [])]);
			const eventId = p.eventId as string;
			if (await this.processed.findOne({ id: eventId })) return; // delivered again: already applied
			const authorId = p.authorId as string;
			const postId = p.postId as string;
			const ignoreDuplicate = (err: unknown) => {
				if (!(err instanceof ConflictError)) throw err;
			};
			// Each effect is idempotent by its natural key too, so a crash before the event is marked changes nothing on redelivery.
			if (type === "posts.created") await this.ledger.insert({ id: `post:${postId}`, kind: "post", authorId, postId }).catch(ignoreDuplicate);
			else if (type === "posts.deleted") await this.ledger.remove({ postId });
			else if (type === "posts.liked")
				await this.ledger
					.insert({ id: `like:${postId}:${p.actorId as string}`, kind: "like", authorId, postId, actorId: p.actorId as string })
					.catch(ignoreDuplicate);
			else if (type === "posts.unliked") await this.ledger.remove({ id: `like:${postId}:${p.actorId as string}` });
			await this.processed.insert({ id: eventId, type }).catch(ignoreDuplicate);
		},
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
