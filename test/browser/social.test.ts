/**
 * Social journeys in Chromium (README, "Web app" → "Social screens"): a post with an image is published and
 * shows in the feed with its picture served under the CSP; like and comment it; find someone in Explore,
 * follow them from their profile (the counts move) and their posts join the feed; the like button reached
 * and pressed with the keyboard only; axe finds nothing serious on any screen.
 */
import sharp from "sharp";
import { describeBrowser, useBrowser } from "../helpers/browser";
import { menu, registerUser, signIn, tabTo, openWithKeyboard } from "../helpers/browser-journeys";

jest.setTimeout(90_000);

describeBrowser("web app: social journeys", () => {
	const b = useBrowser({ services: ["identity", "social"], env: { PASSWORD_SCRYPT_N: "1024" } });

	it("posts with an image, likes and comments, follows from a profile", async () => {
		const ada = await registerUser(b, "Ada Lovelace", "ada@example.com");
		const bob = await registerUser(b, "Bob Babbage", "bob@example.com");
		const bobsPost = await b
			.platform()
			.http("POST", "/api/posts", { token: bob.accessToken, body: { text: "Difference engine, part two #engines" } });
		expect(bobsPost.status).toBe(201);

		const page = await b.page();
		await signIn(b, page, "ada@example.com", "/social/feed");
		await page.getByRole("heading", { name: "Feed" }).waitFor();
		// nobody followed yet: Bob's post is not in Ada's feed
		await page.getByText("Nothing here yet").waitFor();

		// a post with an image: uploaded at once, previewed from the server, then published
		const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: "#2350c8" } })
			.png()
			.toBuffer();
		await page.getByLabel("What's new?").fill("First light of the analytical engine #engines");
		await page.getByLabel(/^Image/).setInputFiles({ name: "engine.png", mimeType: "image/png", buffer: png });
		await page.getByRole("img", { name: "Attached: engine.png" }).waitFor();
		await page.getByRole("button", { name: "Post", exact: true }).click();
		await page.getByText("Your post is published.").waitFor();
		const mine = page.locator("article", { hasText: "First light of the analytical engine" });
		await mine.waitFor();
		const picture = mine.getByRole("img", { name: /Image 1 posted by Ada Lovelace/ });
		await picture.waitFor();
		// the picture really loads (the gateway serves /media under the app's CSP)
		// (a function evaluated in the page: this Node-typed file names no DOM type)
		await page.waitForFunction((el: any) => el.complete && el.naturalWidth > 0, await picture.elementHandle());
		await b.screenshot(page, "social-feed");
		expect(await b.axe(page)).toEqual([]);

		// like, then comment
		await mine.getByRole("button", { name: /^Like/ }).click();
		await mine.getByRole("button", { name: /^Liked · 1/ }).waitFor();
		expect(await mine.getByRole("button", { name: /^Liked/ }).getAttribute("aria-pressed")).toBe("true");
		await mine.getByRole("button", { name: "Comments (0)" }).click();
		await mine.getByLabel("Your comment").fill("What a machine.");
		await mine.getByRole("button", { name: "Comment", exact: true }).click();
		await mine.getByText("What a machine.").waitFor();
		await mine.getByRole("button", { name: "Comments (1)" }).waitFor();
		// the server agrees
		const stored = (await b.platform().http("GET", `/api/posts/${await mine.getAttribute("data-post-id")}`, { token: ada.accessToken })).body;
		expect(stored.counts).toMatchObject({ like: 1, reactions: 1, comments: 1 });
		expect(stored.mediaIds).toHaveLength(1);
		await b.screenshot(page, "social-comments");
		expect(await b.axe(page)).toEqual([]);

		// a reaction other than like moves the counts
		await mine.getByLabel("Reaction").selectOption("love");
		await mine.getByRole("button", { name: /^Like · 0/ }).waitFor();

		// Explore shows Bob's public post; his name leads to his profile
		await menu(page, "Explore");
		await page.getByRole("heading", { name: "Explore" }).waitFor();
		const bobsCard = page.locator("article", { hasText: "Difference engine, part two" });
		await bobsCard.getByRole("link", { name: "Bob Babbage" }).click();
		await page.getByRole("heading", { name: "Bob Babbage" }).waitFor();
		await page.locator('[data-stat="followers"]', { hasText: "0" }).waitFor();
		await page.getByRole("button", { name: "Follow Bob Babbage" }).click();
		await page.getByRole("button", { name: "Unfollow Bob Babbage" }).waitFor();
		await page.locator('[data-stat="followers"]', { hasText: "1" }).waitFor();
		await b.screenshot(page, "social-profile");
		expect(await b.axe(page)).toEqual([]);

		// his posts are in Ada's feed now (the follow reached the social projection through the channel)
		await menu(page, "Feed");
		await page.getByRole("heading", { name: "Feed" }).waitFor();
		for (let i = 0; i < 50 && !(await page.locator("article", { hasText: "Difference engine, part two" }).count()); i++) {
			// the projection is eventually consistent: reload the screen until it shows (bounded)
			await page.reload();
			await page.getByRole("heading", { name: "Latest" }).waitFor();
			await page.locator("article").first().waitFor();
		}
		await page.locator("article", { hasText: "Difference engine, part two" }).waitFor();

		// People: the directory lists both, and the search finds Bob
		await menu(page, "People");
		await page.getByLabel("Name").fill("bob");
		await page.getByRole("button", { name: "Find" }).click();
		await page.getByRole("table").getByRole("link", { name: "Bob Babbage" }).waitFor();
		await b.screenshot(page, "social-people");
		expect(await b.axe(page)).toEqual([]);

		// Ada's own profile: edit the bio; then delete her post from the feed (with a confirmation)
		await page.getByRole("link", { name: "Your profile" }).click();
		await page.getByRole("heading", { name: "Ada Lovelace" }).waitFor();
		await page.getByText("Edit your profile").click();
		await page.getByLabel("About you").fill("First programmer.");
		await page.getByRole("button", { name: "Save profile" }).click();
		await page.getByText("Your profile is saved.").waitFor();
		await page.locator("main p", { hasText: "First programmer." }).waitFor();
		await menu(page, "Feed");
		const own = page.locator("article", { hasText: "First light of the analytical engine" });
		const ownId = await own.getAttribute("data-post-id");
		await own.getByRole("button", { name: "Delete…" }).click();
		await own.getByRole("group", { name: "Delete this post?" }).getByRole("button", { name: "Delete", exact: true }).click();
		await page.getByText("Your post is deleted.").waitFor();
		expect((await b.platform().http("GET", `/api/posts/${ownId}`, { token: ada.accessToken })).status).toBe(404);
	});

	it("likes a post with the keyboard only", async () => {
		await registerUser(b, "Cy Keys", "cy@example.com");
		const page = await b.page();
		await signIn(b, page, "cy@example.com", "/social/explore");
		await page.getByRole("heading", { name: "Explore" }).waitFor();
		const card = page.locator("article", { hasText: "Difference engine, part two" });
		const like = card.getByRole("button", { name: /^Like · \d+/ });
		await like.waitFor();
		const before = Number((await like.locator(".count").textContent()) ?? "0");
		await tabTo(page, like);
		await page.keyboard.press("Space");
		await card.getByRole("button", { name: new RegExp(`^Liked · ${before + 1}`) }).waitFor();
		// the comments open and take a comment from the keyboard too
		await page.keyboard.press("Tab"); // the reaction select
		await page.keyboard.press("Tab"); // comments
		await page.keyboard.press("Enter");
		const field = card.getByLabel("Your comment");
		await field.waitFor();
		await tabTo(page, field);
		await page.keyboard.type("Typed without a mouse.");
		await page.keyboard.press("Enter");
		await card.getByText("Typed without a mouse.").waitFor();
		expect(await b.axe(page)).toEqual([]);
		await b.screenshot(page, "social-explore");
	});
	it("opens every screen of the domain from the menu with the keyboard only, focus on its content", async () => {
		await registerUser(b, "Di Tabs", "di@example.com");
		const page = await b.page();
		await signIn(b, page, "di@example.com");
		await openWithKeyboard(page, "Feed");
		await page.getByRole("heading", { level: 1, name: "Feed", exact: true }).waitFor();
		expect(await b.axe(page)).toEqual([]);
		await openWithKeyboard(page, "Explore");
		await page.getByRole("heading", { level: 1, name: "Explore", exact: true }).waitFor();
		expect(await b.axe(page)).toEqual([]);
		await openWithKeyboard(page, "People");
		await page.getByRole("heading", { level: 1, name: "People", exact: true }).waitFor();
		expect(await b.axe(page)).toEqual([]);
	});
});
