/**
 * The notification center in Chromium (README, "Web app" → "Notification screens"): someone follows you
 * through the API and the bell's count goes up live on the open page (no reload); the list shows "… started
 * following you", a second follow arrives in the open list, mark read lowers the count, the unread filter,
 * mark all read, delete; preferences saved and still there after a reload, quiet hours and time zone
 * refusals shown by their fields; push enabled and disabled on this device (with `PushManager.subscribe`
 * stubbed in the page: a headless browser on a closed network reaches no push service), checking the API
 * calls the button makes. Keyboard only where a user would use it; axe on every screen; screenshots.
 */
import crypto from "node:crypto";
import { describeBrowser, freePort, useBrowser } from "../helpers/browser";
import { registerUser, signIn, tabTo } from "../helpers/browser-journeys";
import { waitFor } from "../helpers/wait";

jest.setTimeout(120_000);

const b64url = (buf: Buffer) => buf.toString("base64url");

describeBrowser("web app: notification center", () => {
	let port = 0;
	const b = useBrowser(async () => {
		// notification links are made with APP_URL: this platform's own address, so they open in the app
		port = await freePort();
		return {
			// social: a notification's link opens a profile
			services: ["identity", "platform", "social"],
			env: { PASSWORD_SCRYPT_N: "1024", PORT: String(port), APP_URL: `http://127.0.0.1:${port}` },
		};
	});

	it("the bell counts live, the list reads, marks and deletes, preferences and push are saved", async () => {
		const ada = await registerUser(b, "Ada Lovelace", "ada@example.com");
		const bob = await registerUser(b, "Bob Babbage", "bob@example.com");
		const carol = await registerUser(b, "Carol Herschel", "carol@example.com");
		const http = b.platform().http.bind(b.platform());

		// a browser in Paris whose push service is a stub: the subscription it answers is valid for the API
		// (a P-256 public key on the curve, a 16-byte auth secret, an endpoint on an allowed push host)
		const ecdh = crypto.createECDH("prime256v1");
		ecdh.generateKeys();
		const fake = {
			endpoint: "https://fcm.googleapis.com/fcm/send/valence-browser-test",
			p256dh: b64url(ecdh.getPublicKey()),
			auth: b64url(crypto.randomBytes(16)),
		};
		const context = await b
			.browser()
			.newContext({ viewport: { width: 1280, height: 860 }, timezoneId: "Europe/Paris", permissions: ["notifications"] });
		await context.addInitScript(f => {
			const w = globalThis as any;
			const calls = (w.__push = { keys: [] as string[], unsubscribed: 0 });
			let current: any = null;
			w.PushManager.prototype.subscribe = async function (opts: { applicationServerKey: ArrayBuffer | Uint8Array }) {
				const bytes = new Uint8Array(
					opts.applicationServerKey instanceof ArrayBuffer ? opts.applicationServerKey : opts.applicationServerKey.buffer,
				);
				calls.keys.push(
					w
						.btoa(String.fromCharCode(...bytes))
						.replace(/\+/g, "-")
						.replace(/\//g, "_")
						.replace(/=+$/, ""),
				);
				current = {
					endpoint: f.endpoint,
					toJSON: () => ({ endpoint: f.endpoint, expirationTime: null, keys: { p256dh: f.p256dh, auth: f.auth } }),
					unsubscribe: async () => {
						calls.unsubscribed++;
						current = null;
						return true;
					},
				};
				return current;
			};
			w.PushManager.prototype.getSubscription = async () => current;
		}, fake);
		const page = await b.page({ context });

		await signIn(b, page, "ada@example.com");
		const bell = page.getByRole("link", { name: /^Notifications \d+ unread$/ });
		await page.getByRole("link", { name: "Notifications 0 unread" }).waitFor();
		// the bell's socket is up (what it would miss while down it reads again on reconnecting)
		await page.locator('.nt-bell[data-connected="true"]').waitFor();
		await page.evaluate("window.__sameDocument = 'yes'");

		// Bob follows Ada through the API: the count goes up on the open page
		expect((await http("POST", `/api/users/${ada.user.id}/follow`, { token: bob.accessToken })).status).toBeLessThan(300);
		await page.getByRole("link", { name: "Notifications 1 unread" }).waitFor();
		expect(await page.evaluate("window.__sameDocument")).toBe("yes");
		await b.screenshot(page, "notifications-bell");

		// keyboard only: Tab to the bell, Enter
		await page.evaluate("document.activeElement && document.activeElement.blur()");
		await tabTo(page, bell);
		await page.keyboard.press("Enter");
		await page.getByRole("heading", { name: "Notifications", level: 1 }).waitFor();
		const bobs = page.locator("li.nt-item", { hasText: "Bob Babbage started following you." });
		await bobs.waitFor();
		expect(await bobs.getAttribute("class")).toContain("nt-unread");
		// its link (APP_URL/users/<id>) opens Bob's profile in the app
		expect(await bobs.getByRole("link", { name: /^Open/ }).getAttribute("href")).toBe(`#/social/people?id=${bob.user.id}`);
		expect(await page.evaluate("window.__sameDocument")).toBe("yes");

		// Carol follows too: she appears at the top of the open list, live
		expect((await http("POST", `/api/users/${ada.user.id}/follow`, { token: carol.accessToken })).status).toBeLessThan(300);
		const carols = page.locator("li.nt-item", { hasText: "Carol Herschel started following you." });
		await carols.waitFor();
		await page.getByRole("link", { name: "Notifications 2 unread" }).waitFor();
		expect(await page.locator("li.nt-item").first().textContent()).toContain("Carol Herschel");
		await b.screenshot(page, "notifications-list");
		expect(await b.axe(page)).toEqual([]);

		// mark Carol's read with the keyboard: the count goes down, here and on the server
		const markCarol = carols.getByRole("button", { name: /^Mark read/ });
		await markCarol.focus();
		await page.keyboard.press("Enter");
		await page.getByRole("link", { name: "Notifications 1 unread" }).waitFor();
		await carols.getByRole("button", { name: /^Mark read/ }).waitFor({ state: "detached" });
		expect((await http("GET", "/api/notifications/unread-count", { token: ada.accessToken })).body.unreadCount).toBe(1);

		// the unread filter shows only Bob's; the category filter names the category in words
		await page.getByLabel("Show").selectOption("unread");
		await carols.waitFor({ state: "detached" });
		await bobs.waitFor();
		await page.getByLabel("Show").selectOption("all");
		await page.getByLabel("Category").selectOption("follows");
		await carols.waitFor();
		await page.getByLabel("Category").selectOption("mentions");
		await page.getByText("No notifications match these filters.").waitFor();
		await page.getByLabel("Category").selectOption("");
		await bobs.waitFor();

		// mark all read, then delete Carol's
		await page.getByRole("button", { name: "Mark all read" }).click();
		await page.getByRole("link", { name: "Notifications 0 unread" }).waitFor();
		await page.getByText("1 notification marked read.").waitFor();
		await carols.getByRole("button", { name: /^Delete/ }).click();
		await carols.waitFor({ state: "detached" });
		const left = (await http("GET", "/api/notifications", { token: ada.accessToken })).body;
		expect(left.items.map((n: { body: string }) => n.body)).toEqual(["Bob Babbage started following you."]);
		expect(left.unreadCount).toBe(0);
		// the focus stayed on the list (the remaining notification), not lost on the page
		await page.waitForFunction(id => (globalThis as any).document.activeElement?.getAttribute("data-notification-id") === id, left.items[0].id);

		// preferences: the API's defaults, the browser's time zone offered
		await page.getByRole("link", { name: "Choose what you are told, and how" }).click();
		await page.getByRole("heading", { name: "Notification settings" }).waitFor();
		const followsEmail = page.getByRole("checkbox", { name: "New followers: e-mail" });
		const followsPush = page.getByRole("checkbox", { name: "New followers: push" });
		const likesPush = page.getByRole("checkbox", { name: "Likes: push" });
		expect(await followsEmail.isChecked()).toBe(false);
		expect(await followsPush.isChecked()).toBe(true);
		expect(await likesPush.isChecked()).toBe(false);
		expect(await page.getByRole("checkbox", { name: "Security: e-mail" }).isDisabled()).toBe(true);
		const zone = page.getByLabel("Time zone");
		expect(await zone.inputValue()).toBe("Europe/Paris");
		expect(await b.axe(page)).toEqual([]);

		// keyboard: Space toggles, Enter in a field submits
		await followsEmail.focus();
		await page.keyboard.press("Space");
		await likesPush.focus();
		await page.keyboard.press("Space");
		await page.getByRole("checkbox", { name: "Hold e-mail and push during quiet hours" }).check();
		await page.getByLabel("From").fill("22:30");
		await page.getByLabel("Until").fill("07:15");
		await zone.focus();
		await page.keyboard.press("Enter");
		await page.getByText("Your preferences are saved.").waitFor();
		const stored = (await http("GET", "/api/notifications/preferences", { token: ada.accessToken })).body;
		expect(stored.categories.follows).toEqual({ inApp: true, email: true, push: true });
		expect(stored.categories.likes.push).toBe(true);
		expect(stored.quietHours).toEqual({ start: "22:30", end: "07:15" });
		expect(stored.timeZone).toBe("Europe/Paris");

		// after a reload, the saved values are shown
		await page.reload();
		await page.getByRole("heading", { name: "Notification settings" }).waitFor();
		expect(await followsEmail.isChecked()).toBe(true);
		expect(await likesPush.isChecked()).toBe(true);
		expect(await page.getByLabel("From").inputValue()).toBe("22:30");
		expect(await page.getByLabel("Until").inputValue()).toBe("07:15");
		expect(await zone.inputValue()).toBe("Europe/Paris");

		// refusals by their fields: equal start and end, a time zone nobody has
		await page.getByLabel("Until").fill("22:30");
		await zone.fill("Mars/Olympus_Mons");
		await page.getByRole("button", { name: "Save preferences" }).click();
		const quietError = page.locator("fieldset.nt-quiet #nt-quiet-error");
		await quietError.waitFor();
		expect(await quietError.textContent()).toContain("start and end must differ");
		expect(await zone.getAttribute("aria-invalid")).toBe("true");
		const zoneError = await zone.getAttribute("aria-describedby");
		expect(await page.locator(`[id="${zoneError!.split(" ").pop()}"]`).textContent()).toContain("IANA time zone");
		expect(await page.getByRole("alert").filter({ hasText: "Please correct the fields marked below." }).count()).toBe(1);
		await b.screenshot(page, "notifications-preferences-errors");
		expect(await b.axe(page)).toEqual([]);
		// nothing was stored
		expect((await http("GET", "/api/notifications/preferences", { token: ada.accessToken })).body.quietHours).toEqual({
			start: "22:30",
			end: "07:15",
		});

		// push on this device: the service worker, the VAPID key, the subscription sent; then removed
		const key = (await http("GET", "/api/notifications/push-subscriptions/key", { token: ada.accessToken })).body.publicKey;
		const enable = page.getByRole("button", { name: "Enable push on this device" });
		await enable.focus();
		await page.keyboard.press("Enter");
		await page.getByText("Push is enabled on this device.").waitFor();
		expect(await page.evaluate("window.__push.keys")).toEqual([key]);
		expect(await page.evaluate("navigator.serviceWorker.getRegistration('/').then(r => r && r.active && r.active.scriptURL)")).toBe(
			b.url("/sw.js"),
		);
		let subs = (await http("GET", "/api/notifications/push-subscriptions", { token: ada.accessToken })).body;
		expect(subs.rows.map((r: { endpoint: string }) => r.endpoint)).toEqual([fake.endpoint]);
		await b.screenshot(page, "notifications-preferences");
		expect(await b.axe(page)).toEqual([]);

		// the service worker shows a push (delivered to it by Chromium's DevTools protocol, as a push service
		// would): its title and body, tagged with the notification's id
		const cdp = await context.newCDPSession(page);
		const registrationId = new Promise<string>(resolve =>
			cdp.on("ServiceWorker.workerRegistrationUpdated", e => {
				const r = e.registrations.find(x => x.scopeURL === b.url("/") && !x.isDeleted);
				if (r) resolve(r.registrationId);
			}),
		);
		await cdp.send("ServiceWorker.enable");
		const payload = {
			id: "n-push-1",
			category: "follows",
			tenantId: null,
			title: "New follower",
			body: "Dora started following you.",
			link: null,
		};
		await cdp.send("ServiceWorker.deliverPushMessage", {
			origin: b.url(""),
			registrationId: await registrationId,
			data: JSON.stringify(payload),
		});
		const shown = () =>
			page.evaluate(
				"navigator.serviceWorker.ready.then(r => r.getNotifications({ tag: 'n-push-1' })).then(ns => ns.map(n => ({ title: n.title, body: n.body, tag: n.tag })))",
			) as Promise<{ title: string; body: string; tag: string }[]>;
		await waitFor(async () => (await shown()).length > 0, { what: "the push shown" });
		expect(await shown()).toEqual([{ title: "New follower", body: "Dora started following you.", tag: "n-push-1" }]);

		await page.getByRole("button", { name: "Disable push on this device" }).click();
		await page.getByText("Push is not enabled on this device.").waitFor();
		subs = (await http("GET", "/api/notifications/push-subscriptions", { token: ada.accessToken })).body;
		expect(subs.rows).toEqual([]);
		expect(await page.evaluate("window.__push.unsubscribed")).toBe(1);
		await context.close();
	});

	it("pages with Load more, and a notification's link opens its screen in the app", async () => {
		const eve = await registerUser(b, "Eve Noether", "eve@example.com");
		const frank = await registerUser(b, "Frank Dyson", "frank@example.com");
		const grace = await registerUser(b, "Grace Chisholm", "grace@example.com");
		const http = b.platform().http.bind(b.platform());
		// the oldest: Frank follows Eve; then Grace comments 20 times on Eve's post: 21 notifications
		expect((await http("POST", `/api/users/${eve.user.id}/follow`, { token: frank.accessToken })).status).toBeLessThan(300);
		const post = (await http("POST", "/api/posts", { token: eve.accessToken, body: { text: "On invariants" } })).body;
		for (let i = 1; i <= 20; i++)
			expect((await http("POST", `/api/posts/${post.id}/comments`, { token: grace.accessToken, body: { text: `Remark ${i}` } })).status).toBe(
				201,
			);
		await waitFor(async () => (await http("GET", "/api/notifications/unread-count", { token: eve.accessToken })).body.unreadCount === 21, {
			what: "21 notifications",
		});
		const page = await b.page();
		await signIn(b, page, "eve@example.com", "/notifications");
		await page.getByRole("heading", { name: "Notifications", level: 1 }).waitFor();
		await page.getByRole("link", { name: "Notifications 21 unread" }).waitFor();
		const items = page.locator("li.nt-item");
		await page.waitForFunction(() => (globalThis as any).document.querySelectorAll("li.nt-item").length === 20);
		// newest first
		expect(await items.first().textContent()).toContain("Grace Chisholm commented on your post.");
		// a link to a place of the app with no screen (a post) offers no Open
		expect(await items.first().getByRole("link", { name: /^Open/ }).count()).toBe(0);
		await page.getByRole("button", { name: "Load more" }).click();
		await page.waitForFunction(() => (globalThis as any).document.querySelectorAll("li.nt-item").length === 21);
		await page.getByRole("button", { name: "Load more" }).waitFor({ state: "detached" });
		const oldest = items.last();
		expect(await oldest.textContent()).toContain("Frank Dyson started following you.");

		// its link (APP_URL/users/<id>) opens Frank's profile in the app, on the same page, and reads it
		await page.evaluate("window.__sameDocument = 'yes'");
		const id = await oldest.getAttribute("data-notification-id");
		await oldest.getByRole("link", { name: /^Open/ }).click();
		await page.getByRole("heading", { name: "Frank Dyson", level: 1 }).waitFor();
		expect(page.url()).toBe(b.url(`/#/social/people?id=${frank.user.id}`));
		expect(await page.evaluate("window.__sameDocument")).toBe("yes");
		await page.getByRole("link", { name: "Notifications 20 unread" }).waitFor();
		expect((await b.platform().http("GET", `/api/notifications/${id}`, { token: eve.accessToken })).body.readAt).toEqual(expect.any(String));
	});
});

describeBrowser("web app: the bell when the access token expires", () => {
	const b = useBrowser({ services: ["identity", "platform"], env: { PASSWORD_SCRYPT_N: "1024", JWT_ACCESS_TTL_S: "6" } });

	it("pauses without spending the refresh token, and catches up when the reader is back", async () => {
		const ada = await registerUser(b, "Ada Lovelace", "ada@example.com");
		const bob = await registerUser(b, "Bob Babbage", "bob@example.com");
		const carol = await registerUser(b, "Carol Herschel", "carol@example.com");
		const page = await b.page();
		let refreshes = 0;
		page.on("request", r => {
			if (r.method() === "POST" && r.url().endsWith("/api/auth/refresh")) refreshes++;
		});
		await signIn(b, page, "ada@example.com");
		await page.locator('.nt-bell[data-connected="true"]').waitFor();
		await page.getByRole("link", { name: "Notifications 0 unread" }).waitFor();
		await page.evaluate("window.__sameDocument = 'yes'");

		// nobody touches the page: the socket closes before the token expires, and nothing refreshes it
		await page.locator('.nt-bell[data-connected="false"]').waitFor();
		await page.waitForFunction(() => {
			const t = JSON.parse((globalThis as any).localStorage.getItem("valence.tokens"));
			return t && t.accessExpiresAt < Date.now();
		});
		expect(refreshes).toBe(0);
		// meanwhile Bob follows Ada (no socket is open to tell her)
		expect((await b.platform().http("POST", `/api/users/${ada.user.id}/follow`, { token: bob.accessToken })).status).toBeLessThan(300);

		// the reader is back (a key): one refresh, the socket again, the count read again
		await page.keyboard.press("Shift");
		await page.locator('.nt-bell[data-connected="true"]').waitFor();
		await page.getByRole("link", { name: "Notifications 1 unread" }).waitFor();
		expect(refreshes).toBe(1);
		// and live again
		expect((await b.platform().http("POST", `/api/users/${ada.user.id}/follow`, { token: carol.accessToken })).status).toBeLessThan(300);
		await page.getByRole("link", { name: "Notifications 2 unread" }).waitFor();
		expect(await page.evaluate("window.__sameDocument")).toBe("yes");
	});
});
