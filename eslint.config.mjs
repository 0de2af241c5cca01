// Lint: typescript-eslint's recommended rules, plus "no console" outside scripts (use this.logger), plus
// tenant scoping made mechanical (README, "Conventions every service follows").
import tseslint from "typescript-eslint";

/**
 * Tenant-scoped code: it reaches its data only through TenantDbMixin's methods (TenantDbMethods), which
 * set the caller's tenant last on every query. A new tenant-scoped domain is one more line here.
 */
const TENANT_SCOPED = [
	"services/crm/**/*.ts",
	"services/sample/notes.service.ts",
	"services/identity/oauth.service.ts",
	"services/identity/oauth/clients.ts",
	"services/identity/oauth/token-endpoint.ts",
	"services/platform/notificationtemplates.service.ts",
	"services/platform/analytics*.ts",
	"services/platform/analytics/**/*.ts",
	"services/messaging/**/*.ts",
	"services/engagement/**/*.ts",
	"services/commerce/**/*.ts",
];
const tenantScopeMessage =
	"Tenant-scoped services never touch the store adapter: use the TenantDbMixin methods (_find, scopedFindOne, scopedUpdateWhere, scopedScan, …), or unscopedFindOne for a deliberate cross-tenant lookup.";

export default tseslint.config(
	{ ignores: ["node_modules/", "dist/", "data/", "coverage/", "public/docs/", "build/", "test-results/"] },
	...tseslint.configs.recommended,
	{
		rules: {
			"no-console": "error",
			"@typescript-eslint/no-explicit-any": "off",
			"@typescript-eslint/no-unused-vars": [
				"error",
				{ argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" },
			],
		},
	},
	{ files: ["bin/**", "bench/**", "test/**", "lib/repl-commands.ts", "public/**"], rules: { "no-console": "off" } },
	// The web app (web/, README "Web app"): browser code, typed by web/tsconfig.json; its build scripts run on Node.
	{ files: ["web/**/*.mjs"], languageOptions: { globals: { process: "readonly", console: "readonly" } } },
	// Jest loads its test environment as CommonJS.
	{ files: ["test/**/*.js"], rules: { "@typescript-eslint/no-require-imports": "off" }, languageOptions: { globals: { process: "readonly" } } },
	{
		files: TENANT_SCOPED,
		rules: {
			"no-restricted-syntax": [
				"error",
				// this.adapter, svc.adapter, (this as any).adapter, this["adapter"]
				{ selector: "MemberExpression[property.name='adapter']", message: tenantScopeMessage },
				{ selector: "MemberExpression[computed=true][property.value='adapter']", message: tenantScopeMessage },
				// const { adapter } = this
				{ selector: "ObjectPattern > Property[key.name='adapter']", message: tenantScopeMessage },
			],
			"no-restricted-imports": [
				"error",
				{
					paths: [
						{
							name: "../../mixins/db.mixin",
							importNames: ["DbMixin", "storeMethods", "scanStore", "createStore"],
							message: "Tenant-scoped services use TenantDbMixin.",
						},
						{ name: "../../mixins/collection", message: "A tenant-scoped collection is a TenantDbMixin service of its own." },
					],
				},
			],
		},
	},
	// Jobs and schedules live in their engine or store, not an adapter: handlers read them only through
	// TenantRecordsMixin (scopedRecord / scopedRecords; unscopedRecord is the one way out).
	{
		files: [
			"services/platform/jobs*.ts",
			"services/platform/jobs/**/*.ts",
			"services/platform/scheduler*.ts",
			"services/platform/scheduler/**/*.ts",
		],
		rules: {
			"no-restricted-syntax": [
				"error",
				{
					selector: "CallExpression[callee.object.property.name=/^(engine|store)$/][callee.property.name=/^(get|list|all|deadLetters)$/]",
					message:
						"Read jobs and schedules through TenantRecordsMixin (scopedRecord, scopedRecords), or unscopedRecord for a deliberate cross-tenant read.",
				},
			],
		},
	},
	{
		files: ["**/*.js", "**/*.cjs"],
		languageOptions: {
			globals: {
				module: "writable",
				require: "readonly",
				window: "writable",
				document: "readonly",
				fetch: "readonly",
				SwaggerUIBundle: "readonly",
				setInterval: "readonly",
			},
		},
	},
);
