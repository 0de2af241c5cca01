/**
 * Media uploads for posts: images (jpeg, png, webp, gif) and short videos (mp4, webm).
 *
 * - `POST /api/media` (multipart, one file): the size limit (MEDIA_MAX_BYTES) is enforced while the
 *   file streams in (413 PAYLOAD_TOO_LARGE, the temp file removed); the type is decided by the content
 *   (magic bytes, then sharp for images), never the file name or declared type (415).
 * - Images are re-encoded with sharp: orientation applied (`rotate()`), metadata (EXIF, GPS) dropped,
 *   plus `thumb` (200px) and `medium` (800px) variants. Videos are stored as uploaded with their size/type.
 * - Nothing half-stored: the upload goes to a temp file; files are renamed into place only when
 *   complete, and the record is written last.
 * - `GET /media/:id[/:variant]` (gateway route outside /api): public by unguessable immutable id, with a
 *   strong ETag, `Cache-Control: public, max-age=31536000, immutable` and 304 on If-None-Match.
 * - Posts attach media through `claim` (only the uploader's own media) and free it through `release`.
 * - Storage is local disk or an S3-compatible bucket (MEDIA_STORAGE, ./media-storage.ts, ./s3-storage.ts); a
 *   store that is down or slow answers 503 (problem SERVICE_UNAVAILABLE), never a hang.
 * - Uploads never attached to a post are swept after MEDIA_UNATTACHED_TTL_S (`media.sweep`, on a timer).
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Errors, type ActionSchema, type Context, type Service } from "moleculer";
import ApiGateway from "moleculer-web";
import sharp, { type FormatEnum, type Metadata } from "sharp";
import { config } from "../../lib/config";
import type { MixinSchema, Schema } from "../../lib/schema";
import { DbMixin, newId, type DbThis } from "../../mixins/db.mixin";
import { fromStore, idParam, type SocialCtx } from "./common";
import { createMediaStorage, mp4DurationSeconds, sniffType, type MediaStorage, type Sniffed } from "./media-storage";

const cfg = config();
const MAX_BYTES = cfg.MEDIA_MAX_BYTES;
const VARIANTS = { thumb: 200, medium: 800 } as const;
/**
 * S3: the worst case of one storage call (every attempt timing out, plus backoff), so the actions' own
 * timeouts outlast it and a failing store is answered 503 by us, not 504 by the caller's timeout.
 * Local disk: the broker's default timeout for serving.
 */
const STORAGE_CALL_MS = cfg.MEDIA_STORAGE === "s3" ? cfg.S3_TIMEOUT_MS * cfg.S3_MAX_ATTEMPTS + 2000 : 0;
const SERVE_TIMEOUT_MS = STORAGE_CALL_MS ? Math.max(cfg.REQUEST_TIMEOUT_MS, STORAGE_CALL_MS) : undefined;
/**
 * S3: a write that fails all its attempts, then the clean-up of what was written. Local disk: a minute,
 * because the upload streams from the client inside the action and a 10 MB body on a slow link takes
 * longer than the broker's default request timeout.
 */
const UPLOAD_TIMEOUT_MS = STORAGE_CALL_MS ? cfg.REQUEST_TIMEOUT_MS + 2 * STORAGE_CALL_MS : 60_000;
type VariantName = "original" | keyof typeof VARIANTS;

interface StoredFile {
	key: string;
	mime: string;
	size: number;
	width?: number;
	height?: number;
}

interface MediaDoc {
	id: string;
	ownerId: string;
	kind: "image" | "video";
	mime: string;
	size: number;
	width?: number;
	height?: number;
	/** seconds (MP4 only, from its header) */
	duration?: number | null;
	files: Partial<Record<VariantName, StoredFile>>;
	postId: string | null;
	createdAt: string;
}

type MediaThis = Service & DbThis & {
	storage: MediaStorage;
	unattachedTtlS: number;
	sweepTimer?: NodeJS.Timeout;
	storageError(err: unknown, what: string, key?: string): unknown;
	present(doc: MediaDoc): Record<string, unknown>;
	/** Pushes each key to `stored` before writing it, so the caller can remove them all on failure. */
	storeImage(id: string, tmp: string, type: Sniffed, stored: string[]): Promise<Pick<MediaDoc, "files" | "width" | "height" | "size" | "duration">>;
	_create(ctx: Context, params: unknown): Promise<unknown>;
};

