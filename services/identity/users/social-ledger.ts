/**
 * `posts` and `likesReceived` of a user, from the social domain's channels (`posts.created|deleted|liked|
 * unliked`): a ledger keyed by natural keys (post id, post id + liker), plus the processed event ids,
 * so a redelivered message changes nothing.
 */
import type { Ctx } from "../../../lib/context";
import { ConflictError, MalformedMessageError } from "../../../lib/errors";
import type { ChannelSchema } from "../../../lib/schema";
import type { Raw, UsersMethodsOf, UsersThis } from "./types";

export const SOCIAL_CHANNELS = ["posts.created", "posts.deleted", "posts.liked", "posts.unliked"] as const;

function requireStrings(payload: Raw, fields: string[]): void {
	const bad = fields.filter(f => typeof payload[f] !== "string" || !(payload[f] as string).length);
	if (bad.length) throw new MalformedMessageError(`Malformed message: '${bad.join("', '")}' missing.`, { fields: bad });
}

/** A social-domain channel consumer: group `users`, retried, dead-lettered when it keeps failing. */
export function socialChannel(type: string): ChannelSchema<UsersThis> {
	return {
		group: "users",
		maxRetries: 5,
		deadLettering: { enabled: true },
		handler(ctx: Ctx<Raw>) {
			return this.applySocialEvent(type, ctx.params);
		},
	};
}

export const socialLedgerMethods: UsersMethodsOf<"applySocialEvent"> = {
	async applySocialEvent(type, p) {
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
};
