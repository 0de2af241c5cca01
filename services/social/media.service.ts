/**
 * Media uploads for posts: images (jpeg, png, webp, gif) and short videos (mp4, webm).
 *
 * - `POST /api/media`: the upload, checked while it streams in and stored whole or not at all
 *   (./media-upload.mixin.ts).
 * - `GET /media/:id[/:variant]` (gateway route outside /api): public by unguessable immutable id, with a
 *   strong ETag, `Cache-Control: public, max-age=31536000, immutable` and 304 on If-None-Match.
 * - Posts attach media through `claim` (only the uploader's own media) and free it through `release`.
 * - Storage is local disk or an S3-compatible bucket (MEDIA_STORAGE, ./media-storage.ts, ./s3-storage.ts); a
 *   store that is down or slow answers 503 (problem SERVICE_UNAVAILABLE), never a hang.
 * - Uploads never attached to a post are swept after MEDIA_UNATTACHED_TTL_S (`media.sweep`, on a timer).
 */
import { config } from "../../lib/config";
import type { Ctx } from "../../lib/context";
import { MediaInUseError, MediaStorageUnavailableError, NotFoundError } from "../../lib/errors";
import type { DbSettings, MixinSchema, ServiceSchema } from "../../lib/schema";
import { DbMixin, rowToEntity } from "../../mixins/db.mixin";
import { idParam } from "./common";
import type { MediaDoc, MediaMethods, MediaVars, VariantName } from "./media-doc";
import { createMediaStorage } from "./media-storage";
import { MediaUploadMixin, STORAGE_CALL_MS } from "./media-upload.mixin";

const cfg = config();
/** Serving outlasts one storage call (S3); local disk: the broker's default timeout. */
const SERVE_TIMEOUT_MS = STORAGE_CALL_MS ? Math.max(cfg.REQUEST_TIMEOUT_MS, STORAGE_CALL_MS) : undefined;
/** Marks a record the sweeper is deleting (claim only takes `postId: null` or the same post). */
const SWEEPING = "$sweeping";
const idsParam = { type: "array", items: idParam, min: 1, max: 10 } as const;

