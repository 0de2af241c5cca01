/**
 * Session races, in-process (no HTTP): refresh spends are atomic, and a session revoked while a
 * refresh is in flight does not survive through the refresh's new token.
 */
import type { ServiceBroker } from "moleculer";
import type { AuthUser } from "../../lib/access";
import { SessionStore, type SessionRow } from "../../services/identity/sessions";
import { Collection } from "../../mixins/collection";
import { FakeUsers } from "../helpers/fake-users";
import { startPlatform, type Platform } from "../helpers/platform";

interface Pair {
	accessToken: string;
	refreshToken: string;
	sessionId: string;
	user: { id: string };
}

describe("auth: session races", () => {
	let p: Platform;
	let n = 0;
	const register = async () =>
		(await p.broker.call("auth.register", { email: `race${++n}@example.com`, password: "correct-horse-42", name: "R" })) as Pair;
	const refresh = (refreshToken: string) => p.broker.call("auth.refresh", { refreshToken }) as Promise<Pair>;
	const as = (s: Pair, extra: Partial<AuthUser> = {}) => ({
		meta: { user: { id: s.user.id, tenantId: null, roles: [], sessionId: s.sessionId, ...extra } },
	});
	const outcome = (promise: Promise<unknown>) =>
		promise.then(
			v => ({ ok: true as const, value: v as Pair }),
			(e: { type?: string }) => ({ ok: false as const, code: e.type }),
		);

	beforeAll(async () => {
		p = await startPlatform({ services: ["auth", "tenants"], extra: [FakeUsers], gateway: false, env: { PASSWORD_SCRYPT_N: "1024" } });
	});
	afterAll(() => p.stop());

	it("lets exactly one of ten concurrent refreshes of one token succeed, and revokes the session", async () => {
		const s = await register();
		const results = await Promise.all(Array.from({ length: 10 }, () => outcome(refresh(s.refreshToken))));
		expect(results.filter(r => r.ok)).toHaveLength(1);
		for (const r of results.filter(r => !r.ok)) expect(r.ok || r.code).toBe("REFRESH_TOKEN_REUSED");
		// the reuse revoked the family, so the winner's token is dead too
		const winner = results.find(r => r.ok)!;
		await expect(refresh(winner.ok ? winner.value.refreshToken : "")).rejects.toMatchObject({ code: 401 });
	});

	it("does not let a refresh racing a logout keep the session alive", async () => {
		for (let i = 0; i < 5; i++) {
			const s = await register();
			const [r] = await Promise.all([outcome(refresh(s.refreshToken)), p.broker.call("auth.logout", {}, as(s))]);
			if (r.ok) await expect(refresh(r.value.refreshToken)).rejects.toMatchObject({ code: 401 });
			const sessions = (await p.broker.call("auth.sessions", {}, as(s))) as { total: number };
			expect(sessions.total).toBe(0);
		}
	});

	it("does not let a refresh racing a password change keep another session alive", async () => {
		const first = await register();
		const email = `race${n}@example.com`;
		let password = "correct-horse-42";
		for (let i = 0; i < 3; i++) {
			const other = (await p.broker.call("auth.login", { email, password })) as Pair;
			const next = `new-password-${i}x`;
			const [r] = await Promise.all([
				outcome(refresh(other.refreshToken)),
				p.broker.call("auth.changePassword", { currentPassword: password, newPassword: next }, as(first)),
			]);
			password = next;
			if (r.ok) await expect(refresh(r.value.refreshToken)).rejects.toMatchObject({ code: 401 });
			const sessions = (await p.broker.call("auth.sessions", {}, as(first))) as { rows: { id: string }[] };
			expect(sessions.rows.map(x => x.id)).toEqual([first.sessionId]);
		}
	});
});

describe("session store: a revocation landing at any step of a refresh", () => {
	// Deterministic interleaving: the logout runs right before the k-th write the refresh makes.
	it.each([0, 1, 2])("leaves no live token when the logout lands before write #%i", async k => {
		const rows = new Collection<SessionRow>({ collection: `sessions-race-${k}`, indexes: [{ fields: ["tokenHash"], unique: true }] });
		await rows.open({} as ServiceBroker);
		const store = new SessionStore(rows, 3600);
		const { row, token } = await store.start("u1", null, {});

		let writes = 0;
		const hook = async () => {
			if (writes++ === k) await store.revokeFamily(row.familyId);
		};
		const insert = rows.insert.bind(rows);
		const update = rows.update.bind(rows);
		rows.insert = async e => (await hook(), insert(e));
		rows.update = async (q, s) => (await hook(), update(q, s));

		const result = await store.rotate(token).then(
			next => next,
			() => null,
		);
		rows.insert = insert;
		rows.update = update;
		// the refresh made fewer writes: the logout lands after it
		if (writes <= k) await store.revokeFamily(row.familyId);
		expect(await rows.count({ familyId: row.familyId, revokedAt: null })).toBe(0);
		if (result) await expect(store.rotate(result.token)).rejects.toMatchObject({ code: 401 });
		await rows.close();
	});
});
