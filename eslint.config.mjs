// Lint: typescript-eslint's recommended rules, plus "no console" outside scripts (use this.logger).
import tseslint from "typescript-eslint";

export default tseslint.config(
	{ ignores: ["node_modules/", "dist/", "data/", "coverage/", "public/docs/"] },
	...tseslint.configs.recommended,
	{
		rules: {
			"no-console": "error",
			"@typescript-eslint/no-explicit-any": "off",
			"@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
		},
	},
	{ files: ["bin/**", "bench/**", "test/**", "lib/repl-commands.ts", "public/**"], rules: { "no-console": "off" } },
	// Jest loads its test environment as CommonJS.
	{ files: ["test/**/*.js"], rules: { "@typescript-eslint/no-require-imports": "off" }, languageOptions: { globals: { process: "readonly" } } },
	{ files: ["**/*.js", "**/*.cjs"], languageOptions: { globals: { module: "writable", require: "readonly", window: "writable", document: "readonly", fetch: "readonly", SwaggerUIBundle: "readonly", setInterval: "readonly" } } },
);
