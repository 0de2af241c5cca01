/** @type {import('jest').Config} */
module.exports = {
	// Quiet by default: a file's logs are printed only when one of its tests fails (TEST_LOGS=1 shows all).
	testEnvironment: "<rootDir>/test/helpers/quiet-environment.js",
	transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
	testMatch: ["<rootDir>/test/**/*.test.ts"],
	// TEST_SEED=<n> runs the files in a shuffled order (the default is jest's own).
	testSequencer: "<rootDir>/test/helpers/sequencer.js",
	setupFiles: ["<rootDir>/test/helpers/env.ts"],
	testTimeout: 30000,
	// Cluster tests start real processes; two at a time is what two cores carry.
	maxWorkers: 2,
};
