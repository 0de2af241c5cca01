/** @type {import('jest').Config} */
module.exports = {
	testEnvironment: "node",
	transform: { "^.+\\.ts$": ["ts-jest", { diagnostics: false }] },
	testMatch: ["<rootDir>/test/**/*.test.ts"],
	setupFiles: ["<rootDir>/test/helpers/env.ts"],
	testTimeout: 30000,
	// Cluster tests start real processes; two at a time is what two cores carry.
	maxWorkers: 2,
};
