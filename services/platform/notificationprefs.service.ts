/**
 * Notification preferences of each user (README, "Platform: notifications" → "Preferences"), at
 * `/api/notifications/preferences`: for every category a switch per channel (in-app, e-mail, push), and
 * quiet hours in the user's own time zone during which e-mail and push wait (in-app never does).
 *
 * One row per user (id = user id), holding only what the user changed: the defaults below fill in the
 * rest, so a new category needs no migration. Security e-mail (password resets) cannot be switched off:
 * turning it off would lock a user out of their account.
 */
import { type Ctx, currentUser } from "../../lib/context";
import { InvalidInputError } from "../../lib/errors";
import { isTimeZone, TIME_OF_DAY } from "../../lib/quiet-hours";
import type { DbSettings, MixinSchema, ServiceSchema } from "../../lib/schema";
import { CATEGORIES, CHANNELS, type Category, type Channel } from "../../lib/templates";
import { DbMixin, type DbThis } from "../../mixins/db.mixin";
import { userIdParam, type Preferences } from "./common";

export const DEFAULT_PREFERENCES: Record<Category, Record<Channel, boolean>> = {
	security: { inApp: true, email: true, push: true },
	follows: { inApp: true, email: false, push: true },
	comments: { inApp: true, email: true, push: true },
	mentions: { inApp: true, email: true, push: true },
	likes: { inApp: true, email: false, push: false },
	assignments: { inApp: true, email: true, push: true },
	invitations: { inApp: true, email: true, push: false },
	updates: { inApp: true, email: false, push: false },
	marketing: { inApp: false, email: false, push: false },
};
/** Switches a user cannot turn off. */
const LOCKED: { category: Category; channel: Channel }[] = [{ category: "security", channel: "email" }];

type Stored = {
	categories?: Partial<Record<Category, Partial<Record<Channel, boolean>>>>;
	quietHours?: { start: string; end: string } | null;
	timeZone?: string;
};
type Patch = Stored;

/** The stored choices completed with the defaults. */
export function effectivePreferences(stored: Stored | null | undefined): Preferences {
	const categories = {} as Preferences["categories"];
	for (const category of CATEGORIES) {
		categories[category] = { ...DEFAULT_PREFERENCES[category] };
		for (const channel of CHANNELS) {
			const value = stored?.categories?.[category]?.[channel];
			if (typeof value === "boolean") categories[category][channel] = value;
		}
	}
	for (const { category, channel } of LOCKED) categories[category][channel] = true;
	return { categories, quietHours: stored?.quietHours ?? null, timeZone: stored?.timeZone ?? "UTC" };
}

const switches = {
	type: "object",
	optional: true,
	strict: true,
	props: Object.fromEntries(CHANNELS.map(c => [c, { type: "boolean", optional: true }])),
} as const;
const time = { type: "string", max: 5, pattern: TIME_OF_DAY, messages: { stringPattern: "must be a time of day, HH:MM (24 h)" } } as const;

/** The params of `PUT /api/notifications/preferences` (also of the users service's `PUT /me/preferences`, which forwards here). */
export const preferencesPatchParams = {
	$$strict: true,
	categories: { type: "object", optional: true, strict: true, props: Object.fromEntries(CATEGORIES.map(c => [c, switches])) },
	quietHours: { type: "object", optional: true, nullable: true, strict: true, props: { start: time, end: time } },
	timeZone: { type: "string", optional: true, max: 64 },
} as const;

interface PrefsVars {
	adapter: DbThis["adapter"];
}
interface PrefsMethods {
	load(userId: string): Promise<Stored | null>;
}

const NotificationPrefsService: ServiceSchema<DbSettings, PrefsMethods, PrefsVars> = {
	name: "notificationprefs",
	// DbMixin types its own `this` (DbThis), not Moleculer's default mixin type.
	mixins: [DbMixin({ collection: "notification_preferences" }) as MixinSchema],
	settings: { rest: "/notifications/preferences", fields: ["id"] },

	actions: {
		getPreferences: {
			rest: "GET /",
			auth: "required",
			summary: "Your notification preferences: per category and channel, quiet hours, time zone.",
			params: { $$strict: true },
			async handler(ctx: Ctx) {
				return effectivePreferences(await this.load(currentUser(ctx).id));
			},
		},
		updatePreferences: {
			rest: "PUT /",
			auth: "required",
			idempotent: true,
			summary: "Change some preferences; what you leave out keeps its value. `quietHours: null` removes them.",
			params: preferencesPatchParams,
			async handler(ctx: Ctx<Patch>) {
				const userId = currentUser(ctx).id;
				const patch = ctx.params;
				const issues: { field: string; message: string }[] = [];
				if (patch.timeZone !== undefined && !isTimeZone(patch.timeZone))
					issues.push({ field: "timeZone", message: "must be an IANA time zone, e.g. Europe/Paris" });
				if (patch.quietHours && patch.quietHours.start === patch.quietHours.end)
					issues.push({ field: "quietHours", message: "start and end must differ" });
				for (const { category, channel } of LOCKED)
					if (patch.categories?.[category]?.[channel] === false)
						issues.push({ field: `categories.${category}.${channel}`, message: "cannot be turned off" });
				if (issues.length) throw new InvalidInputError("The preferences are not valid.", issues);

				const current = (await this.load(userId)) ?? {};
				const categories: Stored["categories"] = { ...current.categories };
				for (const [category, values] of Object.entries(patch.categories ?? {}) as [Category, Partial<Record<Channel, boolean>>][])
					categories[category] = { ...categories[category], ...values };
				const next: Stored = {
					categories,
					quietHours: patch.quietHours !== undefined ? patch.quietHours : (current.quietHours ?? null),
					timeZone: patch.timeZone ?? current.timeZone ?? "UTC",
				};
				const now = new Date().toISOString();
				// One row per user (id = user id): of two concurrent first saves one inserts, the other updates.
				const exists = await this.adapter.count({ query: { _id: userId } });
				if (exists) await this.adapter.updateMany({ _id: userId }, { $set: { ...next, updatedAt: now } });
				else {
					try {
						await this.adapter.insert({ _id: userId, ...next, createdAt: now, updatedAt: now });
					} catch {
						await this.adapter.updateMany({ _id: userId }, { $set: { ...next, updatedAt: now } });
					}
				}
				return effectivePreferences(next);
			},
		},
		forUser: {
			visibility: "public",
			idempotent: true,
			summary: "A user's effective preferences (for notifications.send).",
			params: { $$strict: true, userId: userIdParam },
			async handler(ctx: Ctx<{ userId: string }>) {
				return effectivePreferences(await this.load(ctx.params.userId));
			},
		},
	},

	methods: {
		async load(userId: string) {
			const doc = (await this.adapter.findById(userId)) as (Stored & { toJSON?: () => Stored }) | null;
			if (!doc) return null;
			return typeof doc.toJSON === "function" ? doc.toJSON() : doc;
		},
	},
};

export default NotificationPrefsService;
