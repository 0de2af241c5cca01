/**
 * Sessions over HTTP: refresh rotation with reuse detection, logout, the session list, password
 * change and reset, and switching tenant.
 */
import type { ServiceBroker, ServiceSchema } from "moleculer";
import { startPlatform, type HttpResult, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const PASSWORD = "correct-horse-42";
const HASHES = /passwordHash|tokenHash|scrypt\$/;

interface Pair {
	accessToken: string;
	refreshToken: string;
	sessionId: string;
	user: { id: string };
}

// Test-only consumer of the reset channel: stands in for the notification service's mailer, which
// fetches the token of the reset the message names (the message itself carries none).
const mailbox: { userId: string; email: string; token: string; expiresAt: string; eventId: string; message: Record<string, unknown> }[] = [];
const authEvents: { name: string; payload: Record<string, unknown> }[] = [];
const Mailbox = {
	name: "testmailbox",
	channels: {
		"notifications.passwordReset": {
			group: "testmailbox",
			async handler(this: { broker: ServiceBroker }, ctxOrMsg: { params?: unknown }) {
				const message = (ctxOrMsg.params ?? ctxOrMsg) as { resetId: string; eventId: string };
				const link = (await this.broker.call("auth.passwordResetLink", { resetId: message.resetId })) as { token: string } | null;
				if (link) mailbox.push({ ...(link as (typeof mailbox)[number]), eventId: message.eventId, message });
			},
		},
		...Object.fromEntries(
			["auth.loggedIn", "auth.passwordChanged"].map(name => [
				name,
				{
					group: "testmailbox",
					handler(ctxOrMsg: { params?: unknown }) {
						authEvents.push({ name, payload: (ctxOrMsg.params ?? ctxOrMsg) as Record<string, unknown> });
					},
				},
			]),
		),
	},
} as unknown as ServiceSchema;

describe("auth: sessions", () => {
	let p: Platform;
	const http: Platform["http"] = (method, path, opts) => p.http(method, path, opts);
	const newUser = async (email: string): Promise<Pair> =>
		(await p.broker.call("auth.register", { email, password: PASSWORD, name: email.split("@")[0] })) as Pair;
	const login = async (email: string, password = PASSWORD): Promise<HttpResult<Pair>> =>
		http("POST", "/api/auth/login", { body: { email, password } });
	const refresh = (refreshToken: string) => http("POST", "/api/auth/refresh", { body: { refreshToken } });

	beforeAll(async () => {
		p = await startPlatform({ services: ["auth", "tenants", "users", "notes"], extra: [Mailbox], env: { PASSWORD_SCRYPT_N: "1024" } });
	});
	afterAll(() => p.stop());

	it("rotates refresh tokens: each refresh gives a new pair and spends the old token", async () => {
		const first = await newUser("rot@example.com");
		const r1 = await refresh(first.refreshToken);
		expect(r1.status).toBe(200);
		expect(r1.body.refreshToken).not.toBe(first.refreshToken);
		expect(r1.body.sessionId).toBe(first.sessionId);
		expect((await http("GET", "/api/auth/me", { token: r1.body.accessToken })).status).toBe(200);
		const r2 = await refresh(r1.body.refreshToken);
		expect(r2.status).toBe(200);
	});

	it("revokes the whole session when a spent refresh token comes back (reuse detection)", async () => {
		const first = await newUser("reuse@example.com");
		const r1 = await refresh(first.refreshToken);
		expect(r1.status).toBe(200);
		const replay = await refresh(first.refreshToken);
		expect(replay.status).toBe(401);
		expect(replay.body.code).toBe("REFRESH_TOKEN_REUSED");
		// the legitimate holder's newer token died with the family
		const after = await refresh(r1.body.refreshToken);
		expect(after.status).toBe(401);
		// another session of the same user is untouched
		const other = await login("reuse@example.com");
		expect((await refresh(other.body.refreshToken)).status).toBe(200);
	});

	it("lets only one of two simultaneous refreshes of one token succeed", async () => {
		const first = await newUser("twice@example.com");
		const results = await Promise.all([refresh(first.refreshToken), refresh(first.refreshToken)]);
		expect(results.map(r => r.status).sort()).toEqual([200, 401]);
	});

	it("rejects an unknown refresh token with 401", async () => {
		const res = await refresh("x".repeat(43));
		expect(res.status).toBe(401);
		expect(res.body.code).toBe("INVALID_REFRESH_TOKEN");
	});

	it("logs out: the session's refresh token stops working", async () => {
		const s = await newUser("bye@example.com");
		const out = await http("POST", "/api/auth/logout", { token: s.accessToken });
		expect(out.status).toBe(204);
		const res = await refresh(s.refreshToken);
		expect(res.status).toBe(401);
		expect((await http("POST", "/api/auth/logout", {})).status).toBe(401);
	});

	it("lists my active sessions and ends one; another user's session is a 404", async () => {
		const a1 = await newUser("lister@example.com");
		const a2 = (await login("lister@example.com")).body;
		const b = await newUser("stranger@example.com");
		const list = await http("GET", "/api/auth/sessions", { token: a1.accessToken });
		expect(list.status).toBe(200);
		expect(list.body.total).toBe(2);
		expect(list.body.rows.map((s: { id: string }) => s.id).sort()).toEqual([a1.sessionId, a2.sessionId].sort());
		expect(list.body.rows.find((s: { id: string }) => s.id === a1.sessionId).current).toBe(true);
		expect(list.body.rows[0]).toEqual(
			expect.objectContaining({ createdAt: expect.any(String), expiresAt: expect.any(String), lastRefreshedAt: expect.any(String) }),
		);
		const loginRow = list.body.rows.find((s: { id: string }) => s.id === a2.sessionId);
		expect(loginRow.ip).toMatch(/127\.0\.0\.1/);

		const foreign = await http("DELETE", `/api/auth/sessions/${b.sessionId}`, { token: a1.accessToken });
		expect(foreign.status).toBe(404);
		expect(foreign.body.code).toBe("NOT_FOUND");
		expect((await refresh(b.refreshToken)).status).toBe(200);

		const del = await http("DELETE", `/api/auth/sessions/${a2.sessionId}`, { token: a1.accessToken });
		expect(del.status).toBe(204);
		expect((await refresh(a2.refreshToken)).status).toBe(401);
		const after = await http("GET", "/api/auth/sessions", { token: a1.accessToken });
		expect(after.body.rows.map((s: { id: string }) => s.id)).toEqual([a1.sessionId]);
	});

	it("changes the password: the other sessions end, this one stays, the new password works", async () => {
		const mine = await newUser("changer@example.com");
		const other = (await login("changer@example.com")).body;
		const wrong = await http("POST", "/api/auth/password", {
			token: mine.accessToken,
			body: { currentPassword: "nope-nope-nope", newPassword: "brand-new-secret-1" },
		});
		expect(wrong.status).toBe(403);
		const weak = await http("POST", "/api/auth/password", { token: mine.accessToken, body: { currentPassword: PASSWORD, newPassword: "short" } });
		expect(weak.status).toBe(422);
		const ok = await http("POST", "/api/auth/password", {
			token: mine.accessToken,
			body: { currentPassword: PASSWORD, newPassword: "brand-new-secret-1" },
		});
		expect(ok.status).toBe(204);
		expect((await refresh(other.refreshToken)).status).toBe(401);
		expect((await refresh(mine.refreshToken)).status).toBe(200);
		expect((await login("changer@example.com")).status).toBe(401);
		expect((await login("changer@example.com", "brand-new-secret-1")).status).toBe(200);
		const changed = await waitFor(() => authEvents.find(e => e.name === "auth.passwordChanged" && e.payload.userId === mine.user.id), {
			what: "auth.passwordChanged",
		});
		expect(changed!.payload).toMatchObject({ actorId: mine.user.id, tenantId: null, eventId: expect.any(String), at: expect.any(String) });
		const loggedIn = await waitFor(() => authEvents.find(e => e.name === "auth.loggedIn" && e.payload.userId === mine.user.id), {
			what: "auth.loggedIn",
		});
		expect(loggedIn!.payload).toMatchObject({ actorId: mine.user.id, eventId: expect.any(String), sessionId: expect.any(String) });
	});

	it("forgot password: always 202; the reset token (sent to the notification channel) sets a new password once and ends every session", async () => {
		const s = await newUser("forgetful@example.com");
		const unknown = await http("POST", "/api/auth/password/forgot", { body: { email: "no-such-user@example.com" } });
		const known = await http("POST", "/api/auth/password/forgot", { body: { email: "Forgetful@example.com" } });
		expect(unknown.status).toBe(202);
		expect(known.status).toBe(202);
		expect(known.body).toEqual(unknown.body);

		const mail = (await waitFor(() => mailbox.find(m => m.email === "forgetful@example.com"), { what: "the reset message" }))!;
		expect(mail).toMatchObject({ userId: s.user.id, token: expect.any(String), expiresAt: expect.any(String), eventId: expect.any(String) });
		// the channel message names the reset; the token is only in the answer of auth.passwordResetLink
		expect(mail.message).toMatchObject({
			userId: s.user.id,
			email: "forgetful@example.com",
			resetId: expect.any(String),
			expiresAt: mail.expiresAt,
		});
		expect(JSON.stringify(mail.message)).not.toContain(mail.token);
		expect(mailbox.some(m => m.email === "no-such-user@example.com")).toBe(false);

		const weak = await http("POST", "/api/auth/password/reset", { body: { token: mail.token, password: "short" } });
		expect(weak.status).toBe(422);
		const reset = await http("POST", "/api/auth/password/reset", { body: { token: mail.token, password: "after-the-reset-9" } });
		expect(reset.status).toBe(204);
		const again = await http("POST", "/api/auth/password/reset", { body: { token: mail.token, password: "another-password-7" } });
		expect(again.status).toBe(400);
		expect(again.body.code).toBe("INVALID_RESET_TOKEN");
		expect((await refresh(s.refreshToken)).status).toBe(401);
		expect((await login("forgetful@example.com")).status).toBe(401);
		expect((await login("forgetful@example.com", "after-the-reset-9")).status).toBe(200);
		// a used reset has no link any more
		expect(await p.broker.call("auth.passwordResetLink", { resetId: mail.message.resetId })).toBeNull();
	});

	it("switches tenant: a member gets a token scoped to it that works on tenant routes; a non-member gets 404", async () => {
		const owner = await newUser("switcher@example.com");
		const outsider = await newUser("outsider@example.com");
		const created = await http("POST", "/api/tenants", { token: owner.accessToken, body: { name: "Acme", slug: "acme-switch" } });
		expect(created.status).toBe(201);
		const tenantId = created.body.id;

		// an unscoped token cannot use tenant data
		const unscoped = await http("POST", "/api/notes", { token: owner.accessToken, body: { slug: "n1", title: "Hello" } });
		expect(unscoped.status).toBe(403);

		const sw = await http("POST", "/api/auth/switch-tenant", { token: owner.accessToken, body: { tenantId } });
		expect(sw.status).toBe(200);
		expect(sw.body).toMatchObject({ tenantId, roles: ["owner"], sessionId: owner.sessionId });
		const me = await http("GET", "/api/auth/me", { token: sw.body.accessToken });
		expect(me.body).toMatchObject({ tenantId, roles: ["owner"] });
		const note = await http("POST", "/api/notes", { token: sw.body.accessToken, body: { slug: "n1", title: "Hello" } });
		expect(note.status).toBe(201);
		// the new refresh token keeps the tenant; the next login starts in the last tenant used
		const refreshed = await refresh(sw.body.refreshToken);
		expect(refreshed.body).toMatchObject({ tenantId, roles: ["owner"] });
		expect((await login("switcher@example.com")).body).toMatchObject({ tenantId, roles: ["owner"] });
		// the switch spent the session's previous refresh token: presenting it again is a reuse
		expect((await refresh(owner.refreshToken)).body.code).toBe("REFRESH_TOKEN_REUSED");

		const denied = await http("POST", "/api/auth/switch-tenant", { token: outsider.accessToken, body: { tenantId } });
		const missing = await http("POST", "/api/auth/switch-tenant", { token: outsider.accessToken, body: { tenantId: "no-such-tenant-id" } });
		expect(denied.status).toBe(404);
		expect(missing.status).toBe(404);
		expect(denied.body.code).toBe(missing.body.code);
	});

	it("never puts a password or token hash in a response", () => {
		expect(p.responses.length).toBeGreaterThan(20);
		for (const r of p.responses) expect(JSON.stringify(r.body)).not.toMatch(HASHES);
	});
});
