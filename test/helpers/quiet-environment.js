/**
 * Jest's node environment with a quiet console: what a test file logs (Moleculer's loggers included) is
 * kept in memory and printed only when a test or hook of that file fails, in full and in order. Set
 * TEST_LOGS=1 to see everything as it happens. Figures a test writes to process.stderr stay visible.
 */
const { Console } = require("node:console");
const { Writable } = require("node:stream");
const { TestEnvironment } = require("jest-environment-node");

const MAX_CHUNKS = 20000; // about the last few thousand log lines of a file

class QuietEnvironment extends TestEnvironment {
	constructor(config, context) {
		super(config, context);
		this.testPath = context.testPath;
		this.kept = [];
	}

	async setup() {
		await super.setup();
		if (process.env.TEST_LOGS) return;
		// Jest installs its own console after the constructor; this one replaces it.
		const sink = new Writable({
			write: (chunk, _encoding, done) => {
				this.kept.push(chunk.toString());
				if (this.kept.length > MAX_CHUNKS) this.kept.shift();
				done();
			},
		});
		this.global.console = new Console({ stdout: sink, stderr: sink });
	}

	async handleTestEvent(event) {
		if (event.name !== "test_fn_failure" && event.name !== "hook_failure") return;
		const what = event.name === "hook_failure" ? `${event.hook.type} hook` : fullName(event.test);
		const output = this.kept.join("");
		this.kept = [];
		process.stderr.write(
			`\n──── output before the failure of "${what}" (${this.testPath}) ────\n${output || "(nothing was logged)\n"}──── end of output ────\n`,
		);
	}
}

function fullName(test) {
	const names = [];
	for (let t = test; t && t.name !== "ROOT_DESCRIBE_BLOCK"; t = t.parent) names.unshift(t.name);
	return names.join(" › ");
}

module.exports = QuietEnvironment;
