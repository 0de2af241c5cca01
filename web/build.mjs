// The web app's build (README, "Web app"): `node web/build.mjs` builds web/ into build/web/ with Vite;
// `node web/build.mjs --if-stale` (what `npm start` runs) builds only when the build is missing or a
// source under web/ is newer than it: one directory walk, no bundler loaded when nothing changed.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const webDir = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(webDir, "..", "build", "web");
const stamp = path.join(outDir, ".built");

/** The newest modification time of the app's sources (web/, this file included). */
function newestSource(dir = webDir) {
	let newest = 0;
	for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
		const file = path.join(dir, entry.name);
		newest = Math.max(newest, entry.isDirectory() ? newestSource(file) : fs.statSync(file).mtimeMs);
	}
	return newest;
}

export function isStale() {
	if (!fs.existsSync(stamp)) return true;
	return newestSource() > fs.statSync(stamp).mtimeMs;
}

const lockDir = path.join(webDir, "..", "build", ".web-build.lock");
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

/**
 * One build at a time (two test workers may both find the build stale): the lock is a directory, made
 * atomically; a lock older than two minutes is a crashed build's and is taken over.
 */
async function withLock(fn) {
	fs.mkdirSync(path.dirname(lockDir), { recursive: true });
	for (;;) {
		try {
			fs.mkdirSync(lockDir);
			break;
		} catch (err) {
			if (err.code !== "EEXIST") throw err;
			const age = Date.now() - (fs.statSync(lockDir, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
			if (age > 120_000) fs.rmSync(lockDir, { recursive: true, force: true });
			else await sleep(200);
		}
	}
	try {
		return await fn();
	} finally {
		fs.rmSync(lockDir, { recursive: true, force: true });
	}
}

export async function buildWeb({ quiet = false, ifStale = false } = {}) {
	return withLock(async () => {
		// another process may have built it while this one waited
		if (ifStale && !isStale()) return false;
		return build(quiet);
	});
}

async function build(quiet) {
	let vite;
	try {
		vite = await import("vite");
	} catch {
		// a production install (`npm ci --omit=dev`) has no Vite: the image ships the build made beside it
		if (fs.existsSync(path.join(outDir, "index.html"))) return false;
		throw new Error("The web app is not built and Vite is not installed: run `npm install` (with dev dependencies).");
	}
	await vite.build({ configFile: path.join(webDir, "vite.config.mjs"), logLevel: quiet ? "warn" : "info" });
	fs.writeFileSync(stamp, new Date().toISOString() + "\n");
	return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
	const ifStale = process.argv.includes("--if-stale");
	if (ifStale && !isStale()) process.exit(0);
	buildWeb({ quiet: ifStale, ifStale }).then(
		built => {
			if (built && ifStale) process.stdout.write("valence: web app rebuilt into build/web/\n");
		},
		err => {
			process.stderr.write(`valence: web build failed: ${err?.message ?? err}\n`);
			process.exit(1);
		},
	);
}