const MediaService: ServiceSchema<DbSettings, MediaMethods, MediaVars> = {
	name: "media",
	mixins: [DbMixin({ collection: "social_media", indexes: [{ fields: ["ownerId"] }] }) as MixinSchema, MediaUploadMixin],

	actions: {
		/** Routed by the gateway's `/media` route (outside /api): public, by unguessable id. */
		serve: {
			auth: "public",
			timeout: SERVE_TIMEOUT_MS,
			summary: "A media file or one of its variants, cacheable forever.",
			params: { id: idParam, variant: { type: "enum", values: ["original", "thumb", "medium"], optional: true } },
			async handler(ctx: Ctx<{ id: string; variant?: VariantName }>) {
				const variant = ctx.params.variant ?? "original";
				const file = rowToEntity<MediaDoc>(await this.adapter.findById(ctx.params.id))?.files[variant];
				if (!file) throw new NotFoundError();
				// Ids (and so files) never change: the id and variant are a strong validator.
				const etag = `"${ctx.params.id}.${variant}"`;
				const headers: Record<string, string> = {
					ETag: etag,
					"Cache-Control": "public, max-age=31536000, immutable",
					"Cross-Origin-Resource-Policy": "cross-origin",
				};
				ctx.meta.$responseHeaders = headers;
				const ifNoneMatch = typeof ctx.meta.ifNoneMatch === "string" ? ctx.meta.ifNoneMatch : "";
				const tags = ifNoneMatch.split(",").map(t => t.trim().replace(/^W\//, ""));
				if (tags.includes(etag) || tags.includes("*")) {
					ctx.meta.$statusCode = 304;
					return null;
				}
				const body = await this.storage.get(file.key).catch(err => {
					if ((err as { code?: string }).code === "ENOENT") throw new NotFoundError();
					throw this.storageError(err, "serve", file.key);
				});
				ctx.meta.$responseType = file.mime;
				headers["Content-Length"] = String(file.size);
				return body;
			},
		},

		/** Attach media to a post: each id must be the user's own upload, not attached to another post. */
		claim: {
			visibility: "public",
			idempotent: true,
			params: { ids: idsParam, userId: idParam, postId: idParam },
			async handler(ctx: Ctx<{ ids: string[]; userId: string; postId: string }>) {
				const { ids, userId, postId } = ctx.params;
				const docs = await this.findMedia(ids);
				for (const id of ids) {
					const doc = docs.find(d => d.id === id);
					// Someone else's media answers like a missing one.
					if (!doc || doc.ownerId !== userId) throw new NotFoundError("Media not found.", id);
					if (doc.postId && doc.postId !== postId) throw new MediaInUseError(id);
				}
				const changed = await this.adapter.updateMany(
					{ _id: { $in: ids }, ownerId: userId, $or: [{ postId: null }, { postId }] },
					{ $set: { postId, updatedAt: new Date().toISOString() } },
				);
				if (changed !== ids.length) throw new MediaInUseError();
				return { claimed: ids };
			},
		},

		/** Undo a claim (the post that claimed them was not stored after all). Idempotent. */
		unclaim: {
			visibility: "public",
			idempotent: true,
			params: { ids: idsParam, postId: idParam },
			async handler(ctx: Ctx<{ ids: string[]; postId: string }>) {
				const n = await this.adapter.updateMany({ _id: { $in: ctx.params.ids }, postId: ctx.params.postId }, { $set: { postId: null } });
				return { unclaimed: n };
			},
		},

		/**
		 * Delete media files and records (a post was deleted or stopped using them). Idempotent. When the
		 * store fails, the record is detached instead (`postId: null`) so the sweeper deletes it later.
		 */
		release: {
			visibility: "public",
			idempotent: true,
			params: { ids: { type: "array", items: idParam, max: 100 } },
			async handler(ctx: Ctx<{ ids: string[] }>) {
				const docs = await this.findMedia(ctx.params.ids);
				const released: string[] = [];
				const deferred: string[] = [];
				for (const doc of docs) {
					try {
						for (const file of Object.values(doc.files)) if (file) await this.storage.delete(file.key);
					} catch (err) {
						this.logger.warn("media storage failed on release; left to the sweeper", { id: doc.id, error: (err as Error).message });
						await this.adapter.updateMany({ _id: doc.id }, { $set: { postId: null, updatedAt: new Date().toISOString() } });
						deferred.push(doc.id);
						continue;
					}
					await this.adapter.removeMany({ _id: doc.id });
					released.push(doc.id);
				}
				return { released, deferred };
			},
		},

		/**
		 * Delete uploads never attached to a post, older than MEDIA_UNATTACHED_TTL_S: files first, then the
		 * record. Each record is first marked (so a concurrent claim fails rather than attaching media whose
		 * files are going); when the store fails, the mark is undone and the next sweep tries again. Runs
		 * on a timer in every media node (safe: the mark is a conditional update); callable directly.
		 */
		sweep: {
			visibility: "public",
			idempotent: true,
			params: { limit: { type: "number", integer: true, positive: true, max: 10000, optional: true, convert: true } },
			async handler(ctx: Ctx<{ limit?: number }>) {
				const cutoff = new Date(Date.now() - this.unattachedTtlS * 1000).toISOString();
				const rows = await this.adapter.find({
					query: { postId: { $in: [null, SWEEPING] }, createdAt: { $lt: cutoff } },
					limit: ctx.params.limit ?? 500,
				});
				const docs = rows.map(row => rowToEntity<MediaDoc>(row)!);
				const swept: string[] = [];
				let failed = 0;
				for (const doc of docs) {
					const marked = await this.adapter.updateMany({ _id: doc.id, postId: doc.postId ?? null }, { $set: { postId: SWEEPING } });
					if (!marked) continue; // claimed meanwhile
					try {
						for (const file of Object.values(doc.files)) if (file) await this.storage.delete(file.key);
					} catch (err) {
						failed++;
						await this.adapter.updateMany({ _id: doc.id, postId: SWEEPING }, { $set: { postId: null } });
						this.logger.warn("media sweep: storage failed, will retry", { id: doc.id, error: (err as Error).message });
						continue;
					}
					await this.adapter.removeMany({ _id: doc.id, postId: SWEEPING });
					swept.push(doc.id);
				}
				if (swept.length || failed) this.logger.info("media sweep", { swept: swept.length, failed, cutoff });
				return { swept, failed };
			},
		},

		/** The record of one media item (internal: tests, other services). */
		info: {
			visibility: "public",
			idempotent: true,
			params: { id: idParam },
			async handler(ctx: Ctx<{ id: string }>) {
				return rowToEntity<MediaDoc>(await this.adapter.findById(ctx.params.id));
			},
		},
	},

	methods: {
		async findMedia(ids: string[]): Promise<MediaDoc[]> {
			const rows = await this.adapter.find({ query: { _id: { $in: ids } } });
			return rows.map(row => rowToEntity<MediaDoc>(row)!);
		},

		storageError(err: unknown, what: string, key?: string) {
			if ((err as { code?: unknown })?.code !== "STORAGE_UNAVAILABLE") return err;
			this.logger.warn("media storage unavailable", { what, key, error: (err as Error).message });
			return new MediaStorageUnavailableError();
		},

		present(doc: MediaDoc) {
			const variants = Object.fromEntries(
				Object.entries(doc.files).map(([name, f]) => [
					name,
					{ url: name === "original" ? `/media/${doc.id}` : `/media/${doc.id}/${name}`, ...f, key: undefined },
				]),
			);
			return {
				id: doc.id,
				kind: doc.kind,
				mime: doc.mime,
				size: doc.size,
				width: doc.width,
				height: doc.height,
				...(doc.kind === "video" ? { duration: doc.duration ?? null } : {}),
				url: `/media/${doc.id}`,
				variants,
				createdAt: doc.createdAt,
			};
		},
	},

	created() {
		const cfg = config();
		this.storage = createMediaStorage(cfg, this.logger);
		this.unattachedTtlS = cfg.MEDIA_UNATTACHED_TTL_S;
	},

	started() {
		// A quarter of the grace period, between a minute and an hour: an upload lives at most ~1.25 × the TTL.
		const everyS = Math.min(3600, Math.max(60, Math.floor(this.unattachedTtlS / 4)));
		this.sweepTimer = setInterval(() => {
			this.actions.sweep({}).catch((err: Error) => this.logger.warn("media sweep failed", { error: err.message }));
		}, everyS * 1000);
		this.sweepTimer.unref();
	},

	stopped() {
		if (this.sweepTimer) clearInterval(this.sweepTimer);
		this.storage.close?.();
	},
};

export default MediaService;
