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
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Errors, type ActionSchema, type Context, type Service } from "moleculer";
import sharp, { type FormatEnum, type Metadata } from "sharp";
import { config } from "../../lib/config";
import type { MixinSchema, Schema } from "../../lib/schema";
import { DbMixin, newId, type DbThis } from "../../mixins/db.mixin";
import { fromStore, idParam, type SocialCtx } from "./common";
import { createMediaStorage, mp4DurationSeconds, sniffType, type MediaStorage, type Sniffed } from "./media-storage";

const cfg = config();
const MAX_BYTES = cfg.MEDIA_MAX_BYTES;
const VARIANTS = { thumb: 200, medium: 800 } as const;
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
	present(doc: MediaDoc): Record<string, unknown>;
	storeImage(id: string, tmp: string, type: Sniffed, stored: string[]): Promise<Pick<MediaDoc, "files" | "width" | "height" | "size" | "duration">>;
	_create(ctx: Context, params: unknown): Promise<unknown>;
};

const tooLarge = () => new Errors.MoleculerClientError(`The file is larger than ${MAX_BYTES} bytes.`, 413, "PAYLOAD_TOO_LARGE");
const unsupported = (detail = "Only jpeg, png, webp, gif images and mp4, webm videos are accepted.") =>
	new Errors.MoleculerClientError(detail, 415, "UNSUPPORTED_MEDIA_TYPE");
const mediaNotFound = () => new Errors.MoleculerClientError("Not found.", 404, "NOT_FOUND");

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
			summary: "Upload one image or short video (multipart field `file`).",
			rateLimit: { max: 60, windowSec: 60 },
			params: {
				$fieldname: { type: "string", optional: true },
				$filename: { type: "string", optional: true },
				$encoding: { type: "string", optional: true },
				$mimetype: { type: "string", optional: true },
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
					try {
						await pipeline(stream, meter, fs.createWriteStream(tmp, { flags: "wx" }));
					} catch (err) {
						const e = err as { code?: number; name?: string };
						if (e.code === 413 || e.name === "PayloadTooLarge") throw tooLarge();
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
						const st = await this.storage.put(key, { file: tmp });
						stored.push(key);
						info = { size: st.size, duration, files: { original: { key, mime: type.mime, size: st.size } } };
					}
					const doc = (await this._create(ctx, { id, ownerId, kind: type.kind, mime: type.mime, ...info, postId: null })) as MediaDoc;
					stored.length = 0; // committed
					this.logger.info("media stored", { id, kind: type.kind, mime: type.mime, size: info.size });
					ctx.meta.$statusCode = 201;
					return this.present(doc);
				} finally {
					await fsp.rm(tmp, { force: true });
					for (const key of stored) await this.storage.delete(key).catch(() => undefined);
				}
			},
		},

		/** Routed by the gateway's `/media` route (outside /api): public, by unguessable id. */
		serve: {
			auth: "public",
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
				const body = await this.storage.get(file.key).catch(() => {
					throw mediaNotFound();
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

		/** Delete media files and records (a post was deleted or stopped using them). Idempotent. */
		release: {
			visibility: "public",
			idempotent: true,
			params: { ids: { type: "array", items: idParam, max: 100 } },
			async handler(this: MediaThis, ctx: Context<{ ids: string[] }>) {
				const docs = ((await this.adapter.find({ query: { _id: { $in: ctx.params.ids } } })) as Record<string, unknown>[]).map(d => fromStore<MediaDoc>(d));
				for (const doc of docs) {
					for (const file of Object.values(doc.files)) if (file) await this.storage.delete(file.key);
					await this.adapter.removeMany({ _id: doc.id });
				}
				return { released: docs.map(d => d.id) };
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
				await this.storage.put(key, original.data);
				stored.push(key);
				files.original = { key, mime: type.mime, size: original.data.length, width: original.info.width, height: original.info.pageHeight ?? original.info.height };
				for (const [name, px] of Object.entries(VARIANTS)) {
					const out = await base().resize({ width: px, height: px, fit: "inside", withoutEnlargement: true }).webp().toBuffer({ resolveWithObject: true });
					const vkey = `${id}/${name}.webp`;
					await this.storage.put(vkey, out.data);
					stored.push(vkey);
					files[name as VariantName] = { key: vkey, mime: "image/webp", size: out.data.length, width: out.info.width, height: out.info.pageHeight ?? out.info.height };
				}
			} catch (err) {
				if ((err as { code?: number }).code) throw err;
				this.logger.warn("image processing failed", { id, error: (err as Error).message });
				throw unsupported("The image could not be processed.");
			}
			return { files, size: files.original!.size, width: files.original!.width, height: files.original!.height };
		},
	},

	created(this: MediaThis) {
		this.storage = createMediaStorage(config());
	},
};

export default MediaService;
