/**
 * Sign in with a provider (README, "Signing in with a provider, API clients and integrations"): any
 * OpenID Connect issuer by discovery and GitHub-style OAuth 2 providers from OAUTH_PROVIDERS. The routes
 * live beside auth's, under /api/auth/oauth; a successful sign-in answers exactly what /api/auth/login
 * answers (auth.signInAs starts the session and issues the tokens).
 *
 * This file lists the actions; the flow and the linking rules are in ./oauth/provider-sign-in.ts, the
 * provider protocol in ./oauth/sign-in-provider.ts. Provider tokens are not kept: only who signed in.
 */
import { config, oauthProviders } from "../../lib/config";
import { currentUser, type Ctx } from "../../lib/context";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { Collection } from "../../mixins/collection";
import { JobHandlersMixin } from "../platform/jobs/handlers";
import { PlatformSchedulesMixin } from "../platform/scheduler/platform-schedules";
import { providerSignInMethods } from "./oauth/provider-sign-in";
import { SignInProvider } from "./oauth/sign-in-provider";
import type { CallbackParams, OAuthAccount, PendingFlow, SignInMethods, SignInThis, SignInVars } from "./oauth/sign-in-types";

/** The purge of expired sign-in flows, hourly through the scheduler (README, "Platform jobs"). */
export const SIGN_IN_PURGE_JOB = "oauthsignin.purge";

const provider = { type: "string", min: 1, max: 32, pattern: /^[a-z][a-z0-9-]*$/ } as const;
const callbackParam = { type: "string", max: 2048, optional: true } as const;
// Sensitive public actions: counted per client address (lib/access.ts).
const perIp = { max: 20, windowSec: 60, by: "ip" as const };

const OAuthSignInService: ServiceSchema<DbSettings, SignInMethods, SignInVars> = {
	name: "oauthsignin",
	settings: { rest: "/auth/oauth" },
	mixins: [
		JobHandlersMixin<SignInThis>({
			[SIGN_IN_PURGE_JOB]: {
				handler() {
					return this.purgeExpired();
				},
			},
		}),
		PlatformSchedulesMixin([{ id: "oauthsignin-purge", name: "Purge expired sign-in flows", cron: "10 * * * *", jobType: SIGN_IN_PURGE_JOB }]),
	],

	actions: {
		providers: {
			rest: "GET /providers",
			auth: "public",
			summary: "The providers configured for sign-in (names only: a sign-in page's buttons).",
			params: { $$strict: "remove" },
			handler() {
				const names = [...this.providers.keys()].sort();
				return { providers: names.map(name => ({ name, label: name.charAt(0).toUpperCase() + name.slice(1) })) };
			},
		},

		start: {
			rest: "GET /:provider/start",
			auth: "public",
			rateLimit: perIp,
			summary: "Sign in with a provider: redirects to it (authorization code, PKCE S256, state, nonce).",
			params: { provider, $$strict: "remove" },
			async handler(ctx: Ctx<{ provider: string }>) {
				const authorizationUrl = await this.beginFlow(ctx, null);
				ctx.meta.$statusCode = 302;
				ctx.meta.$location = authorizationUrl;
				return { authorizationUrl };
			},
		},

		link: {
			rest: "POST /:provider/link",
			auth: "required",
			summary: "Link a provider to your account: answers the URL to send the browser to.",
			params: { provider, $$strict: "remove" },
			async handler(ctx: Ctx<{ provider: string }>) {
				return { authorizationUrl: await this.beginFlow(ctx, currentUser(ctx).id) };
			},
		},

		callback: {
			rest: "GET /:provider/callback",
			auth: "public",
			rateLimit: perIp,
			summary: "Where the provider sends the browser back: answers the same token response as /api/auth/login.",
			params: {
				provider,
				code: callbackParam,
				state: callbackParam,
				error: callbackParam,
				error_description: callbackParam,
				iss: callbackParam,
				$$strict: "remove",
			},
			handler(ctx: Ctx<CallbackParams>) {
				return this.callback(ctx);
			},
		},

		accounts: {
			rest: "GET /accounts",
			auth: "required",
			summary: "The provider accounts linked to you.",
			params: { $$strict: "remove" },
			async handler(ctx: Ctx) {
				const rows = await this.accounts.find({ userId: currentUser(ctx).id }, { sort: ["createdAt"], limit: 100 });
				return { rows, total: rows.length };
			},
		},

		purgeExpired: {
			// Internal (the `oauthsignin.purge` job; operators from the REPL): how many expired flows went.
			visibility: "public",
			params: {},
			handler() {
				return this.purgeExpired();
			},
		},

		unlink: {
			rest: "DELETE /accounts/:id",
			auth: "required",
			summary: "Unlink a provider account (not your last way to sign in).",
			params: { id: { type: "string", min: 1, max: 64 }, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.unlink(ctx);
			},
		},
	},

	methods: {
		...providerSignInMethods,

		/** Removes the flows nobody came back from (a callback refuses them anyway: this only keeps the store small). */
		async purgeExpired() {
			const flows = await this.pending.remove({ expiresAt: { $lt: new Date().toISOString() } });
			if (flows) this.logger.info("expired sign-in flows purged", { flows });
			return { flows };
		},
	},

	created() {
		this.cfg = config();
		this.providers = new Map(
			Object.entries(oauthProviders(this.cfg)).map(([name, p]) => [name, new SignInProvider(name, p, this.cfg.OAUTH_TIMEOUT_MS)]),
		);
		this.accounts = new Collection<OAuthAccount>({
			collection: "oauth_accounts",
			indexes: [{ fields: ["provider", "subject"], unique: true }, { fields: ["userId"] }],
		});
		this.pending = new Collection<PendingFlow>({
			collection: "oauth_pending",
			indexes: [{ fields: ["stateHash"], unique: true }, { fields: ["expiresAt"] }],
		});
	},

	async started() {
		await Promise.all([this.accounts.open(this.broker), this.pending.open(this.broker)]);
	},

	async stopped() {
		await Promise.all([this.accounts.close(), this.pending.close()]);
	},
};

export default OAuthSignInService;
