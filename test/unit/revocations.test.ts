import { RevocationList } from "../../lib/revocations";

describe("the gateway's revocation list", () => {
	let now = Date.parse("2026-12-01T12:00:00Z");
	const at = (ms: number) => new Date(now + ms).toISOString();
	const list = () => new RevocationList(() => now);

	it("refuses a token of an ended session or a deleted user, nobody else's", () => {
		const l = list();
		expect(
			l.add([
				{ kind: "session", id: "s1", until: at(60_000) },
				{ kind: "user", id: "u9", until: at(60_000) },
			]),
		).toBe(2);
		expect(l.isRevoked({ id: "u1", sessionId: "s1" })).toBe(true);
		expect(l.isRevoked({ id: "u1", sessionId: "s2" })).toBe(false);
		expect(l.isRevoked({ id: "u9", sessionId: "s3" })).toBe(true);
		expect(l.isRevoked({ id: "u2" })).toBe(false);
	});

	it("keeps an entry until its tokens have expired, then forgets it", () => {
		const l = list();
		l.add([{ kind: "session", id: "s1", until: at(1000) }]);
		l.add([{ kind: "session", id: "s1", until: at(500) }]); // heard again, older: the later until stays
		now += 999;
		expect(l.isRevoked({ id: "u", sessionId: "s1" })).toBe(true);
		now += 1;
		expect(l.isRevoked({ id: "u", sessionId: "s1" })).toBe(false);
		l.prune();
		expect(l.size).toBe(0);
	});

	it("skips malformed and already expired entries", () => {
		const l = list();
		expect(l.add(undefined)).toBe(0);
		expect(
			l.add([
				{ kind: "token", id: "x", until: at(1000) },
				{ kind: "session", id: "", until: at(1000) },
				{ kind: "user", id: "u", until: "soon" },
				{ kind: "user", id: "u", until: at(-1) },
				null,
			]),
		).toBe(0);
		expect(l.size).toBe(0);
	});
});
