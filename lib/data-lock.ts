/**
 * One process at a time on the embedded store's files. NeDB files are read whole at start and appended
 * to by their process alone: a second process opening the same files would overwrite the first one's
 * writes at its next compaction. The embedded node (`npm start` without TRANSPORTER, on NeDB files) and
 * `npm run seed` take `DATA_DIR/valence.lock`; a second one sees the holder and refuses (README, "Demo
 * data"). The file names the holder's pid and, for a node with a gateway, its URL, so the seed can drive
 * a running platform over HTTP instead. A lock left by a process that died (SIGKILL, a crash) is taken over,
 * also when its pid now belongs to a process that is not Valence's.
 */
import fs from "node:fs";
import path from "node:path";

export interface DataLockHolder {
	pid: number;
	/** what holds it: "valence" (npm start) or "seed" */
	by: string;
	/** the gateway's base URL, once it listens */
	url?: string;
	since: string;
}

export class DataDirLockedError extends Error {
	constructor(
		readonly file: string,
		readonly holder: DataLockHolder,
	) {
		super(
			`${path.dirname(file)} is in use by process ${holder.pid} (${holder.by === "seed" ? "npm run seed" : "npm start"}${holder.url ? ` at ${holder.url}` : ""}, since ${holder.since}): ` +
				"two processes on the same NeDB files would corrupt them. Stop it first, or use another DATA_DIR.",
		);
		this.name = "DataDirLockedError";
	}
}

export const lockFile = (dataDir: string) => path.resolve(dataDir, "valence.lock");

/** The process is alive and, where /proc tells (Linux), still a Valence process: a reused pid is not a holder. */
function alive(pid: number): boolean {
	try {
		process.kill(pid, 0);
	} catch (err) {
		if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
	}
	try {
		const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8");
		return /bin\/valence\.[jt]s|scripts\/seed\.[jt]s/.test(cmdline);
	} catch {
		return true; // no /proc: the pid is all we know
	}
}

/** The live holder of the lock of `dataDir`, or null (no lock, or its process is gone). */
export function readDataLock(dataDir: string): DataLockHolder | null {
	let holder: DataLockHolder;
	try {
		holder = JSON.parse(fs.readFileSync(lockFile(dataDir), "utf8"));
	} catch {
		return null;
	}
	return Number.isInteger(holder.pid) && holder.pid !== process.pid && alive(holder.pid) ? holder : null;
}

export interface DataLock {
	/** record the gateway's URL in the lock, for `npm run seed` */
	setUrl(url: string): void;
	release(): void;
}

/** Takes the lock of `dataDir` or throws DataDirLockedError naming the live holder. */
export function acquireDataLock(dataDir: string, by: string): DataLock {
	const file = lockFile(dataDir);
	fs.mkdirSync(path.dirname(file), { recursive: true });
	const mine: DataLockHolder = { pid: process.pid, by, since: new Date().toISOString() };
	for (let attempt = 0; ; attempt++) {
		try {
			fs.writeFileSync(file, JSON.stringify(mine), { flag: "wx" });
			break;
		} catch (err) {
			if ((err as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 2) throw err;
			const holder = readDataLock(dataDir);
			if (holder) throw new DataDirLockedError(file, holder);
			// a stale lock (its process died): take it over
			fs.rmSync(file, { force: true });
		}
	}
	let released = false;
	const release = () => {
		if (released) return;
		released = true;
		try {
			const now = JSON.parse(fs.readFileSync(file, "utf8")) as DataLockHolder;
			if (now.pid === process.pid) fs.rmSync(file, { force: true });
		} catch {
			/* already gone */
		}
	};
	process.once("exit", release);
	return {
		setUrl(url) {
			mine.url = url;
			fs.writeFileSync(file, JSON.stringify(mine));
		},
		release,
	};
}
