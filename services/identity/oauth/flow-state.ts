/**
 * The `state` of an authorization-code flow we started (sign-in and integrations alike): stored only as
 * its hash, for 10 minutes, used once. Of two callbacks with the same state only the one that removes
 * the row goes on; anything else (unknown, another provider's, used, expired) is 400 OAUTH_STATE_INVALID.
 */
import { OAuthStateError } from "../../../lib/errors";
import type { CollectionOf } from "../../../mixins/collection";
import { sha256 } from "../sessions";

/** How long a started flow may take to come back. */
export const FLOW_TTL_MS = 10 * 60_000;

export const flowExpiry = () => new Date(Date.now() + FLOW_TTL_MS).toISOString();
export const stateHash = (state: string) => sha256(state);

/** The flow row this callback's state names, removed; 400 when there is none to take. */
export async function takeFlow<T extends { id: string; provider: string; stateHash: string; expiresAt: string }>(
	rows: CollectionOf<T>,
	provider: string,
	state: string | undefined,
): Promise<T> {
	if (!state) throw new OAuthStateError();
	const flow = await rows.findOne({ stateHash: stateHash(state), provider });
	if (!flow || !(await rows.remove({ id: flow.id })) || flow.expiresAt < new Date().toISOString()) throw new OAuthStateError();
	return flow;
}

/** The callback's parameters as the provider sent them, for oauth4webapi's checks. */
export const callbackParams = (p: { state: string; code?: string; error?: string; iss?: string }) =>
	new URLSearchParams({ state: p.state, ...(p.code && { code: p.code }), ...(p.error && { error: p.error }), ...(p.iss && { iss: p.iss }) });
