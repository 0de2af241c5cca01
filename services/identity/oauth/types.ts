/** What the `oauth` service (API clients and their token endpoint) keeps and calls. */
import type { Config } from "../../../lib/config";
import type { Ctx } from "../../../lib/context";
import type { TokenVerifier } from "../../../lib/jwt";
import type { DbSettings, ServiceThis } from "../../../lib/schema";
import type { TenantDbMethods } from "../../../mixins/tenant.mixin";
import type { RevocationMethods, RevocationVars } from "../../gateway/revocations";

/** A registered API client, as stored (the secret only as its SHA-256). */
export interface ClientRow {
	_id: string;
	tenantId: string;
	clientId: string;
	name: string;
	scopes: string[];
	secretHash: string;
	createdBy: string;
	secretRotatedAt: string;
	revokedAt: string | null;
	createdAt: string;
	updatedAt: string;
}

/** The form parameters of /oauth/token, /oauth/revoke and /oauth/introspect (RFC 6749, 7009, 7662). */
export interface EndpointParams {
	grant_type?: string;
	scope?: string;
	client_id?: string;
	client_secret?: string;
	token?: string;
	token_type_hint?: string;
}

/** The revocation list is the gateways' own (services/gateway/revocations.ts): introspection refuses what they refuse. */
export interface OAuthVars extends RevocationVars {
	cfg: Config;
	verifier: TokenVerifier;
}

export interface OAuthMethods extends TenantDbMethods, RevocationMethods {
	// clients.ts
	createClient(ctx: Ctx<{ name: string; scopes: string[] }>): Promise<unknown>;
	rotateSecret(ctx: Ctx<{ id: string }>): Promise<unknown>;
	revokeClient(ctx: Ctx<{ id: string }>): Promise<null>;
	// token-endpoint.ts
	authenticateClient(ctx: Ctx<EndpointParams>): Promise<ClientRow>;
	issueToken(ctx: Ctx<EndpointParams>): Promise<unknown>;
	revokeToken(ctx: Ctx<EndpointParams>): Promise<unknown>;
	introspect(ctx: Ctx<EndpointParams>): Promise<unknown>;
	/** A client token's claims when it is valid, not revoked and its client still is; null otherwise. */
	activeClientToken(token: string): Promise<{ claims: Record<string, unknown>; tenantId: string; clientId: string; tokenId: string } | null>;
}

export type OAuthThis = ServiceThis<DbSettings, OAuthMethods, OAuthVars>;
export type OAuthMethodsOf<K extends keyof OAuthMethods> = Pick<OAuthMethods, K> & ThisType<OAuthThis>;
