/** What the `oauthsignin` service keeps and calls. */
import type { Config } from "../../../lib/config";
import type { Ctx } from "../../../lib/context";
import type { DbSettings, ServiceThis } from "../../../lib/schema";
import type { CollectionOf } from "../../../mixins/collection";
import type { ProviderIdentity, SignInProvider } from "./sign-in-provider";

/** A provider account linked to a user (`provider` + `subject` is unique). */
export interface OAuthAccount {
	id: string;
	provider: string;
	subject: string;
	userId: string;
	email: string | null;
	emailVerified: boolean;
	createdAt: string;
	updatedAt: string;
}

/** A started flow, until its callback (or 10 minutes): the state only as its hash. */
export interface PendingFlow {
	id: string;
	stateHash: string;
	provider: string;
	codeVerifier: string;
	nonce: string | null;
	/** set when a signed-in user started the flow to link the provider */
	linkUserId: string | null;
	/** hash of the nonce in the starting browser's flow cookie (./browser-binding.ts) */
	browserHash: string;
	expiresAt: string;
	createdAt: string;
}

export interface CallbackParams {
	provider: string;
	code?: string;
	state?: string;
	error?: string;
	error_description?: string;
	iss?: string;
}

export interface SignInVars {
	cfg: Config;
	providers: Map<string, SignInProvider>;
	accounts: CollectionOf<OAuthAccount>;
	pending: CollectionOf<PendingFlow>;
}

export interface SignInMethods {
	providerOf(name: string): SignInProvider;
	redirectUri(provider: SignInProvider): string;
	/** The provider's authorization URL for a new flow (a sign-in, or a link for `linkUserId`). */
	beginFlow(ctx: Ctx<{ provider: string }>, linkUserId: string | null): Promise<string>;
	callback(ctx: Ctx<CallbackParams>): Promise<unknown>;
	accountFor(provider: SignInProvider, identity: ProviderIdentity, userId: string): Promise<OAuthAccount>;
	unlink(ctx: Ctx<{ id: string }>): Promise<null>;
	/** the `oauthsignin.purge` job: expired flows removed */
	purgeExpired(): Promise<{ flows: number }>;
}

export type SignInThis = ServiceThis<DbSettings, SignInMethods, SignInVars>;
export type SignInMethodsOf<K extends keyof SignInMethods> = Pick<SignInMethods, K> & ThisType<SignInThis>;
