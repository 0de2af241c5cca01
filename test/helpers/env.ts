// Every test process: in-memory stores, quiet logs, a data dir of its own (JWT dev keys land there).
import os from "node:os";
import path from "node:path";
import fs from "node:fs";

process.env.NODE_ENV = "test";
process.env.LOG_LEVEL ??= "warn";
if (!process.env.DATA_DIR) {
	process.env.DATA_DIR = fs.mkdtempSync(path.join(os.tmpdir(), "valence-test-"));
}
