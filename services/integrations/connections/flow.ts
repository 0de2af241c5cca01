/**
 * Connecting a third-party account (README, "Signing in with a provider, API clients and integrations"):
 * the signed-in user starts the flow (a state row for 10 minutes binds it to them), the provider sends
 * the browser back to the callback, which redeems the code with its PKCE verifier and keeps the tokens
 * sealed. Access tokens are refreshed shortly before they expire, one refresh at a time per connection.
 */
import { appUrl } from "../../../lib/config";
import { currentUser } from "../../../lib/context";
import { IntegrationProviderError, NotFoundError, UnknownIntegrationError } from "../../../lib/errors";
import { bindToBrowser, requireSameBrowser } from "../../identity/oauth/browser-binding";
import { callbackParams, flowExpiry, stateHash, takeFlow } from "../../identity/oauth/flow-state";
import type { ProviderTokens } from "./provider-client";
import { publicConnection, type IntegrationsMethodsOf } from "./types";

/** where the connect flow's browser cookie is sent: the connect and the callback (identity/oauth/browser-binding.ts) */
const COOKIE_PATH = "/api/integrations";

/** refresh when the access token has less than this left */
export const REFRESH_MARGIN_MS = 60_000;

export const connectionMethods: IntegrationsMethodsOf<
	"clientOf" | "redirectUri" | "beginConnect" | "finishConnect" | "disconnect" | "accessTokenOf"
> = {
	clientOf(provider) {
		const client = this.clients.get(provider);
		if (!client) throw new UnknownIntegrationError(provider);
		return client;
	},

	redirectUri(provider) {
		return `${appUrl(this.cfg)}/api/integrations/${provider}/callback`;
	},

	async beginConnect(ctx) {
		const user = currentUser(ctx);
		const client = this.clientOf(ctx.params.provider);
		const { url, state, codeVerifier } = await client.begin(this.redirectUri(client.name));
		await this.pending.insert({
			stateHash: stateHash(state),
			provider: client.name,
			userId: user.id,
			tenantId: user.tenantId ?? null,
			codeVerifier,
			browserHash: bindToBrowser(ctx.meta, this.cfg, COOKIE_PATH),
			expiresAt: flowExpiry(),
		});
		return url;
	},

	async finishConnect(ctx) {
		const client = this.clientOf(ctx.params.provider);
		const flow = await takeFlow(this.pending, client.name, ctx.params.state);
		// the browser that started this connect, else someone else's account would land on the victim's (400)
		requireSameBrowser(ctx.meta, this.cfg, flow.browserHash, COOKIE_PATH);
		const state = ctx.params.state!;
		let tokens: ProviderTokens;
		try {
			const params = callbackParams({ ...ctx.params, state });
			tokens = await client.exchange(params, state, this.redirectUri(client.name), flow.codeVerifier);
		} catch (err) {
			this.logger.warn("integration connect refused", { provider: client.name, error: (err as Error).message });
			throw new IntegrationProviderError();
		}
		const now = new Date().toISOString();
		const row = await this.connections.insert({
			userId: flow.userId,
			tenantId: flow.tenantId ?? null,
			provider: client.name,
			accessTokenSealed: this.box.seal(tokens.accessToken),
			refreshTokenSealed: tokens.refreshToken ? this.box.seal(tokens.refreshToken) : null,
			expiresAt: tokens.expiresAt,
			scope: tokens.scope,
			updatedAt: now,
		});
		ctx.meta.$statusCode = 201;
		// no GET of one connection: your connections, which list it
		ctx.meta.$location = "/api/integrations";
		return publicConnection(row);
	},

	/** Removes the connection; revokes its tokens at the provider first when it supports RFC 7009 (best effort). */
	async disconnect(ctx) {
		const row = await this.connections.findOne({ id: ctx.params.id, userId: currentUser(ctx).id });
		if (!row) throw new NotFoundError("Not found.", ctx.params.id);
		const client = this.clients.get(row.provider);
		if (client?.revocable) {
			for (const sealed of [row.refreshTokenSealed, row.accessTokenSealed]) {
				if (!sealed) continue;
				await client.revoke(this.box.open(sealed)).catch(err =>
					this.logger.warn("provider revocation failed; connection removed anyway", {
						provider: row.provider,
						error: (err as Error).message,
					}),
				);
			}
		}
		await this.connections.remove({ id: row.id });
		ctx.meta.$statusCode = 204;
		return null;
	},

	accessTokenOf(connectionId) {
		return this.refreshing.run(connectionId, async () => {
			const row = await this.connections.findOne({ id: connectionId });
			if (!row) throw new NotFoundError("Not found.", connectionId);
			const fresh = !row.expiresAt || Date.parse(row.expiresAt) - Date.now() > REFRESH_MARGIN_MS;
			if (fresh) return this.box.open(row.accessTokenSealed);
			if (!row.refreshTokenSealed)
				throw new IntegrationProviderError("The provider's token has expired and cannot be refreshed. Connect again.");
			let tokens: ProviderTokens;
			try {
				tokens = await this.clientOf(row.provider).refresh(this.box.open(row.refreshTokenSealed));
			} catch (err) {
				this.logger.warn("integration refresh refused", { provider: row.provider, connectionId, error: (err as Error).message });
				throw new IntegrationProviderError();
			}
			await this.connections.update(
				{ id: row.id },
				{
					accessTokenSealed: this.box.seal(tokens.accessToken),
					refreshTokenSealed: tokens.refreshToken ? this.box.seal(tokens.refreshToken) : null,
					expiresAt: tokens.expiresAt,
					scope: tokens.scope ?? row.scope,
					updatedAt: new Date().toISOString(),
				},
			);
			return tokens.accessToken;
		});
	},
};
