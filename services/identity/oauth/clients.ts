/**
 * API clients a tenant admin registers (README, "API clients"): the secret is 32 random bytes, shown
 * once in the answer that made it and stored only as its SHA-256 (it is random, so a slow hash adds nothing).
 */
import { API_SCOPES } from "../../../lib/access";
import { currentTenantUser } from "../../../lib/context";
import { InvalidInputError, NotFoundError } from "../../../lib/errors";
import { newOpaqueToken, sha256 } from "../sessions";
import type { ClientRow, OAuthMethodsOf } from "./types";

const newClientId = () => `vc_${newOpaqueToken().slice(0, 22)}`;
const newSecret = () => `vcs_${newOpaqueToken()}`;

export const clientMethods: OAuthMethodsOf<"createClient" | "rotateSecret" | "revokeClient"> = {
	async createClient(ctx) {
		const user = currentTenantUser(ctx);
		const unknown = ctx.params.scopes.filter(s => !Object.hasOwn(API_SCOPES, s));
		if (unknown.length)
			throw new InvalidInputError(`Unknown scopes: ${unknown.join(", ")}.`, [
				{ field: "scopes", message: `Unknown scopes: ${unknown.join(", ")}. Known: ${Object.keys(API_SCOPES).join(", ")}.` },
			]);
		const clientSecret = newSecret();
		const now = new Date().toISOString();
		const client = await this._create(ctx, {
			clientId: newClientId(),
			name: ctx.params.name,
			scopes: [...new Set(ctx.params.scopes)],
			secretHash: sha256(clientSecret),
			createdBy: user.id,
			secretRotatedAt: now,
			revokedAt: null,
		});
		ctx.meta.$statusCode = 201;
		// no GET of one client: the list that shows it (what a 201 without Location would name anyway)
		ctx.meta.$location = "/api/oauth/clients";
		return { ...client, clientSecret };
	},

	/** A new secret; the old one stops working at once (tokens it obtained stay valid until they expire). */
	async rotateSecret(ctx) {
		const clientSecret = newSecret();
		const changed = await this.scopedUpdateWhere(
			ctx,
			{ id: ctx.params.id, revokedAt: null },
			{ secretHash: sha256(clientSecret), secretRotatedAt: new Date().toISOString() },
		);
		if (!changed) throw new NotFoundError("Not found.", ctx.params.id);
		return { ...(await this._get(ctx, { id: ctx.params.id })), clientSecret };
	},

	/** The client can no longer get tokens, and the tokens it has stop working (a revocation of its id). */
	async revokeClient(ctx) {
		const row = await this.scopedFindById<ClientRow & { tenantId: string }>(ctx, ctx.params.id);
		if (!row) throw new NotFoundError("Not found.", ctx.params.id);
		if (!row.revokedAt) {
			await this.scopedUpdateWhere(ctx, { id: row._id }, { revokedAt: new Date().toISOString() });
			await ctx.call("auth.revokeTokens", { kind: "user", id: row.clientId });
		}
		ctx.meta.$statusCode = 204;
		return null;
	},
};
