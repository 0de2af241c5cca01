/**
 * `POST /api/media` (multipart, one file): the size limit (MEDIA_MAX_BYTES) is enforced while the file
 * streams in (413 PAYLOAD_TOO_LARGE, the temp file removed); the type is decided by the content (magic
 * bytes, then sharp for images), never the file name or declared type (415). Images are re-encoded with
 * sharp: orientation applied (`rotate()`), metadata (EXIF, GPS) dropped, plus `thumb` (200px) and
 * `medium` (800px) variants; videos are stored as uploaded. Nothing half-stored: the upload goes to a
 * temp file, files are renamed into place only when complete, and the record is written last.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import type { Readable } from "node:stream";
import { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ActionSchema } from "moleculer";
import sharp, { type FormatEnum, type Metadata } from "sharp";
import { config } from "../../lib/config";
import { currentUser, type Ctx } from "../../lib/context";
import { FileRequiredError, FileTooLargeError, MalformedMultipartError, UnsupportedMediaTypeError } from "../../lib/errors";
import type { DbSettings, MixinSchema } from "../../lib/schema";
import { newId } from "../../mixins/db.mixin";
import { VARIANTS, type MediaDoc, type MediaMethods, type MediaVars, type StoredInfo, type VariantName } from "./media-doc";
import { mp4DurationSeconds, sniffType, type Sniffed } from "./media-storage";

const cfg = config();
const MAX_BYTES = cfg.MEDIA_MAX_BYTES;
/**
 * S3: the worst case of one storage call (every attempt timing out, plus backoff), so the actions' own
 * timeouts outlast it and a failing store is answered 503 by us, not 504 by the caller's timeout.
 * Local disk: 0 (the broker's default timeout).
 */
export const STORAGE_CALL_MS = cfg.MEDIA_STORAGE === "s3" ? cfg.S3_TIMEOUT_MS * cfg.S3_MAX_ATTEMPTS + 2000 : 0;
/**
 * S3: a write that fails all its attempts, then the clean-up of what was written. Local disk: a minute,
 * because the upload streams from the client inside the action and a 10 MB body on a slow link takes
 * longer than the broker's default request timeout.
 */
const UPLOAD_TIMEOUT_MS = STORAGE_CALL_MS ? cfg.REQUEST_TIMEOUT_MS + 2 * STORAGE_CALL_MS : 60_000;
/** The first bytes kept for sniffing the type. */
const HEAD_BYTES = 4100;

/** 28 url-safe characters: time-ordered prefix plus 114 random bits, so ids cannot be guessed. */
const mediaId = () => newId() + randomBytes(6).toString("base64url");

