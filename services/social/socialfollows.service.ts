/**
 * The social domain's own projection of the follow graph, fed by identity's `users.followed` and
 * `users.unfollowed` channel messages. The feed and the visibility checks read it, never identity's data.
 *
 * Idempotent and order-independent: one row per (follower, followee) holding the latest state and the
 * time of the message that set it; a message older than (or as old as) the row is ignored, so a
 * redelivered or late message can never undo a newer one.
 */
import type { Ctx } from "../../lib/context";
import type { DbSettings, MixinSchema, ServiceSchema } from "../../lib/schema";
import { DbMixin, isDuplicateKeyError } from "../../mixins/db.mixin";
import { idParam } from "./common";
import { type SocialDbMethods, type SocialDbVars } from "./social-db";
import { ConflictError } from "../../lib/errors";

interface FollowMessage {
	eventId?: string;
	followerId: string;
	followeeId: string;
	at?: string;
}

interface FollowRow {
	_id: string;
	followerId: string;
	followeeId: string;
	active: boolean;
	atMs: number;
}

interface FollowsMethods extends SocialDbMethods {
	applyFollow(msg: FollowMessage, active: boolean): Promise<boolean>;
}

const isValidMessage = (m: unknown): m is FollowMessage => {
	const msg = m as FollowMessage;
	return !!msg && typeof msg.followerId === "string" && typeof msg.followeeId === "string" && !!msg.followerId && !!msg.followeeId;
};

const SocialFollowsService: ServiceSchema<DbSettings, FollowsMethods, SocialDbVars> = {
	name: "socialfollows",
	mixins: [
		DbMixin({
			collection: "social_follows",
			indexes: [{ fields: ["followerId", "followeeId"], unique: true }, { fields: ["followerId"] }, { fields: ["followeeId"] }],
		}) as MixinSchema,
	],

	channels: {
		"users.followed": {
			group: "social",
			maxRetries: 5,
			async handler(ctx: Ctx<FollowMessage>) {
				if (!isValidMessage(ctx.params))
					return this.logger.warn("ignoring a malformed users.followed message", { eventId: (ctx.params as FollowMessage)?.eventId });
				await this.applyFollow(ctx.params, true);
			},
		},
		"users.unfollowed": {
			group: "social",
			maxRetries: 5,
			async handler(ctx: Ctx<FollowMessage>) {
				if (!isValidMessage(ctx.params))
					return this.logger.warn("ignoring a malformed users.unfollowed message", { eventId: (ctx.params as FollowMessage)?.eventId });
				await this.applyFollow(ctx.params, false);
			},
		},
	},

	actions: {
		/** Ids of the accounts `userId` follows. */
		followees: {
			visibility: "public",
			idempotent: true,
			params: { userId: idParam },
			async handler(ctx: Ctx<{ userId: string }>) {
				const rows = (await this.adapter.find({ query: { followerId: ctx.params.userId, active: true } })) as FollowRow[];
				return rows.map(r => r.followeeId);
			},
		},
		/** The subset of `ids` that `followerId` follows. */
		followingAmong: {
			visibility: "public",
			idempotent: true,
			params: { followerId: idParam, ids: { type: "array", items: { type: "string", max: 64 }, max: 1000 } },
			async handler(ctx: Ctx<{ followerId: string; ids: string[] }>) {
				if (!ctx.params.ids.length) return [];
				const rows = (await this.adapter.find({
					query: { followerId: ctx.params.followerId, followeeId: { $in: ctx.params.ids }, active: true },
				})) as FollowRow[];
				return rows.map(r => r.followeeId);
			},
		},
		isFollowing: {
			visibility: "public",
			idempotent: true,
			params: { followerId: idParam, followeeId: idParam },
			async handler(ctx: Ctx<{ followerId: string; followeeId: string }>) {
				const row = (await this.adapter.findOne({
					followerId: ctx.params.followerId,
					followeeId: ctx.params.followeeId,
				})) as FollowRow | null;
				return !!row?.active;
			},
		},
	},

	methods: {
		/** Last writer (by message time) wins; answers whether the projection changed. */
		async applyFollow(msg: FollowMessage, active: boolean): Promise<boolean> {
			const atMs = msg.at ? Date.parse(msg.at) : Date.now();
			const key = { followerId: msg.followerId, followeeId: msg.followeeId };
			for (let attempt = 0; attempt < 5; attempt++) {
				const row = (await this.adapter.findOne(key)) as FollowRow | null;
				if (!row) {
					try {
						await this._create(null, { ...key, active, atMs: Number.isFinite(atMs) ? atMs : Date.now() });
						await this.broker.cacher?.clean("posts.getPost:**");
						return true;
					} catch (err) {
						if (err instanceof ConflictError || isDuplicateKeyError(err)) continue; // created concurrently: compare with it
						throw err;
					}
				}
				if (row.atMs >= atMs || row.active === active) {
					if (row.atMs < atMs) await this.adapter.updateMany({ _id: row._id, atMs: row.atMs }, { $set: { atMs } });
					return false;
				}
				const changed = await this.adapter.updateMany(
					{ _id: row._id, atMs: row.atMs },
					{ $set: { active, atMs, updatedAt: new Date().toISOString() } },
				);
				if (changed === 1) {
					await this.broker.cacher?.clean("posts.getPost:**");
					return true;
				}
			}
			this.logger.warn("follow projection: gave up after concurrent updates", { ...key });
			return false;
		},
	},
};

export default SocialFollowsService;
