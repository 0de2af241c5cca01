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
	{ files: ["**/*.js", "**/*.cjs"], languageOptions: { globals: { module: "writable", require: "readonly", window: "writable", document: "readonly", fetch: "readonly", SwaggerUIBundle: "readonly", setInterval: "readonly" } } },
);
