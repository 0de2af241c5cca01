/**
 * The platform's own messages, from the events other domains already publish (README, "Platform:
 * notifications" → "Producers"). Channel consumers (group `notifiers`, retried, dead-lettered) that turn
 * an event into `notifications.send` calls; every notification's eventId is derived from the event's (and
 * the recipient), so a redelivered event notifies nobody twice.
 *
 * | event (channel)               | who is told                                   | message          |
 * | `notifications.passwordReset` | the account (e-mail with the link)            | `password-reset` |
 * | `tenants.memberInvited`       | the invited address (e-mail with the accept link) | `invitation` |
 * | `leads.assigned`              | the new assignee, unless they assigned it     | `lead-assigned`  |
 * | `users.followed`              | the followee                                  | `new-follower`   |
 * | `posts.commented`             | the post's author, unless they commented      | `comment`        |
 * | `posts.created`, `posts.commented` | each user mentioned as `@<their id>` who may see the post | `mention` |
 *
 * Mentions name a user by id (`@<userId>`, as a client inserts it when one picks a person): profiles have
 * no unique handle. A mentioned user who may not see the post (follower-only, private) is not told: the
 * visibility is the posts service's own rule, asked as that user.
 */
import type { ServiceSettingSchema } from "moleculer";
import type { Ctx } from "../../lib/context";
import type { ServiceSchema } from "../../lib/schema";
import { asTenantOrNobody, asUser, type SendInput } from "./common";
import { NotFoundError } from "../../lib/errors";

type Event = Record<string, unknown> & { eventId?: string; actorId?: string };

/** The answer, or null when it is a 404 (anything else is thrown: the message is retried). */
const unless404 = <T>(p: Promise<unknown>) =>
	p.then(
		v => v as T,
		(err: unknown) => {
			if (err instanceof NotFoundError) return null;
			throw err;
		},
	);

const str = (v: unknown): string | null => (typeof v === "string" && v.length > 0 && v.length <= 200 ? v : null);

interface NotifiersMethods {
	send(ctx: Ctx<unknown>, input: SendInput): Promise<void>;
	nameOf(ctx: Ctx<unknown>, userId: string): Promise<string>;
	mentions(
		ctx: Ctx<unknown>,
		event: Event,
		postId: string,
		authorId: string,
		ids: unknown,
		place: "post" | "comment",
		skip: string[],
	): Promise<void>;
}

const consumer = { group: "notifiers", maxRetries: 5, deadLettering: { enabled: true } };

