/**
 * The identity activity log: consumes identity domain events from channels (group `activity`,
 * retried, dead-lettered) and records, for each user concerned, one entry
 * `{ userId (whose feed), type, actorId, subject, data, eventId, at }`.
 *
 * A unique (eventId, userId) index makes every consumer idempotent: a redelivered or replayed message
 * is recorded once. Users read their log through `GET /api/users/me/activity` (users → `activity.listFor`).
 */
import type { Ctx } from "../../lib/context";
import { ConflictError, MalformedMessageError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { ChannelSchema, DbSettings, ServiceSchema, ServiceThis } from "../../lib/schema";
import { DbMixin, type DbMethods } from "../../mixins/db.mixin";

type Raw = Record<string, unknown>;

/** Whose log an event goes to, and what it is about from their point of view. */
type Recipients = (p: Raw) => { userId: unknown; subject: unknown }[];

const str = (v: unknown): string | null => (typeof v === "string" && v.length ? v : null);

const self: Recipients = p => [{ userId: p.userId ?? p.actorId, subject: p.userId ?? p.actorId }];
const membership: Recipients = p => [
	{ userId: p.actorId, subject: p.tenantId },
	{ userId: p.userId ?? p.memberId, subject: p.tenantId },
];

export const ACTIVITY_SOURCES: Record<string, Recipients> = {
	"users.registered": p => [{ userId: p.id ?? p.actorId, subject: p.id ?? p.actorId }],
	"users.profileUpdated": p => [{ userId: p.actorId, subject: p.actorId }],
	"users.followed": p => [
		{ userId: p.followerId, subject: p.followeeId },
		{ userId: p.followeeId, subject: p.followerId },
	],
	"users.unfollowed": p => [{ userId: p.followerId, subject: p.followeeId }],
	"auth.loggedIn": self,
	"auth.passwordChanged": self,
	"tenants.created": p => [{ userId: p.actorId, subject: p.tenantId }],
	"tenants.memberAdded": membership,
	"tenants.memberRemoved": membership,
	"tenants.memberRoleChanged": membership,
};

const ENVELOPE = new Set(["eventId", "actorId", "at"]);

interface ActivityMethods extends DbMethods {
	record(ctx: Ctx<Raw>, type: string): Promise<number>;
}

function channel(type: string): ChannelSchema<ServiceThis<DbSettings, ActivityMethods>> {
	return {
		group: "activity",
		maxRetries: 5,
		deadLettering: { enabled: true },
		handler(ctx: Ctx<Raw>) {
			return this.record(ctx, type);
		},
	};
}

const ActivityService: ServiceSchema<DbSettings, ActivityMethods> = {
	name: "activity",
	mixins: [
		DbMixin({
			collection: "activity",
			indexes: [{ fields: ["eventId", "userId"], unique: true }, { fields: ["userId"] }],
		}),
	],
	settings: {
		fields: ["id", "userId", "type", "actorId", "subject", "data", "eventId", "at"],
	},

	channels: Object.fromEntries(Object.keys(ACTIVITY_SOURCES).map(type => [type, channel(type)])),

	actions: {
		listFor: {
			visibility: "public",
			idempotent: true,
			summary: 'A user\'s activity, newest first (`sort: "at"` for oldest first).',
			params: {
				userId: { type: "string", min: 1, max: 64 },
				...pageParams,
				sort: { type: "enum", values: ["-at", "at"], default: "-at" },
			},
			handler(ctx: Ctx<{ userId: string; page: number; pageSize: number; sort: "-at" | "at" }>) {
				const { userId, page, pageSize, sort } = ctx.params;
				return this._list(ctx, { query: { userId }, page, pageSize, sort: sort === "at" ? ["at", "createdAt"] : ["-at", "-createdAt"] });
			},
		},
	},

	methods: {
		/** Records the event for each user concerned; returns how many new entries were stored. */
		async record(ctx: Ctx<Raw>, type: string) {
			const p = ctx.params ?? {};
			const eventId = str(p.eventId);
			const actorId = str(p.actorId);
			if (!eventId || !actorId) throw new MalformedMessageError(`Malformed '${type}' message: eventId and actorId are required.`);
			const at = str(p.at) ?? new Date().toISOString();
			const data = Object.fromEntries(Object.entries(p).filter(([k]) => !ENVELOPE.has(k)));
			const seen = new Set<string>();
			let stored = 0;
			for (const r of ACTIVITY_SOURCES[type](p)) {
				const userId = str(r.userId);
				if (!userId || seen.has(userId)) continue;
				seen.add(userId);
				try {
					await this._insert(ctx, { entity: { userId, type, actorId, subject: str(r.subject), data, eventId, at } });
					stored++;
				} catch (err) {
					if (!(err instanceof ConflictError)) throw err; // recorded already (redelivery)
				}
			}
			return stored;
		},
	},
};

export default ActivityService;
