/** DATA_DIR's lock: a live holder is refused with its pid and URL, a dead one's lock is taken over, release removes it. */
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { acquireDataLock, DataDirLockedError, lockFile, readDataLock } from "../../lib/data-lock";

describe("DATA_DIR lock", () => {
	let dir: string;
	beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-lock-"))));
	afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

	const holdAs = (pid: number, url?: string) =>
		fs.writeFileSync(lockFile(dir), JSON.stringify({ pid, by: "valence", url, since: "2026-01-01T00:00:00.000Z" }));

	it("refuses while another live Valence process holds it, naming it", async () => {
		// a stand-in whose command line names Valence, as `node … bin/valence.ts` does
		const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)", "bin/valence.ts"], { stdio: "ignore" });
		try {
			holdAs(holder.pid!, "http://127.0.0.1:3000");
			expect(readDataLock(dir)).toMatchObject({ pid: holder.pid, url: "http://127.0.0.1:3000" });
			expect(() => acquireDataLock(dir, "seed")).toThrow(DataDirLockedError);
			expect(() => acquireDataLock(dir, "seed")).toThrow(`in use by process ${holder.pid} (npm start at http://127.0.0.1:3000`);
		} finally {
			holder.kill();
		}
	});

	it("does not take a reused pid (a live process that is not Valence) for the holder", () => {
		holdAs(process.ppid);
		expect(readDataLock(dir)).toBeNull();
	});

	it("takes over the lock of a process that died, records the URL, and removes it on release", () => {
		const dead = spawnSync(process.execPath, ["-e", "0"]).pid!;
		holdAs(dead);
		expect(readDataLock(dir)).toBeNull();
		const lock = acquireDataLock(dir, "seed");
		lock.setUrl("http://127.0.0.1:4000");
		expect(JSON.parse(fs.readFileSync(lockFile(dir), "utf8"))).toMatchObject({ pid: process.pid, by: "seed", url: "http://127.0.0.1:4000" });
		lock.release();
		expect(fs.existsSync(lockFile(dir))).toBe(false);
	});
});
