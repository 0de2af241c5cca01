/** The project's root folder, whether running from source (tsx, jest) or from the build in dist/. */
import fs from "node:fs";
import path from "node:path";

function findRoot(from: string): string {
	let dir = from;
	while (!fs.existsSync(path.join(dir, "package.json"))) {
		const up = path.dirname(dir);
		if (up === dir) return process.cwd();
		dir = up;
	}
	return dir;
}

export const projectRoot = findRoot(__dirname);
export const publicDir = path.join(projectRoot, "public");
/** The built web app (`npm install` / `npm start` build it from web/: README, "Web app"), served by the gateway at `/`. */
export const webDir = path.join(projectRoot, "build", "web");
