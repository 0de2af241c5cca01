/**
 * The platform as an OAuth 2.0 authorization server for machines (README, "Signing in with a provider,
 * API clients and integrations"): tenant admins register API clients under /api/oauth/clients; clients
 * get short-lived tokens at POST /oauth/token (client_credentials), revoke them at /oauth/revoke and
 * introspect them at /oauth/introspect (those three routed by the gateway outside /api, form-encoded).
 *
 * The work is in ./oauth: clients.ts (register, rotate, revoke) and token-endpoint.ts (the RFC endpoints).
 * Tokens are signed by `auth` (auth.signClientToken), the only holder of the key.
 */
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import { OAuthInvalidClientError, OAuthProtocolError } from "../../lib/errors";
import { TokenVerifier } from "../../lib/jwt";
import { pageParams } from "../../lib/paging";
import type { DbSettings, MixinSchema, ServiceSchema } from "../../lib/schema";
import { TenantDbMixin } from "../../mixins/tenant.mixin";
import { RevocationMixin } from "../gateway/revocations";
import { clientMethods } from "./oauth/clients";
import { tokenEndpointMethods } from "./oauth/token-endpoint";
import type { EndpointParams, OAuthMethods, OAuthVars } from "./oauth/types";

const id = { type: "string", min: 1, max: 64 } as const;
/** RFC 6749 §3.3 scope tokens, kept to `resource:action` style names */
const scopeName = { type: "string", min: 1, max: 64, pattern: /^[a-z][a-z0-9_.-]*(:[a-z0-9_.-]+)*$/ } as const;
const formParam = { type: "string", max: 4096, optional: true } as const;
// Per client address, each endpoint its own count (README, "API clients"); over it: 429 problem+json with Retry-After.
const cfgAtLoad = config();
const perClientAddress = { max: cfgAtLoad.OAUTH_ENDPOINT_RATE_MAX, windowSec: cfgAtLoad.OAUTH_ENDPOINT_RATE_WINDOW_S, by: "ip" as const };
const endpointParams = {
	grant_type: formParam,
	scope: formParam,
	client_id: formParam,
	client_secret: formParam,
	token: formParam,
	token_type_hint: formParam,
	$$strict: "remove",
} as const;

/**
 * The RFC answer of an endpoint: its JSON, never cached (RFC 6749 §5.1), and a refusal as
 * `{ error, error_description }` with its status; `invalid_client` says how to authenticate (§5.2).
 */
async function rfcAnswer(ctx: Ctx<EndpointParams>, work: () => Promise<unknown>): Promise<unknown> {
	const headers: Record<string, string> = { "Cache-Control": "no-store", Pragma: "no-cache" };
	ctx.meta.$responseHeaders = headers;
	try {
		return await work();
	} catch (err) {
		if (!(err instanceof OAuthProtocolError)) throw err;
		ctx.meta.$statusCode = err.code;
		if (err instanceof OAuthInvalidClientError) headers["WWW-Authenticate"] = 'Basic realm="valence"';
		return { error: err.type, error_description: err.message };
	}
}

const OAuthService: ServiceSchema<DbSettings, OAuthMethods, OAuthVars> = {
	name: "oauth",
	// RevocationMixin: revoked tokens and clients, as every gateway knows them (README, "Revocation").
	mixins: [TenantDbMixin({ collection: "oauth_clients", indexes: [{ fields: ["clientId"], unique: true }] }), RevocationMixin as MixinSchema],
	settings: {
		// Never the secret's hash.
		fields: ["id", "clientId", "name", "scopes", "createdBy", "secretRotatedAt", "revokedAt", "createdAt", "updatedAt"],
	},

	actions: {
		createClient: {
			rest: "POST /clients",
			roles: ["admin"],
			summary: "Register an API client; the answer shows its secret, once.",
			params: {
				name: { type: "string", min: 1, max: 100, trim: true },
				scopes: { type: "array", items: scopeName, min: 1, max: 20 },
				$$strict: "remove",
			},
			handler(ctx: Ctx<{ name: string; scopes: string[] }>) {
				return this.createClient(ctx);
			},
		},

		listClients: {
			rest: "GET /clients",
			roles: ["admin"],
			summary: "The organisation's API clients (never their secrets).",
			params: { ...pageParams, $$strict: "remove" },
			handler(ctx: Ctx<{ page: number; pageSize: number }>) {
				const { page, pageSize } = ctx.params;
				return this._list(ctx, { page, pageSize, sort: "-createdAt" });
			},
		},

		rotateClientSecret: {
			rest: "POST /clients/:id/secret",
			roles: ["admin"],
			summary: "A new secret for an API client (shown once); the old one stops working.",
			params: { id, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.rotateSecret(ctx);
			},
		},

		revokeClient: {
			rest: "DELETE /clients/:id",
			roles: ["admin"],
			summary: "Revoke an API client and every token it holds.",
			params: { id, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this.revokeClient(ctx);
			},
		},

		// The RFC endpoints: no `rest`, the gateway routes them at /oauth/* (the client authenticates itself).
		token: {
			auth: "public",
			rateLimit: perClientAddress,
			summary: "OAuth 2.0 token endpoint (client_credentials).",
			params: endpointParams,
			handler(ctx: Ctx<EndpointParams>) {
				return rfcAnswer(ctx, () => this.issueToken(ctx));
			},
		},

		revoke: {
			auth: "public",
			rateLimit: perClientAddress,
			summary: "OAuth 2.0 token revocation (RFC 7009).",
			params: endpointParams,
			handler(ctx: Ctx<EndpointParams>) {
				return rfcAnswer(ctx, () => this.revokeToken(ctx));
			},
		},

		introspect: {
			auth: "public",
			rateLimit: perClientAddress,
			summary: "OAuth 2.0 token introspection (RFC 7662), for the caller's own tenant.",
			params: endpointParams,
			handler(ctx: Ctx<EndpointParams>) {
				return rfcAnswer(ctx, () => this.introspect(ctx));
			},
		},
	},

	methods: {
		...clientMethods,
		...tokenEndpointMethods,
	},

	created() {
		this.cfg = config();
		this.verifier = new TokenVerifier({
			fetchJwks: () => this.broker.call("auth.jwks", {}, { meta: {} }) as Promise<{ keys: [] }>,
			issuer: this.cfg.JWT_ISSUER,
			audience: this.cfg.JWT_AUDIENCE,
		});
	},
};

export default OAuthService;
