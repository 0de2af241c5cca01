/**
 * Notification preferences of a user: for each delivery channel (`email`, `push`, `inApp`), a
 * boolean per topic. Stored with the profile; missing values fall back to the defaults below, so
 * adding a topic later needs no migration.
 */
export const NOTIFICATION_CHANNELS = ["email", "push", "inApp"] as const;
export const NOTIFICATION_TOPICS = ["follows", "likes", "comments", "mentions", "security", "marketing"] as const;

export type NotificationChannel = (typeof NOTIFICATION_CHANNELS)[number];
export type NotificationTopic = (typeof NOTIFICATION_TOPICS)[number];
export type Preferences = Record<NotificationChannel, Record<NotificationTopic, boolean>>;
export type PreferencesPatch = Partial<Record<NotificationChannel, Partial<Record<NotificationTopic, boolean>>>>;

/** In-app and push for social activity, email only for what matters; marketing is opt-in everywhere. */
export const DEFAULT_PREFERENCES: Preferences = {
	email: { follows: false, likes: false, comments: true, mentions: true, security: true, marketing: false },
	push: { follows: true, likes: true, comments: true, mentions: true, security: true, marketing: false },
	inApp: { follows: true, likes: true, comments: true, mentions: true, security: true, marketing: false },
};

/** The stored preferences (possibly partial or absent) completed with the defaults, then the patch applied. */
export function mergePreferences(stored: PreferencesPatch | undefined | null, patch: PreferencesPatch = {}): Preferences {
	const out = {} as Preferences;
	for (const channel of NOTIFICATION_CHANNELS) {
		out[channel] = { ...DEFAULT_PREFERENCES[channel] };
		for (const topic of NOTIFICATION_TOPICS) {
			const value = patch[channel]?.[topic] ?? stored?.[channel]?.[topic];
			if (typeof value === "boolean") out[channel][topic] = value;
		}
	}
	return out;
}

/** fastest-validator params for `PUT /me/preferences`: any subset of channels × topics; anything else is removed. */
export const preferencesParams = {
	$$strict: "remove",
	...Object.fromEntries(
		NOTIFICATION_CHANNELS.map(channel => [
			channel,
			{
				type: "object",
				optional: true,
				strict: "remove",
				props: Object.fromEntries(NOTIFICATION_TOPICS.map(topic => [topic, { type: "boolean", optional: true }])),
			},
		]),
	),
} as const;
