/** Profiles: the stored row, its public and owner views, search, edits and creation at registration. */
import { randomUUID } from "node:crypto";
import { currentUser } from "../../../lib/context";
import { ConflictError, NotFoundError } from "../../../lib/errors";
import { escapeRegex } from "../../../lib/text";
import { EDITABLE, type PublicProfile, type Raw, type UsersMethodsOf } from "./types";

type ProfileMethods =
	| "findRaw"
	| "requireRaw"
	| "toPublic"
	| "toOwner"
	| "view"
	| "resolveId"
	| "searchProfiles"
	| "updateProfile"
	| "createProfile"
	| "publish"
	| "cleanProfileCaches";

export const profileMethods: UsersMethodsOf<ProfileMethods> = {
	async findRaw(userId) {
		const doc = await this.adapter.findById(userId);
		return doc ? this.adapter.entityToObject(doc) : null;
	},
	async requireRaw(userId) {
		const raw = await this.findRaw(userId);
		if (!raw) throw new NotFoundError("Not found.", userId);
		return raw;
	},
	toPublic(raw): PublicProfile {
		return {
			id: String(raw._id ?? raw.id),
			name: raw.name as string,
			bio: (raw.bio as string) ?? null,
			avatarUrl: (raw.avatarUrl as string) ?? null,
			location: (raw.location as string) ?? null,
			website: (raw.website as string) ?? null,
			createdAt: raw.createdAt as string,
			updatedAt: raw.updatedAt as string,
		};
	},
	toOwner(raw) {
		return { ...this.toPublic(raw), email: raw.email as string };
	},
	/** The owner's view for the owner, the public one for everyone else. */
	view(ctx, raw) {
		const self = ctx.meta.user?.id && ctx.meta.user.id === String(raw._id ?? raw.id);
		return self ? this.toOwner(raw) : this.toPublic(raw);
	},
	/** `me` as the caller's id. */
	resolveId(ctx, value) {
		return value === "me" ? currentUser(ctx).id : value;
	},
	async searchProfiles(ctx, search, { page, pageSize }, sort) {
		const query: Raw = search ? { name: { $regex: new RegExp(escapeRegex(search), "i") } } : {};
		const found = await this._list<Raw>(ctx, { query, sort: [sort, "_id"], page, pageSize });
		return { ...found, rows: found.rows.map(row => this.toPublic(row)) };
	},
	async updateProfile(ctx) {
		const userId = currentUser(ctx).id;
		const current = await this.requireRaw(userId);
		const changes: Raw = {};
		for (const field of EDITABLE) {
			const value = ctx.params[field];
			if (value !== undefined && value !== (current[field] ?? null)) changes[field] = value;
		}
		if (!Object.keys(changes).length) return this.toOwner(current);
		await this._update(ctx, { id: userId, ...changes });
		const updated = await this.requireRaw(userId);
		await this.cleanProfileCaches();
		await this.publish("users.profileUpdated", userId, { ...this.toPublic(updated), changed: Object.keys(changes) });
		return this.toOwner(updated);
	},
	/** Idempotent on the user id: a retry answers the same profile and publishes no second event. */
	async createProfile(ctx) {
		const { id: userId, email, name } = ctx.params;
		const existing = await this.findRaw(userId);
		if (existing) return this.toOwner(existing);
		try {
			await this._insert(ctx, { entity: { id: userId, email: email.toLowerCase(), name } });
		} catch (err) {
			// A concurrent retry stored it first: same answer, one event.
			if (err instanceof ConflictError) return this.toOwner(await this.requireRaw(userId));
			throw err;
		}
		const created = await this.requireRaw(userId);
		await this.cleanProfileCaches();
		await this.publish("users.registered", userId, { ...this.toPublic(created) });
		return this.toOwner(created);
	},
	/** Domain events go through the outbox (mixins/outbox.mixin.ts): stored, then sent, re-sent until they are. */
	async publish(name, actorId, data) {
		await this.publishEvent(name, { ...data, tenantId: null, actorId, eventId: randomUUID(), at: new Date().toISOString() });
	},
	async cleanProfileCaches() {
		const cacher = this.broker.cacher;
		if (!cacher) return;
		await Promise.all(["users.profile:**", "users.search:**", "users.listUsers:**"].map(p => cacher.clean(p)));
	},
};
