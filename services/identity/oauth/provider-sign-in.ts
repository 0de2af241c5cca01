/**
 * Signing in with a provider (README, "Signing in with a provider, API clients and integrations"):
 * the flow's start (a state row kept 10 minutes), the callback, and the linking rules. A provider account
 * (`provider` + `subject`) belongs to one user. It is linked to a user only (1) while that user is signed
 * in and started the flow with `link`, or (2) when the provider asserts a verified e-mail that is the
 * user's; never by an unverified address. A first sign-in with a verified address nobody has makes a user.
 * The callback must come back to the browser that started the flow (./browser-binding.ts).
 */
import { appUrl } from "../../../lib/config";
import { currentUser, type Ctx } from "../../../lib/context";
import {
	ConflictError,
	LastSignInMethodError,
	NotFoundError,
	ProviderAccountInUseError,
	ProviderEmailUnverifiedError,
	ProviderSignInFailedError,
	UnknownProviderError,
} from "../../../lib/errors";
import { bindToBrowser, requireSameBrowser } from "./browser-binding";
import { callbackParams, flowExpiry, stateHash, takeFlow } from "./flow-state";
import type { ProviderIdentity } from "./sign-in-provider";
import type { SignInMethodsOf } from "./sign-in-types";

export const providerSignInMethods: SignInMethodsOf<"providerOf" | "redirectUri" | "beginFlow" | "callback" | "accountFor" | "unlink"> = {
	providerOf(name) {
		const provider = this.providers.get(name);
		if (!provider) throw new UnknownProviderError(name);
		return provider;
	},

	redirectUri(provider) {
		return `${appUrl(this.cfg)}/api/auth/oauth/${provider.name}/callback`;
	},

	async beginFlow(ctx, linkUserId) {
		const provider = this.providerOf(ctx.params.provider);
		const { url, secrets } = await provider.begin(this.redirectUri(provider)).catch(err => {
			this.logger.warn("provider unavailable", { provider: provider.name, error: (err as Error).message });
			throw new ProviderSignInFailedError();
		});
		await this.pending.insert({
			stateHash: stateHash(secrets.state),
			provider: provider.name,
			codeVerifier: secrets.codeVerifier,
			nonce: secrets.nonce,
			linkUserId,
			browserHash: bindToBrowser(ctx.meta, this.cfg),
			expiresAt: flowExpiry(),
		});
		return url;
	},

	async callback(ctx) {
		const provider = this.providerOf(ctx.params.provider);
		const flow = await takeFlow(this.pending, provider.name, ctx.params.state);
		requireSameBrowser(ctx.meta, this.cfg, flow.browserHash);
		const state = ctx.params.state!;
		const params = callbackParams({ ...ctx.params, state });
		let identity: ProviderIdentity;
		try {
			identity = await provider.finish(params, this.redirectUri(provider), { state, codeVerifier: flow.codeVerifier, nonce: flow.nonce });
		} catch (err) {
			this.logger.warn("provider sign-in refused", {
				provider: provider.name,
				error: (err as Error).message,
				code: (err as { code?: unknown }).code,
			});
			throw new ProviderSignInFailedError();
		}
		if (flow.linkUserId) {
			const account = await this.accountFor(provider, identity, flow.linkUserId);
			return { linked: account };
		}
		const existing = await this.accounts.findOne({ provider: provider.name, subject: identity.subject });
		let userId = existing?.userId;
		if (!userId) {
			// Only an address the provider verified may find, or make, the user.
			if (!identity.email || !identity.emailVerified) throw new ProviderEmailUnverifiedError();
			userId = ((await ctx.call("auth.userIdByEmail", { email: identity.email })) as { userId: string | null }).userId ?? undefined;
			if (!userId) {
				const name = identity.name?.slice(0, 100) || identity.email.split("@")[0];
				userId = ((await ctx.call("auth.createPasswordless", { email: identity.email, name })) as { userId: string }).userId;
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = "/api/auth/me";
			}
			await this.accountFor(provider, identity, userId);
		}
		return ctx.call("auth.signInAs", { userId });
	},

	/** The provider account linked to `userId` (made now, or already so); 409 when another user has it. */
	async accountFor(provider, identity, userId) {
		const key = { provider: provider.name, subject: identity.subject };
		const found = await this.accounts.findOne(key);
		if (found) {
			if (found.userId !== userId) throw new ProviderAccountInUseError();
			return found;
		}
		const now = new Date().toISOString();
		try {
			return await this.accounts.insert({
				...key,
				userId,
				email: identity.email,
				emailVerified: identity.emailVerified,
				createdAt: now,
				updatedAt: now,
			});
		} catch (err) {
			// a simultaneous link of the same account: whoever has it now decides
			if (err instanceof ConflictError) return this.accountFor(provider, identity, userId);
			throw err;
		}
	},

	async unlink(ctx: Ctx<{ id: string }>) {
		const user = currentUser(ctx);
		const row = await this.accounts.findOne({ id: ctx.params.id, userId: user.id });
		if (!row) throw new NotFoundError("Not found.", ctx.params.id);
		const others = await this.accounts.count({ userId: user.id });
		const { hasPassword } = (await ctx.call("auth.hasPassword", { userId: user.id })) as { hasPassword: boolean };
		if (others <= 1 && !hasPassword) throw new LastSignInMethodError();
		await this.accounts.remove({ id: row.id });
		ctx.meta.$statusCode = 204;
		return null;
	},
};
