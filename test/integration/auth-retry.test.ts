/**
 * A node that dies after doing the work but before answering makes the caller retry the same call
 * (same parent context). Login and refresh must survive that: no failed refresh, no second session,
 * no second activity entry — while a token presented again by anyone else is still reuse.
 */
import { Context } from "moleculer";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

describe("retried login and refresh", () => {
	let p: Platform;
	let userId: string;
	const credentials = { email: "retry@example.com", password: "a long enough secret" };
	const attempt = () => Context.create(p.broker, null as never, {}, {});
	const asUser = (sessionId?: string) => ({ meta: { user: { id: userId, tenantId: null, roles: [], ...(sessionId && { sessionId }) } } });
	const loggedIn = async () => {
		const page = (await p.broker.call("activity.listFor", { userId, pageSize: 100 })) as { rows: { type: string }[] };
		return page.rows.filter(r => r.type === "auth.loggedIn").length;
	};

	beforeAll(async () => {
		p = await startPlatform({ services: ["auth", "tenants", "users", "activity"], gateway: false, env: { PASSWORD_SCRYPT_N: "1024" } });
		const res = (await p.broker.call("auth.register", { ...credentials, name: "Retry" })) as { user: { id: string } };
		userId = res.user.id;
	});
	afterAll(() => p.stop());

	it("treats a retried login as one sign-in", async () => {
		const parentCtx = attempt();
		const first = (await p.broker.call("auth.login", credentials, { parentCtx })) as { sessionId: string };
		const retry = (await p.broker.call("auth.login", credentials, { parentCtx })) as { sessionId: string };
		// A later, separate login is the sync point: once it is recorded, the retry would have been too.
		const later = (await p.broker.call("auth.login", credentials, { parentCtx: attempt() })) as { sessionId: string };
		await waitFor(async () => (await loggedIn()) >= 2, { what: "two logins in the activity log" });
		expect(await loggedIn()).toBe(2);
		const sessions = (await p.broker.call("auth.sessions", {}, asUser(later.sessionId))) as { rows: { id: string }[] };
		const ids = sessions.rows.map(s => s.id);
		expect(ids).toContain(retry.sessionId);
		expect(ids).toContain(later.sessionId);
		expect(ids).not.toContain(first.sessionId);
	});

	it("answers a retried refresh with a working pair, and still catches reuse by anyone else", async () => {
		const login = (await p.broker.call("auth.login", credentials, { parentCtx: attempt() })) as { refreshToken: string };
		const parentCtx = attempt();
		const lost = (await p.broker.call("auth.refresh", { refreshToken: login.refreshToken }, { parentCtx })) as { refreshToken: string };
		const retried = (await p.broker.call("auth.refresh", { refreshToken: login.refreshToken }, { parentCtx })) as { refreshToken: string };
		expect(retried.refreshToken).not.toBe(lost.refreshToken);
		const next = (await p.broker.call("auth.refresh", { refreshToken: retried.refreshToken }, { parentCtx: attempt() })) as {
			refreshToken: string;
		};
		expect(next.refreshToken).toEqual(expect.any(String));
		await expect(p.broker.call("auth.refresh", { refreshToken: login.refreshToken }, { parentCtx: attempt() })).rejects.toMatchObject({
			code: 401,
			type: "REFRESH_TOKEN_REUSED",
		});
		// Reuse revoked the whole session, including the newest token.
		await expect(p.broker.call("auth.refresh", { refreshToken: next.refreshToken }, { parentCtx: attempt() })).rejects.toMatchObject({
			code: 401,
		});
	});
});
