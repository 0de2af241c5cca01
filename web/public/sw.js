/*
 * The web app's service worker (README, "Web app" → "Notification screens"): served as /sw.js (Vite copies
 * web/public/ into the build as is), registered by "Enable push on this device". It only shows pushes and
 * opens the app: no caching, no fetch handler.
 *
 * A push's payload (README, "Web Push"): { id, category, tenantId, title, body, link, createdAt }.
 */
/* global self, clients */

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", event => event.waitUntil(self.clients.claim()));

self.addEventListener("push", event => {
	let payload = {};
	try {
		payload = event.data ? event.data.json() : {};
	} catch {
		payload = { body: event.data ? event.data.text() : "" };
	}
	const title = typeof payload.title === "string" && payload.title ? payload.title : "Valence";
	event.waitUntil(
		self.registration.showNotification(title, {
			body: typeof payload.body === "string" ? payload.body : "",
			// a resend of the same notification replaces the one shown instead of adding a second
			tag: payload.id || undefined,
			data: { id: payload.id || null, link: typeof payload.link === "string" ? payload.link : null },
		}),
	);
});

/** The app's notification center: the app opens the notification's own screen from there. */
const APP_PAGE = "/#/notifications";

self.addEventListener("notificationclick", event => {
	event.notification.close();
	const target = new URL(APP_PAGE, self.location.origin).href;
	event.waitUntil(
		clients.matchAll({ type: "window", includeUncontrolled: true }).then(windows => {
			const open = windows.find(w => new URL(w.url).origin === self.location.origin);
			if (open) {
				// focus the open app and show the notification center there (still signed in: same tab)
				return open.focus().then(w => (w && "navigate" in w ? w.navigate(target) : w));
			}
			return clients.openWindow(target);
		}),
	);
});