const schema: MixinSchema<DbSettings, MediaMethods, MediaVars> = {
	actions: {
		upload: {
			rest: {
				method: "POST",
				path: "/",
				type: "multipart",
				busboyConfig: { limits: { files: 1, fileSize: MAX_BYTES, fields: 5, parts: 6 } },
			} as ActionSchema["rest"], // moleculer-web alias options (type, busboyConfig) beyond the typed fields
			auth: "required",
			timeout: UPLOAD_TIMEOUT_MS,
			summary: "Upload one image or short video (multipart field `file`).",
			rateLimit: { max: 60, windowSec: 60, by: "user" }, // a quota per signed-in user (lib/access.ts)
			params: {
				// What busboy read from the part's headers (informational: the type is sniffed from the content).
				$fieldname: { type: "string", max: 200, optional: true },
				$filename: { type: "string", max: 1024, optional: true },
				$encoding: { type: "string", max: 64, optional: true },
				$mimetype: { type: "string", max: 255, optional: true },
			},
			async handler(ctx: Ctx) {
				const ownerId = currentUser(ctx).id;
				// moleculer-web hands a multipart file to the action as the context's stream (a Readable).
				const stream = ctx.stream as Readable | null;
				if (!stream) throw new FileRequiredError("Send the file as multipart/form-data.");

				const tmp = this.storage.tempPath();
				const stored: string[] = [];
				try {
					// 1. Stream to a temp file, counting: past the limit the upload is cut off.
					let bytes = 0;
					let head = Buffer.alloc(0);
					const meter = new Transform({
						transform(chunk: Buffer, _enc, done) {
							bytes += chunk.length;
							if (bytes > MAX_BYTES) return done(new FileTooLargeError(MAX_BYTES));
							if (head.length < HEAD_BYTES) head = Buffer.concat([head, chunk.subarray(0, HEAD_BYTES - head.length)]);
							done(null, chunk);
						},
					});
					// A failure of the client's stream (a multipart body that ends early) is the client's fault.
					let clientStreamFailed = false;
					stream.once("error", () => (clientStreamFailed = true));
					try {
						await pipeline(stream, meter, fs.createWriteStream(tmp, { flags: "wx" }));
					} catch (err) {
						// ours (the meter's) or moleculer-web's own limit (busboy's fileSize)
						if (err instanceof FileTooLargeError || (err as { name?: string }).name === "PayloadTooLarge")
							throw new FileTooLargeError(MAX_BYTES);
						if (clientStreamFailed) throw new MalformedMultipartError();
						throw err;
					}
					if (bytes === 0) throw new FileRequiredError("The file is empty.");

					// 2. What is it really?
					const type = sniffType(head);
					if (!type) throw new UnsupportedMediaTypeError();

					// 3. Store it (files first, renamed into place), the record last.
					const id = mediaId();
					let info: StoredInfo;
					if (type.kind === "image") {
						info = await this.storeImage(id, tmp, type, stored);
					} else {
						const duration = type.mime === "video/mp4" ? mp4DurationSeconds(await fsp.readFile(tmp)) : null;
						const key = `${id}/original.${type.ext}`;
						stored.push(key); // before the put: a remote write that timed out may still land
						const st = await this.storage.put(key, { file: tmp }, { contentType: type.mime });
						info = { size: st.size, duration, files: { original: { key, mime: type.mime, size: st.size } } };
					}
					const doc = await this._create<MediaDoc>(ctx, { id, ownerId, kind: type.kind, mime: type.mime, ...info, postId: null });
					stored.length = 0; // committed
					this.logger.info("media stored", { id, kind: type.kind, mime: type.mime, size: info.size });
					ctx.meta.$statusCode = 201;
					ctx.meta.$location = `/media/${doc.id}`; // the gateway's public media route (outside /api)
					return this.present(doc);
				} catch (err) {
					throw this.storageError(err, "upload");
				} finally {
					await fsp.rm(tmp, { force: true });
					for (const key of stored)
						await this.storage
							.delete(key)
							.catch(err => this.logger.warn("could not remove a partly stored upload", { key, error: (err as Error).message }));
				}
			},
		},
	},

	methods: {
		async storeImage(id: string, tmp: string, type: Sniffed, stored: string[]): Promise<StoredInfo> {
			const animated = type.format === "gif" || type.format === "webp";
			let meta: Metadata;
			try {
				meta = await sharp(tmp, { animated }).metadata();
			} catch {
				throw new UnsupportedMediaTypeError("The file is not a readable image.");
			}
			if (meta.format !== type.format) throw new UnsupportedMediaTypeError("The image content does not match its format.");
			// rotate() applies EXIF orientation; sharp writes no metadata unless asked, so EXIF/GPS are dropped.
			const base = () => sharp(tmp, { animated }).rotate();
			const files: MediaDoc["files"] = {};
			try {
				const original = await base()
					.toFormat(type.format as keyof FormatEnum & string)
					.toBuffer({ resolveWithObject: true });
				const key = `${id}/original.${type.ext}`;
				stored.push(key); // before the put: a remote write that timed out may still land
				await this.storage.put(key, original.data, { contentType: type.mime });
				files.original = {
					key,
					mime: type.mime,
					size: original.data.length,
					width: original.info.width,
					height: original.info.pageHeight ?? original.info.height,
				};
				for (const [name, px] of Object.entries(VARIANTS)) {
					const out = await base()
						.resize({ width: px, height: px, fit: "inside", withoutEnlargement: true })
						.webp()
						.toBuffer({ resolveWithObject: true });
					const vkey = `${id}/${name}.webp`;
					stored.push(vkey);
					await this.storage.put(vkey, out.data, { contentType: "image/webp" });
					files[name as VariantName] = {
						key: vkey,
						mime: "image/webp",
						size: out.data.length,
						width: out.info.width,
						height: out.info.pageHeight ?? out.info.height,
					};
				}
			} catch (err) {
				if ((err as { code?: number | string }).code) throw err; // ours (4xx) or the store's
				this.logger.warn("image processing failed", { id, error: (err as Error).message });
				throw new UnsupportedMediaTypeError("The image could not be processed.");
			}
			return { files, size: files.original!.size, width: files.original!.width, height: files.original!.height };
		},
	},
};

// Moleculer types a schema's `mixins` with an untyped `this`: a mixin typed with its own is handed over as one.
export const MediaUploadMixin = schema as MixinSchema;