const NotifiersService: ServiceSchema<ServiceSettingSchema, NotifiersMethods> = {
	name: "notifiers",

	channels: {
		"notifications.passwordReset": {
			...consumer,
			async handler(ctx: Ctx<Event>) {
				const e = ctx.params;
				const userId = str(e.userId);
				const eventId = str(e.eventId);
				const resetId = str(e.resetId);
				if (!userId || !eventId || !resetId) throw new Error("malformed notifications.passwordReset message");
				// The message names the reset; the link is fetched from auth when the e-mail is sent, never stored.
				await this.send(ctx, {
					userId,
					template: "password-reset",
					vars: { resetId, expiresAt: str(e.expiresAt) ?? "" },
					eventId: `${eventId}:reset`,
				});
			},
		},

		"tenants.memberInvited": {
			...consumer,
			async handler(ctx: Ctx<Event>) {
				const e = ctx.params;
				const invitationId = str(e.invitationId);
				const tenantId = str(e.tenantId);
				if (!invitationId || !tenantId) throw new Error("malformed tenants.memberInvited message");
				// An invitation is to an address (an account or not yet): the recipient is the invitation itself, the
				// e-mail goes to the invited address (fetched when sent, late-variables.ts), in the tenant's words.
				// Idempotent by invitation id: inviting the same address again renews that invitation, not a second e-mail.
				await this.send(ctx, {
					userId: `invitation:${invitationId}`,
					template: "invitation",
					channels: ["email"],
					vars: {
						invitationId,
						tenant: { id: tenantId, name: str(e.tenantName) ?? "an organisation" },
						inviter: { name: e.actorId ? await this.nameOf(ctx, e.actorId) : "Someone" },
						role: str(e.role) ?? "member",
						expiresAt: str(e.expiresAt) ?? "",
					},
					eventId: `invitation:${invitationId}`,
					templateTenantId: tenantId,
				});
			},
		},

		"leads.assigned": {
			...consumer,
			async handler(ctx: Ctx<Event>) {
				const e = ctx.params;
				const assignee = str(e.assignedTo);
				const tenantId = str(e.tenantId);
				const eventId = str(e.eventId);
				const leadId = str(e.id);
				if (!eventId || !tenantId || !leadId) throw new Error("malformed leads.assigned message");
				if (!assignee || assignee === e.actorId) return; // unassigned, or they took it themselves
				await this.send(ctx, {
					userId: assignee,
					tenantId,
					template: "lead-assigned",
					vars: { lead: { id: leadId, name: str(e.name) ?? "A lead", company: str(e.company) } },
					eventId: `${eventId}:assignee`,
				});
			},
		},

		"users.followed": {
			...consumer,
			async handler(ctx: Ctx<Event>) {
				const e = ctx.params;
				const followerId = str(e.followerId);
				const followeeId = str(e.followeeId);
				const eventId = str(e.eventId);
				if (!followerId || !followeeId || !eventId) throw new Error("malformed users.followed message");
				await this.send(ctx, {
					userId: followeeId,
					template: "new-follower",
					vars: { follower: { id: followerId, name: await this.nameOf(ctx, followerId) } },
					eventId: `${eventId}:followee`,
				});
			},
		},

		"posts.commented": {
			...consumer,
			async handler(ctx: Ctx<Event>) {
				const e = ctx.params;
				const postId = str(e.postId);
				const authorId = str(e.authorId);
				const commenterId = str(e.actorId);
				const commentId = str(e.commentId);
				const eventId = str(e.eventId);
				if (!postId || !authorId || !commenterId || !commentId || !eventId) throw new Error("malformed posts.commented message");
				if (authorId !== commenterId)
					await this.send(ctx, {
						userId: authorId,
						template: "comment",
						vars: { commenter: { id: commenterId, name: await this.nameOf(ctx, commenterId) }, post: { id: postId } },
						eventId: `${eventId}:author`,
					});
				const [comment] = (await ctx.call("postcomments.findWhere", { query: { id: commentId }, limit: 1 })) as { mentions?: string[] }[];
				if (comment) await this.mentions(ctx, e, postId, commenterId, comment.mentions, "comment", [authorId]);
			},
		},

		"posts.created": {
			...consumer,
			async handler(ctx: Ctx<Event>) {
				const e = ctx.params;
				const postId = str(e.postId);
				const authorId = str(e.authorId);
				const eventId = str(e.eventId);
				if (!postId || !authorId || !eventId) throw new Error("malformed posts.created message");
				// Read as its author (who always may): the event carries ids only, never a post's text.
				const post = await unless404<{ mentions?: string[] }>(ctx.call("posts.getPost", { id: postId }, asUser(authorId))); // null: deleted meanwhile
				if (post) await this.mentions(ctx, e, postId, authorId, post.mentions, "post", []);
			},
		},
	},

	methods: {
		async send(ctx: Ctx<unknown>, input: SendInput) {
			await ctx.call("notifications.send", input, asTenantOrNobody(null));
		},

		async nameOf(ctx: Ctx<unknown>, userId: string) {
			const profile = await unless404<{ name?: string }>(ctx.call("users.getProfile", { id: userId }));
			return profile?.name ?? "Someone";
		},

		async mentions(ctx: Ctx<unknown>, e: Event, postId: string, authorId: string, ids: unknown, place: "post" | "comment", skip: string[]) {
			const mentioned = [...new Set(Array.isArray(ids) ? ids.filter((m): m is string => typeof m === "string") : [])]
				.filter(m => m !== authorId && !skip.includes(m))
				.slice(0, 20);
			for (const userId of mentioned) {
				// Is it a user, and may they see the post? Both answers come from their owners, asked as that user.
				if (!(await unless404(ctx.call("users.getProfile", { id: userId })))) continue;
				if (!(await unless404(ctx.call("posts.getPost", { id: postId }, asUser(userId))))) continue;
				await this.send(ctx, {
					userId,
					template: "mention",
					vars: { author: { id: authorId, name: await this.nameOf(ctx, authorId) }, post: { id: postId }, place },
					eventId: `${e.eventId as string}:mention:${userId}`,
				});
			}
		},
	},
};

export default NotifiersService;