const tooLarge = () => new Errors.MoleculerClientError(`The file is larger than ${MAX_BYTES} bytes.`, 413, "PAYLOAD_TOO_LARGE");
const unsupported = (detail = "Only jpeg, png, webp, gif images and mp4, webm videos are accepted.") =>
	new Errors.MoleculerClientError(detail, 415, "UNSUPPORTED_MEDIA_TYPE");
const mediaNotFound = () => new Errors.MoleculerClientError("Not found.", 404, "NOT_FOUND");
/** Marks a record the sweeper is deleting (claim only takes `postId: null` or the same post). */
const SWEEPING = "$sweeping";

/** 28 url-safe characters: time-ordered prefix plus 114 random bits, so ids cannot be guessed. */
const mediaId = () => newId() + randomBytes(6).toString("base64url");

const MediaService: Schema<MediaThis> = {
	name: "media",
	mixins: [(DbMixin({ collection: "social_media", indexes: [{ fields: ["ownerId"] }] }) as MixinSchema)],

	actions: {
		upload: {
			rest: {
				method: "POST",
				path: "/",
				type: "multipart",
				busboyConfig: { limits: { files: 1, fileSize: MAX_BYTES, fields: 5, parts: 6 } },
			} as ActionSchema["rest"], // moleculer-web alias options (type, busboyConfig) beyond the typed fields
			auth: "required",
			...({ timeout: UPLOAD_TIMEOUT_MS } as Record<string, unknown>), // moleculer's Timeout middleware reads it; untyped
			summary: "Upload one image or short video (multipart field `file`).",
			rateLimit: { max: 60, windowSec: 60, by: "user" }, // a quota per signed-in user (lib/access.ts)
			params: {
				// What busboy read from the part's headers (informational: the type is sniffed from the content).
				$fieldname: { type: "string", max: 200, optional: true },
				$filename: { type: "string", max: 1024, optional: true },
				$encoding: { type: "string", max: 64, optional: true },
				$mimetype: { type: "string", max: 255, optional: true },
			},
			async handler(this: MediaThis, ctx: SocialCtx) {
				const ownerId = ctx.meta.user?.id;
				if (!ownerId) throw new Errors.MoleculerClientError("Authentication is required.", 401, "UNAUTHORIZED");
				const stream = (ctx as unknown as { stream?: NodeJS.ReadableStream }).stream;
				if (!stream) throw new Errors.MoleculerClientError("Send the file as multipart/form-data.", 422, "FILE_REQUIRED");

				const tmp = this.storage.tempPath();
				const stored: string[] = [];
				try {
					// 1. Stream to a temp file, counting: past the limit the upload is cut off.
					let bytes = 0;
					let head = Buffer.alloc(0);
					const meter = new Transform({
						transform(chunk: Buffer, _enc, done) {
							bytes += chunk.length;
							if (bytes > MAX_BYTES) return done(tooLarge());
							if (head.length < 4100) head = Buffer.concat([head, chunk.subarray(0, 4100 - head.length)]);
							done(null, chunk);
						},
					});
					// A failure of the client's stream (a multipart body that ends early) is the client's fault.
					let clientStreamFailed = false;
					stream.once("error", () => (clientStreamFailed = true));
					try {
						await pipeline(stream, meter, fs.createWriteStream(tmp, { flags: "wx" }));
					} catch (err) {
						const e = err as { code?: number; name?: string };
						if (e.code === 413 || e.name === "PayloadTooLarge") throw tooLarge();
						if (clientStreamFailed) throw new Errors.MoleculerClientError("The upload ended before the file was complete.", 400, "MALFORMED_MULTIPART");
						throw err;
					}
					if (bytes === 0) throw new Errors.MoleculerClientError("The file is empty.", 422, "FILE_REQUIRED");

					// 2. What is it really?
					const type = sniffType(head);
					if (!type) throw unsupported();

					// 3. Store it (files first, renamed into place), the record last.
					const id = mediaId();
					let info: Pick<MediaDoc, "files" | "width" | "height" | "size" | "duration">;
					if (type.kind === "image") {
						info = await this.storeImage(id, tmp, type, stored);
					} else {
						const duration = type.mime === "video/mp4" ? mp4DurationSeconds(await fsp.readFile(tmp)) : null;
						const key = `${id}/original.${type.ext}`;
						stored.push(key); // before the put: a remote write that timed out may still land
						const st = await this.storage.put(key, { file: tmp }, { contentType: type.mime });
						info = { size: st.size, duration, files: { original: { key, mime: type.mime, size: st.size } } };
					}
					const doc = (await this._create(ctx, { id, ownerId, kind: type.kind, mime: type.mime, ...info, postId: null })) as MediaDoc;
					stored.length = 0; // committed
					this.logger.info("media stored", { id, kind: type.kind, mime: type.mime, size: info.size });
					ctx.meta.$statusCode = 201;
					return this.present(doc);
				} catch (err) {
					throw this.storageError(err, "upload");
				} finally {
					await fsp.rm(tmp, { force: true });
					for (const key of stored)
						await this.storage.delete(key).catch(err => this.logger.warn("could not remove a partly stored upload", { key, error: (err as Error).message }));
				}
			},
		},

		/** Routed by the gateway's `/media` route (outside /api): public, by unguessable id. */
		serve: {
			auth: "public",
			...({ timeout: SERVE_TIMEOUT_MS } as Record<string, unknown>),
			summary: "A media file or one of its variants, cacheable forever.",
			params: { id: idParam, variant: { type: "enum", values: ["original", "thumb", "medium"], optional: true } },
			async handler(this: MediaThis, ctx: Context<{ id: string; variant?: VariantName }, Record<string, any>>) {
				const variant = ctx.params.variant ?? "original";
				const doc = (await this.adapter.findById(ctx.params.id)) as Record<string, unknown> | null;
				const file = doc ? (fromStore<MediaDoc>(doc).files[variant] as StoredFile | undefined) : undefined;
				if (!file) throw mediaNotFound();
				// Ids (and so files) never change: the id and variant are a strong validator.
				const etag = `"${ctx.params.id}.${variant}"`;
				ctx.meta.$responseHeaders = {
					ETag: etag,
					"Cache-Control": "public, max-age=31536000, immutable",
					"Cross-Origin-Resource-Policy": "cross-origin",
				};
				const ifNoneMatch = typeof ctx.meta.ifNoneMatch === "string" ? ctx.meta.ifNoneMatch : "";
				const tags = ifNoneMatch.split(",").map(t => t.trim().replace(/^W\//, ""));
				if (tags.includes(etag) || tags.includes("*")) {
					ctx.meta.$statusCode = 304;
					return null;
				}
				const body = await this.storage.get(file.key).catch(err => {
					if ((err as { code?: string }).code === "ENOENT") throw mediaNotFound();
					throw this.storageError(err, "serve", file.key);
				});
				ctx.meta.$responseType = file.mime;
				ctx.meta.$responseHeaders["Content-Length"] = String(file.size);
				return body;
			},
		},

		/** Attach media to a post: each id must be the user's own upload, not attached to another post. */
		claim: {
			visibility: "public",
			idempotent: true,
			params: { ids: { type: "array", items: idParam, min: 1, max: 10 }, userId: idParam, postId: idParam },
			async handler(this: MediaThis, ctx: Context<{ ids: string[]; userId: string; postId: string }>) {
				const { ids, userId, postId } = ctx.params;
				const docs = ((await this.adapter.find({ query: { _id: { $in: ids } } })) as Record<string, unknown>[]).map(d => fromStore<MediaDoc>(d));
				for (const id of ids) {
					const doc = docs.find(d => d.id === id);
					// Someone else's media answers like a missing one.
					if (!doc || doc.ownerId !== userId) throw new Errors.MoleculerClientError("Media not found.", 404, "NOT_FOUND", { mediaId: id });
					if (doc.postId && doc.postId !== postId) throw new Errors.MoleculerClientError("This media is attached to another post.", 409, "MEDIA_IN_USE", { mediaId: id });
				}
				const changed = await this.adapter.updateMany(
					{ _id: { $in: ids }, ownerId: userId, $or: [{ postId: null }, { postId }] },
					{ $set: { postId, updatedAt: new Date().toISOString() } },
				);
				if (changed !== ids.length) throw new Errors.MoleculerClientError("This media is attached to another post.", 409, "MEDIA_IN_USE");
				return { claimed: ids };
			},
		},

		/** Undo a claim (the post that claimed them was not stored after all). Idempotent. */
		unclaim: {
			visibility: "public",
			idempotent: true,
			params: { ids: { type: "array", items: idParam, min: 1, max: 10 }, postId: idParam },
			async handler(this: MediaThis, ctx: Context<{ ids: string[]; postId: string }>) {
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
			async handler(this: MediaThis, ctx: Context<{ ids: string[] }>) {
				const docs = ((await this.adapter.find({ query: { _id: { $in: ctx.params.ids } } })) as Record<string, unknown>[]).map(d => fromStore<MediaDoc>(d));
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
			async handler(this: MediaThis, ctx: Context<{ limit?: number }>) {
				const cutoff = new Date(Date.now() - this.unattachedTtlS * 1000).toISOString();
				const docs = ((await this.adapter.find({
					query: { postId: { $in: [null, SWEEPING] }, createdAt: { $lt: cutoff } },
					limit: ctx.params.limit ?? 500,
				})) as Record<string, unknown>[]).map(d => fromStore<MediaDoc>(d));
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
			async handler(this: MediaThis, ctx: Context<{ id: string }>) {
				const doc = (await this.adapter.findById(ctx.params.id)) as Record<string, unknown> | null;
				return doc ? fromStore<MediaDoc>(doc) : null;
			},
		},
	},

	methods: {
		/** A failed remote store becomes a clean 503 (problem SERVICE_UNAVAILABLE); anything else is unchanged. */
		storageError(this: MediaThis, err: unknown, what: string, key?: string) {
			if ((err as { code?: unknown })?.code !== "STORAGE_UNAVAILABLE") return err;
			this.logger.warn("media storage unavailable", { what, key, error: (err as Error).message });
			return new ApiGateway.Errors.ServiceUnavailableError("STORAGE_UNAVAILABLE");
		},

		present(doc: MediaDoc) {
			const variants = Object.fromEntries(
				Object.entries(doc.files).map(([name, f]) => [name, { url: name === "original" ? `/media/${doc.id}` : `/media/${doc.id}/${name}`, ...f, key: undefined }]),
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

		async storeImage(this: MediaThis, id: string, tmp: string, type: Sniffed, stored: string[]) {
			const animated = type.format === "gif" || type.format === "webp";
			let meta: Metadata;
			try {
				meta = await sharp(tmp, { animated }).metadata();
			} catch {
				throw unsupported("The file is not a readable image.");
			}
			if (meta.format !== type.format) throw unsupported("The image content does not match its format.");
			// rotate() applies EXIF orientation; sharp writes no metadata unless asked, so EXIF/GPS are dropped.
			const base = () => sharp(tmp, { animated }).rotate();
			const files: MediaDoc["files"] = {};
			try {
				const original = await base().toFormat(type.format as keyof FormatEnum & string).toBuffer({ resolveWithObject: true });
				const key = `${id}/original.${type.ext}`;
				stored.push(key); // before the put: a remote write that timed out may still land
				await this.storage.put(key, original.data, { contentType: type.mime });
				files.original = { key, mime: type.mime, size: original.data.length, width: original.info.width, height: original.info.pageHeight ?? original.info.height };
				for (const [name, px] of Object.entries(VARIANTS)) {
					const out = await base().resize({ width: px, height: px, fit: "inside", withoutEnlargement: true }).webp().toBuffer({ resolveWithObject: true });
					const vkey = `${id}/${name}.webp`;
					stored.push(vkey);
					await this.storage.put(vkey, out.data, { contentType: "image/webp" });
					files[name as VariantName] = { key: vkey, mime: "image/webp", size: out.data.length, width: out.info.width, height: out.info.pageHeight ?? out.info.height };
				}
			} catch (err) {
				if ((err as { code?: number | string }).code) throw err; // ours (4xx) or the store's
				this.logger.warn("image processing failed", { id, error: (err as Error).message });
				throw unsupported("The image could not be processed.");
			}
			return { files, size: files.original!.size, width: files.original!.width, height: files.original!.height };
		},
	},

	created(this: MediaThis) {
		const cfg = config();
		this.storage = createMediaStorage(cfg, this.logger);
		this.unattachedTtlS = cfg.MEDIA_UNATTACHED_TTL_S;
	},

	started(this: MediaThis) {
		// A quarter of the grace period, between a minute and an hour: an upload lives at most ~1.25 × the TTL.
		const everyS = Math.min(3600, Math.max(60, Math.floor(this.unattachedTtlS / 4)));
		this.sweepTimer = setInterval(() => {
			this.actions.sweep({}).catch((err: Error) => this.logger.warn("media sweep failed", { error: err.message }));
		}, everyS * 1000);
		this.sweepTimer.unref();
	},

	stopped(this: MediaThis) {
		if (this.sweepTimer) clearInterval(this.sweepTimer);
		this.storage.close?.();
	},
};

export default MediaService;
