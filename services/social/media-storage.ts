/**
 * Where media files live, behind a small interface so the backend is configuration:
 * - `local` (the default): files under DATA_DIR/media, written to a temp file in the same file system
 *   and renamed into place, so a reader never sees half a file;
 * - `s3`: an S3-compatible bucket (`S3MediaStorage`, ./s3-storage.ts); an object is written in one PUT of
 *   the finished file, so it exists whole or not at all. README: "Social domain", media.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { dataPath, type Config } from "../../lib/config";
import { S3MediaStorage } from "./s3-storage";
import { checkKey } from "./storage-key";

export interface StoredStat {
	size: number;
}

export interface PutOptions {
	/** stored with the object where the backend keeps it (S3); serving uses the record's type */
	contentType?: string;
}

export interface MediaStorage {
	/** Store `source` (a finished temp file, moved, or a buffer) under `key`, atomically. */
	put(key: string, source: { file: string } | Buffer, opts?: PutOptions): Promise<StoredStat>;
	/**
	 * A stream of the file; rejects with code ENOENT when it is not there (and, for a remote store that
	 * failed, with code STORAGE_UNAVAILABLE, as the other methods do).
	 */
	get(key: string): Promise<Readable>;
	stat(key: string): Promise<StoredStat | null>;
	/** Idempotent. */
	delete(key: string): Promise<void>;
	/** A fresh temp path for an upload in progress (same file system as the store). */
	tempPath(): string;
	/** Release connections (service stopped). */
	close?(): void;
}

export class LocalMediaStorage implements MediaStorage {
	private readonly tmpDir: string;
	constructor(private readonly root: string) {
		this.tmpDir = path.join(root, ".tmp");
		fs.mkdirSync(this.tmpDir, { recursive: true });
	}

	private pathOf(key: string): string {
		return path.join(this.root, checkKey(key));
	}

	tempPath(): string {
		return path.join(this.tmpDir, `${Date.now().toString(36)}-${randomBytes(8).toString("hex")}.part`);
	}

	async put(key: string, source: { file: string } | Buffer): Promise<StoredStat> {
		const dest = this.pathOf(key);
		await fsp.mkdir(path.dirname(dest), { recursive: true });
		let from: string;
		if (Buffer.isBuffer(source)) {
			from = this.tempPath();
			await fsp.writeFile(from, source);
		} else {
			from = source.file;
		}
		try {
			await fsp.rename(from, dest);
		} catch (err) {
			await fsp.rm(from, { force: true });
			throw err;
		}
		const st = await fsp.stat(dest);
		return { size: st.size };
	}

	async get(key: string): Promise<Readable> {
		const file = this.pathOf(key);
		await fsp.access(file);
		return fs.createReadStream(file);
	}

	async stat(key: string): Promise<StoredStat | null> {
		try {
			const st = await fsp.stat(this.pathOf(key));
			return { size: st.size };
		} catch {
			return null;
		}
	}

	async delete(key: string): Promise<void> {
		const file = this.pathOf(key);
		await fsp.rm(file, { force: true });
		// Drop the media's folder once it is empty.
		await fsp.rmdir(path.dirname(file)).catch(() => undefined);
	}
}

export function createMediaStorage(cfg: Config, logger?: { info(...args: unknown[]): void; warn(...args: unknown[]): void }): MediaStorage {
	switch (cfg.MEDIA_STORAGE) {
		case "s3":
			return new S3MediaStorage({
				bucket: cfg.S3_BUCKET!,
				region: cfg.S3_REGION,
				endpoint: cfg.S3_ENDPOINT,
				accessKeyId: cfg.S3_ACCESS_KEY_ID,
				secretAccessKey: cfg.S3_SECRET_ACCESS_KEY,
				forcePathStyle: cfg.S3_FORCE_PATH_STYLE,
				timeoutMs: cfg.S3_TIMEOUT_MS,
				maxAttempts: cfg.S3_MAX_ATTEMPTS,
				breakerThreshold: cfg.S3_BREAKER_THRESHOLD,
				breakerCooldownMs: cfg.S3_BREAKER_COOLDOWN_MS,
				tmpDir: dataPath(cfg, "media", ".tmp"),
				logger,
			});
		case "local":
		default:
			return new LocalMediaStorage(dataPath(cfg, "media"));
	}
}

/** What the content says the file is: magic bytes, never the file name or the declared type. */
export interface Sniffed {
	kind: "image" | "video";
	mime: string;
	ext: string;
	format: string;
}

export function sniffType(head: Buffer): Sniffed | null {
	const at = (offset: number, text: string) =>
		head.length >= offset + text.length && head.toString("latin1", offset, offset + text.length) === text;
	if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff)
		return { kind: "image", mime: "image/jpeg", ext: "jpg", format: "jpeg" };
	if (head.length >= 8 && head.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])))
		return { kind: "image", mime: "image/png", ext: "png", format: "png" };
	if (at(0, "GIF87a") || at(0, "GIF89a")) return { kind: "image", mime: "image/gif", ext: "gif", format: "gif" };
	if (at(0, "RIFF") && at(8, "WEBP")) return { kind: "image", mime: "image/webp", ext: "webp", format: "webp" };
	if (at(4, "ftyp")) {
		const brand = head.toString("latin1", 8, 12);
		// HEIF/AVIF share the container but are images we do not accept.
		if (!["heic", "heix", "hevc", "mif1", "msf1", "avif", "avis"].includes(brand))
			return { kind: "video", mime: "video/mp4", ext: "mp4", format: "mp4" };
		return null;
	}
	if (head.length >= 4 && head[0] === 0x1a && head[1] === 0x45 && head[2] === 0xdf && head[3] === 0xa3 && head.includes(Buffer.from("webm")))
		return { kind: "video", mime: "video/webm", ext: "webm", format: "webm" };
	return null;
}

/**
 * Duration in seconds of an MP4 from its `moov/mvhd` box (cheap: no decoding), or null when the box is
 * not found (e.g. a truncated file). WebM durations need an EBML parser: not extracted.
 */
export function mp4DurationSeconds(buf: Buffer): number | null {
	const findBox = (start: number, end: number, type: string): [number, number] | null => {
		let pos = start;
		while (pos + 8 <= end) {
			let size = buf.readUInt32BE(pos);
			let header = 8;
			if (size === 1) {
				if (pos + 16 > end) return null;
				size = Number(buf.readBigUInt64BE(pos + 8));
				header = 16;
			} else if (size === 0) size = end - pos;
			if (size < header) return null;
			if (buf.toString("latin1", pos + 4, pos + 8) === type) return [pos + header, Math.min(end, pos + size)];
			pos += size;
		}
		return null;
	};
	try {
		const moov = findBox(0, buf.length, "moov");
		if (!moov) return null;
		const mvhd = findBox(moov[0], moov[1], "mvhd");
		if (!mvhd) return null;
		const at = mvhd[0];
		const version = buf.readUInt8(at);
		const timescale = version === 1 ? buf.readUInt32BE(at + 20) : buf.readUInt32BE(at + 12);
		const duration = version === 1 ? Number(buf.readBigUInt64BE(at + 24)) : buf.readUInt32BE(at + 16);
		if (!timescale) return null;
		return Math.round((duration / timescale) * 1000) / 1000;
	} catch {
		return null;
	}
}
