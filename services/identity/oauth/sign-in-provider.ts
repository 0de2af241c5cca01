/**
 * One provider to sign in with (lib/config.ts OAuthProviderConfig), through oauth4webapi: the authorization
 * URL (code flow, PKCE S256, state, and a nonce for OpenID Connect) and the callback's exchange, which
 * checks the state, redeems the code with its verifier and, for OpenID Connect, validates the ID token
 * (issuer, audience, expiry, nonce, and its signature by the provider's JWKS). A GitHub-style provider
 * (`oauth2`) has no ID token: the identity is its user endpoint, and an address counts as verified only
 * when its e-mails endpoint says so.
 */
import type { OAuthProviderConfig } from "../../../lib/config";
import { oauth4webapi, type OAuth } from "./oauth4webapi";

/** Who the provider says signed in. */
export interface ProviderIdentity {
	subject: string;
	email: string | null;
	emailVerified: boolean;
	name: string | null;
}

/** What the start of a flow keeps for its callback. */
export interface FlowSecrets {
	state: string;
	codeVerifier: string;
	nonce: string | null;
}

const isLoopbackHttp = (url: string) => new URL(url).protocol === "http:";

export class SignInProvider {
	private server?: Promise<OAuth.AuthorizationServer>;
	private readonly client: OAuth.Client;

	constructor(
		readonly name: string,
		private readonly cfg: OAuthProviderConfig,
		private readonly timeoutMs: number,
	) {
		this.client = { client_id: cfg.clientId };
	}

	get isOidc(): boolean {
		return this.cfg.kind === "oidc";
	}

	/** Options of every request: a timeout, and plain http only for a loopback provider (config allows nothing else). */
	private options(url: string) {
		const o = oauth4webapi();
		return { signal: AbortSignal.timeout(this.timeoutMs), [o.allowInsecureRequests]: isLoopbackHttp(url) };
	}

	/** The provider's metadata: discovered once for OpenID Connect (a failure is retried next time), configured for oauth2. */
	metadata(): Promise<OAuth.AuthorizationServer> {
		const o = oauth4webapi();
		if (!this.isOidc) {
			const { authorizationEndpoint, tokenEndpoint, userinfoEndpoint } = this.cfg;
			return Promise.resolve({
				issuer: new URL(authorizationEndpoint!).origin,
				authorization_endpoint: authorizationEndpoint,
				token_endpoint: tokenEndpoint,
				userinfo_endpoint: userinfoEndpoint,
			});
		}
		const issuer = new URL(this.cfg.issuer!);
		this.server ??= o
			.discoveryRequest(issuer, { algorithm: "oidc", ...this.options(issuer.href) })
			.then(res => o.processDiscoveryResponse(issuer, res));
		this.server.catch(() => (this.server = undefined));
		return this.server;
	}

	async begin(redirectUri: string): Promise<{ url: string; secrets: FlowSecrets }> {
		const o = oauth4webapi();
		const as = await this.metadata();
		const secrets: FlowSecrets = {
			state: o.generateRandomState(),
			codeVerifier: o.generateRandomCodeVerifier(),
			nonce: this.isOidc ? o.generateRandomNonce() : null,
		};
		const url = new URL(as.authorization_endpoint!);
		url.searchParams.set("client_id", this.cfg.clientId);
		url.searchParams.set("redirect_uri", redirectUri);
		url.searchParams.set("response_type", "code");
		url.searchParams.set("scope", this.cfg.scopes ?? (this.isOidc ? "openid email profile" : "read:user user:email"));
		url.searchParams.set("state", secrets.state);
		url.searchParams.set("code_challenge", await o.calculatePKCECodeChallenge(secrets.codeVerifier));
		url.searchParams.set("code_challenge_method", "S256");
		if (secrets.nonce) url.searchParams.set("nonce", secrets.nonce);
		return { url: url.href, secrets };
	}

	/** Redeems the callback's code; throws (oauth4webapi's errors) on anything the checks refuse. */
	async finish(callback: URLSearchParams, redirectUri: string, secrets: FlowSecrets): Promise<ProviderIdentity> {
		const o = oauth4webapi();
		const as = await this.metadata();
		const params = o.validateAuthResponse(as, this.client, callback, secrets.state);
		const auth = o.ClientSecretPost(this.cfg.clientSecret ?? "");
		const res = await o.authorizationCodeGrantRequest(
			as,
			this.client,
			auth,
			params,
			redirectUri,
			secrets.codeVerifier,
			this.options(as.token_endpoint!),
		);
		if (!this.isOidc) {
			const tokens = await o.processAuthorizationCodeResponse(as, this.client, res);
			return this.oauth2Identity(tokens.access_token);
		}
		const tokens = await o.processAuthorizationCodeResponse(as, this.client, res, { expectedNonce: secrets.nonce!, requireIdToken: true });
		// The claims are checked above; the signature here, by the key the provider's JWKS publishes.
		await o.validateApplicationLevelSignature(as, res, this.options(as.jwks_uri!));
		const claims = o.getValidatedIdTokenClaims(tokens)!;
		return {
			subject: claims.sub,
			email: typeof claims.email === "string" ? claims.email : null,
			emailVerified: claims.email_verified === true,
			name: typeof claims.name === "string" ? claims.name : null,
		};
	}

	private async getJson(url: string, accessToken: string): Promise<unknown> {
		const res = await fetch(url, {
			headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
			signal: AbortSignal.timeout(this.timeoutMs),
		});
		if (!res.ok) throw new Error(`${url} answered ${res.status}`);
		return res.json();
	}

	private async oauth2Identity(accessToken: string): Promise<ProviderIdentity> {
		const user = (await this.getJson(this.cfg.userinfoEndpoint!, accessToken)) as {
			id?: unknown;
			email?: unknown;
			name?: unknown;
			login?: unknown;
		};
		if (typeof user.id !== "number" && typeof user.id !== "string") throw new Error("the provider's user has no id");
		let email: string | null = typeof user.email === "string" ? user.email : null;
		let emailVerified = false;
		if (this.cfg.emailsEndpoint) {
			const list = (await this.getJson(this.cfg.emailsEndpoint, accessToken)) as { email?: unknown; verified?: unknown; primary?: unknown }[];
			const primary = Array.isArray(list)
				? list.find(e => e.primary === true && e.verified === true && typeof e.email === "string")
				: undefined;
			if (primary) [email, emailVerified] = [primary.email as string, true];
		}
		const name = typeof user.name === "string" && user.name ? user.name : typeof user.login === "string" ? user.login : null;
		return { subject: String(user.id), email, emailVerified, name };
	}
}
