/**
 * The embedded store after a restart, over HTTP: what a user writes into a profile comes back exactly
 * from the NeDB files (DB_DRIVER=nedb, a DATA_DIR of this test's own), and the platform starts again.
 * The reported case: four `PUT /api/users/profile` with U+2028 in the bio made the next start refuse
 * ("72% of the data file is corrupt"). The full character × shape contract is in
 * test/integration/db-contract.test.ts.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { startPlatform, type Platform } from "../helpers/platform";

describe("the embedded store across a restart (NeDB files)", () => {
	const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-restart-"));
	const env = { DB_DRIVER: "nedb", DATA_DIR: dataDir };
	let p: Platform | undefined;
	const userId = `u${randomUUID().replace(/-/g, "").slice(0, 16)}`;
	const token = () => p!.token({ sub: userId, tid: null as unknown as string, roles: [] });

	afterAll(async () => {
		await p?.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	});

	it("keeps bios with line separators, NEL and their escape text through a restart", async () => {
		p = await startPlatform({ services: ["users"], env });
		await p.broker.call("users.createProfile", { id: userId, email: `${userId}@example.test`, name: "Line Breaker" });
		const bios = [
			"line one\u2028line two",
			"para one\u2029para two",
			"next\u0085line",
			"typed \\u2028 and \\u0085 literally",
			"all\u2028\u2029\u0085\r\n\u000b\u000cat once",
		];
		for (const bio of bios) {
			const res = await p.http("PUT", "/api/users/profile", { token: token(), body: { bio } });
			expect(res.status).toBe(200);
			expect(res.body.bio).toBe(bio);
		}

		// Checked before the restart as well: moleculer-db retries a store that fails to load forever.
		// Every file of the store, the outbox too (its events carry the bio).
		const rawBreakers = () =>
			fs.readdirSync(path.join(dataDir, "db")).filter(f => /[\u0085\u2028\u2029]/.test(fs.readFileSync(path.join(dataDir, "db", f), "utf8")));
		expect(fs.readdirSync(path.join(dataDir, "db"))).toEqual(expect.arrayContaining(["users.db", "users_outbox.db"]));
		expect(rawBreakers()).toEqual([]);
		await p.stop();
		p = await startPlatform({ services: ["users"], env });
		const me = await p.http("GET", "/api/users/me", { token: token() });
		expect(me.status).toBe(200);
		expect(me.body).toMatchObject({ id: userId, name: "Line Breaker", bio: bios[bios.length - 1] });
		expect(rawBreakers()).toEqual([]);
	});
});
