/**
 * The follow graph: a unique (followerId, followeeId) index makes following twice one follow, even
 * under concurrent requests, and counts are `count` queries: exact by construction, no counters to drift.
 */
import { currentUser } from "../../../lib/context";
import { CannotFollowSelfError, ConflictError, ProfileRequiredError } from "../../../lib/errors";
import { pageOf, pageWindow } from "../../../lib/paging";
import type { UsersMethodsOf } from "./types";

export const followMethods: UsersMethodsOf<"follow" | "unfollow" | "followList" | "statsOf"> = {
	async follow(ctx) {
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

	async unfollow(ctx) {
		const followerId = currentUser(ctx).id;
		const followeeId = ctx.params.id;
		const removed = await this.follows.remove({ followerId, followeeId });
		if (removed > 0) await this.publish("users.unfollowed", followerId, { followerId, followeeId });
		else await this.requireRaw(followeeId);
		ctx.meta.$statusCode = 204;
		return null;
	},

	/** The profiles on one side of a user's follows (`by` names the user's side), with when each follow began. */
	async followList(ctx, by) {
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
		const out = rows.filter(r => byId.has(r[other])).map(r => ({ ...this.toPublic(byId.get(r[other])!), followedAt: r.createdAt }));
		return pageOf(out, total, { page, pageSize });
	},

	async statsOf(ctx) {
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
};
