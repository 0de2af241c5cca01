/**
 * Access tokens of ended sessions and deleted users stop working within a bounded time, without a call
 * per request: the gateway checks an in-memory revocation list fed by `auth.revoked` broadcasts, loaded
 * at its start and resynced every REVOCATION_SYNC_S (1 s here).
 */
import type { AddressInfo } from "node:net";
import jwt from "jsonwebtoken";
import type { Service } from "moleculer";
import { selectServices } from "../../services/catalog";
import { startPlatform, type HttpResult, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const PASSWORD = "correct-horse-42";
/** The bound on how long a revocation may take to bite, here (broadcast: at once; lost broadcast: one resync). */
const BITES_WITHIN_MS = 2500;

interface Pair {
	accessToken: string;
	refreshToken: string;
	sessionId: string;
	user: { id: string };
}

describe("auth: revoked sessions and deleted users", () => {
	let p: Platform;
	let baseUrl: string;
	const get = async (path: string, token: string): Promise<HttpResult> => {
		const res = await fetch(baseUrl + path, { headers: { authorization: `Bearer ${token}` } });
		const text = await res.text();
		return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : null };
	};
	const me = (token: string) => get("/api/greeter/me", token);
	const newUser = async (email: string): Promise<Pair> => (await p.broker.call("auth.register", { email, password: PASSWORD, name: "R" })) as Pair;
	const login = async (email: string, password = PASSWORD) => (await p.http("POST", "/api/auth/login", { body: { email, password } })).body as Pair;
	const refused = (token: string, what: string) =>
		waitFor(async () => (await me(token)).status === 401, { timeoutMs: BITES_WITHIN_MS, intervalMs: 25, what: `${what} to be refused` });
	const expectRevoked = async (token: string) => {
		const res = await me(token);
		expect(res.status).toBe(401);
		expect(res.body.code).toBe("TOKEN_REVOKED");
		expect(res.headers.get("www-authenticate")).toMatch(/^Bearer /);
	};

	beforeAll(async () => {
		p = await startPlatform({ services: ["auth", "tenants", "users", "greeter"], env: { PASSWORD_SCRYPT_N: "1024", REVOCATION_SYNC_S: "1" } });
		baseUrl = p.baseUrl;
	});
	afterAll(() => p.stop());

	it("refuses the access token of a logged-out session; the user's other sessions go on", async () => {
		const a = await newUser("logout@example.com");
		const other = await login("logout@example.com");
		expect((await me(a.accessToken)).status).toBe(200);
		expect((await p.http("POST", "/api/auth/logout", { token: a.accessToken })).status).toBe(204);
		await refused(a.accessToken, "the logged-out token");
		await expectRevoked(a.accessToken);
		expect((await me(other.accessToken)).status).toBe(200);
	});

	it("refuses every access token of a session revoked by refresh-token reuse", async () => {
		const first = await newUser("reuse-revoked@example.com");
		const rotated = (await p.http("POST", "/api/auth/refresh", { body: { refreshToken: first.refreshToken } })).body as Pair;
		expect((await me(rotated.accessToken)).status).toBe(200);
		const replay = await p.http("POST", "/api/auth/refresh", { body: { refreshToken: first.refreshToken } });
		expect(replay.body.code).toBe("REFRESH_TOKEN_REUSED");
		// both the copied token's pair and the legitimate holder's newer one
		await refused(first.accessToken, "the first access token");
		await refused(rotated.accessToken, "the rotated access token");
		await expectRevoked(rotated.accessToken);
	});

	it("refuses the tokens of sessions ended from the session list or by a password change, not the current one", async () => {
		const mine = await newUser("ender@example.com");
		const laptop = await login("ender@example.com");
		const phone = await login("ender@example.com");
		expect((await p.http("DELETE", `/api/auth/sessions/${laptop.sessionId}`, { token: mine.accessToken })).status).toBe(204);
		await refused(laptop.accessToken, "the ended session's token");
		expect((await me(phone.accessToken)).status).toBe(200);
		const changed = await p.http("POST", "/api/auth/password", {
			token: mine.accessToken,
			body: { currentPassword: PASSWORD, newPassword: "a-brand-new-one-7" },
		});
		expect(changed.status).toBe(204);
		await refused(phone.accessToken, "the other session's token after a password change");
		expect((await me(mine.accessToken)).status).toBe(200);
	});

	it("refuses the tokens of a deleted user, including any other session id signed for them", async () => {
		const gone = await newUser("deleted@example.com");
		expect((await me(gone.accessToken)).status).toBe(200);
		expect(await p.broker.call("auth.deleteUser", { userId: gone.user.id })).toEqual({ deleted: true });
		await refused(gone.accessToken, "the deleted user's token");
		await expectRevoked(p.token({ sub: gone.user.id, roles: ["owner"], tid: "t-any" })); // a "ghost" with a fresh session id
		expect((await p.http("POST", "/api/auth/login", { body: { email: "deleted@example.com", password: PASSWORD } })).status).toBe(401);
	});

	it("refuses a validly signed token that names no session: 401 INVALID_TOKEN", async () => {
		const noSid = jwt.sign({ typ: "access", tid: null, roles: ["owner"] }, p.keys.current.privateKey, {
			algorithm: "RS256",
			keyid: p.keys.current.kid,
			issuer: "valence",
			audience: "valence-api",
			subject: "someone",
			expiresIn: 60,
		});
		const res = await me(noSid);
		expect(res.status).toBe(401);
		expect(res.body.code).toBe("INVALID_TOKEN");
	});

	it("makes up for a lost broadcast at the next resync", async () => {
		const s = await newUser("resync@example.com");
		expect((await me(s.accessToken)).status).toBe(200);
		// as if auth had stored the revocation and its broadcast never arrived
		const auth = p.broker.getLocalService("auth") as unknown as { revocationRows: { insert(row: object): Promise<unknown> } };
		await auth.revocationRows.insert({ kind: "session", subject: s.sessionId, until: new Date(Date.now() + 60_000).toISOString() });
		await refused(s.accessToken, "the token whose revocation was not broadcast");
	});

	it("knows earlier revocations in a gateway that starts afterwards", async () => {
		const ended = await newUser("before-start@example.com");
		const live = await newUser("still-live@example.com");
		expect((await p.http("POST", "/api/auth/logout", { token: ended.accessToken })).status).toBe(204);
		await refused(ended.accessToken, "the logged-out token");

		// a new gateway: it heard none of the broadcasts; from the moment it has started it refuses the token
		await p.broker.destroyService(p.broker.getLocalService("api")!);
		const schema = (await import(selectServices("gateway")[0].file)).default;
		const api = p.broker.createService(schema) as Service & { server: { address(): AddressInfo | null } };
		const started = () => (p.broker.registry.getServiceList({ onlyLocal: true } as never) as { name: string }[]).some(s => s.name === "api");
		await waitFor(started, { intervalMs: 5, what: "the new gateway to start" });
		baseUrl = `http://127.0.0.1:${api.server.address()!.port}`;
		await expectRevoked(ended.accessToken);
		expect((await me(live.accessToken)).status).toBe(200);
	});

	it("hands out the revocations in force page by page, and from a given time on", async () => {
		const ghosts = Array.from({ length: 5 }, (_, i) => `never-existed-${i}`);
		for (const userId of ghosts) expect(await p.broker.call("auth.deleteUser", { userId })).toEqual({ deleted: false });
		const seen: { kind: string; id: string }[] = [];
		let after: string | undefined;
		let pages = 0;
		do {
			const page = (await p.broker.call("auth.revocations", { limit: 2, ...(after && { after }) })) as {
				entries: { kind: string; id: string }[];
				next: string | null;
			};
			expect(page.entries.length).toBeLessThanOrEqual(2);
			seen.push(...page.entries);
			after = page.next ?? undefined;
			pages++;
		} while (after);
		expect(pages).toBeGreaterThan(3);
		expect(seen.filter(e => e.kind === "user").map(e => e.id)).toEqual(expect.arrayContaining(ghosts));
		expect(new Set(seen.map(e => `${e.kind}:${e.id}`)).size).toBe(seen.length); // no entry twice across pages
		const later = (await p.broker.call("auth.revocations", { since: new Date(Date.now() + 60_000).toISOString() })) as { entries: unknown[] };
		expect(later.entries).toEqual([]);
	});

	it("checks revocations without a broker call per request", async () => {
		const s = await newUser("fast@example.com");
		expect((await me(s.accessToken)).status).toBe(200); // the JWKS is cached from here on
		const api = p.broker.getLocalService("api") as unknown as { revocations: { size: number } };
		expect(api.revocations.size).toBeGreaterThan(0); // the list is not empty: the check has work to do

		const spy = jest.spyOn(p.broker, "call");
		try {
			const N = 50;
			for (let i = 0; i < N; i++) expect((await me(s.accessToken)).status).toBe(200);
			const names = spy.mock.calls.map(([target]) =>
				typeof target === "string" ? target : (target as { action: { name: string } }).action.name,
			);
			expect(names.filter(n => n === "greeter.me")).toHaveLength(N);
			// nothing else per request: at most the periodic resync ticked while they ran
			const others = names.filter(n => n !== "greeter.me");
			expect(others.every(n => n === "auth.revocations")).toBe(true);
			expect(others.length).toBeLessThanOrEqual(2);
		} finally {
			spy.mockRestore();
		}
	});
});
