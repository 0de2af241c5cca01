/** The account itself: its stored credential, the signing keys, its own session ending, its events. */
import { randomUUID } from "node:crypto";
import { currentUser } from "../../../lib/context";
import { NotFoundError } from "../../../lib/errors";
import { keysDir, loadKeyRing } from "../../../lib/keys";
import { toStoredRow } from "../../../mixins/db.mixin";
import { resetTokenKey } from "../reset-tokens";
import { sha256 } from "../sessions";
import type { AuthMethodsOf, Credential } from "./types";

type AccountMethods = "credentialById" | "credentialByEmail" | "loadRing" | "publish" | "logout" | "listSessions" | "revokeSession" | "me";

export const accountMethods: AuthMethodsOf<AccountMethods> = {
	async credentialById(userId) {
		return toStoredRow<Credential>(await this.adapter.findById(userId));
	},

	async credentialByEmail(email) {
		return toStoredRow<Credential>(await this.adapter.findOne({ email }));
	},

	loadRing() {
		this.ring = loadKeyRing(this.cfg);
		this.resetKey = resetTokenKey(this.ring.current.privateKey);
		if (this.ring.generated) this.logger.warn(`generated DEV signing keys in ${keysDir(this.cfg)}; do not use in production`);
	},

	async publish(name, actorId, tenantId, data) {
		await this.publishEvent(name, { eventId: randomUUID(), at: new Date().toISOString(), actorId, tenantId, ...data });
	},

	/** Ends the caller's session: the one of the access token, else the one of the refresh token given (if it is theirs). */
	async logout(ctx) {
		const user = currentUser(ctx);
		let familyId = user.sessionId;
		if (!familyId && ctx.params.refreshToken) {
			const row = await this.sessionRows.findOne({ tokenHash: sha256(ctx.params.refreshToken), userId: user.id });
			familyId = row?.familyId;
		}
		if (familyId) {
			const owned = await this.sessionRows.count({ familyId, userId: user.id });
			if (owned) await this.sessions.revokeFamily(familyId);
		}
		ctx.meta.$statusCode = 204;
		return null;
	},

	async listSessions(ctx) {
		const user = currentUser(ctx);
		const rows = await this.sessions.list(user.id, user.sessionId);
		return { rows, total: rows.length };
	},

	async revokeSession(ctx) {
		const live = await this.sessions.active(currentUser(ctx).id, ctx.params.id);
		if (!live) throw new NotFoundError("Not found.", ctx.params.id);
		await this.sessions.revokeFamily(ctx.params.id);
		ctx.meta.$statusCode = 204;
		return null;
	},

	async me(ctx) {
		const user = currentUser(ctx);
		const cred = await this.credentialById(user.id);
		if (!cred) throw new NotFoundError();
		const [profile, memberships] = await Promise.all([this.profileOf(ctx, cred), ctx.call("tenants.membershipsOf", { userId: user.id })]);
		return { user: profile, memberships, tenantId: user.tenantId, roles: user.roles, sessionId: user.sessionId ?? null };
	},
};
