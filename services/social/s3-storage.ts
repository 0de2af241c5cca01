/**
 * MEDIA_STORAGE=s3: media objects in an S3-compatible bucket (AWS S3, MinIO, R2, ...), behind the same
 * `MediaStorage` interface as local disk. A third-party call, so:
 * - a timeout on every attempt (connect, time to the answer, socket idle: S3_TIMEOUT_MS);
 * - retries with exponential backoff (S3_MAX_ATTEMPTS; PUT/GET/HEAD/DELETE of one key are idempotent):
 *   the SDK's standard retry for buffers and reads, our own loop for file uploads, because a retried
 *   attempt needs a fresh stream of the temp file (the SDK cannot rewind one it has consumed);
 * - a circuit breaker (S3_BREAKER_THRESHOLD consecutive failed calls → fail fast for
 *   S3_BREAKER_COOLDOWN_MS); a "not found" or another 4xx answer is not a failure of the store;
 * - the endpoint is configuration (S3_ENDPOINT), so tests run against test/helpers/fake-s3.ts.
 * Failures surface as StorageUnavailableError (code STORAGE_UNAVAILABLE), a missing object as code ENOENT.
 * Credentials go to the SDK only; nothing here logs them.
 */
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import fsp from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { CircuitBreaker } from "./circuit-breaker";
import type { MediaStorage, PutOptions, StoredStat } from "./media-storage";
import { checkKey } from "./storage-key";

export interface S3StorageOptions {
	bucket: string;
	region: string;
	endpoint?: string;
	accessKeyId?: string;
	secretAccessKey?: string;
	forcePathStyle?: boolean;
	timeoutMs: number;
	maxAttempts: number;
	breakerThreshold: number;
	breakerCooldownMs: number;
	/** where uploads in progress are written (local disk) before they are sent */
	tmpDir: string;
	logger?: { info(...args: unknown[]): void; warn(...args: unknown[]): void };
}

export class StorageUnavailableError extends Error {
	override name = "StorageUnavailableError";
	readonly code = "STORAGE_UNAVAILABLE";
	constructor(op: string, key: string, cause: unknown) {
		super(`media storage ${op} '${key}' failed: ${describe(cause)}`, { cause });
	}
}

interface SdkError {
	name?: string;
	code?: string;
	message?: string;
	$retryable?: unknown;
	$metadata?: { httpStatusCode?: number };
}

const statusOf = (err: unknown) => (err as SdkError)?.$metadata?.httpStatusCode;
const isNotFound = (err: unknown) => {
	const e = err as SdkError;
	return e?.name === "NoSuchKey" || e?.name === "NotFound" || statusOf(err) === 404;
};
/** The store answered (a 4xx): it is up, so this does not count against the breaker nor is it retried. */
const isClientAnswer = (err: unknown) => {
	const status = statusOf(err);
	return status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429;
};
function describe(err: unknown): string {
	const e = err as SdkError;
	const status = statusOf(err);
	return [e?.name, status ? `HTTP ${status}` : undefined, e?.message].filter(Boolean).join(": ") || String(err);
}

const noop = () => undefined;

export class S3MediaStorage implements MediaStorage {
	/** reads and buffer writes: the SDK retries (maxAttempts) with its exponential backoff */
	private readonly client: S3Client;
	/** file uploads: one attempt per call, the retry loop re-opens the file */
	private readonly singleShot: S3Client;
	readonly breaker: CircuitBreaker;
	private readonly bucket: string;

	constructor(private readonly opts: S3StorageOptions) {
		this.bucket = opts.bucket;
		fs.mkdirSync(opts.tmpDir, { recursive: true });
		const base: S3ClientConfig = {
			region: opts.region,
			endpoint: opts.endpoint,
			forcePathStyle: opts.forcePathStyle ?? !!opts.endpoint,
			credentials:
				opts.accessKeyId && opts.secretAccessKey ? { accessKeyId: opts.accessKeyId, secretAccessKey: opts.secretAccessKey } : undefined,
			requestHandler: {
				connectionTimeout: opts.timeoutMs,
				requestTimeout: opts.timeoutMs,
				socketTimeout: opts.timeoutMs,
				// without it the SDK only logs a warning when requestTimeout passes
				throwOnRequestTimeout: true,
			},
			retryMode: "standard",
			// The SDK would print to the console (e.g. on every failed streaming attempt, which our loop retries);
			// failures reach our callers as errors and are logged there.
			logger: { trace: noop, debug: noop, info: noop, warn: noop, error: noop },
			// Plain PUTs with Content-Length, no aws-chunked trailers: what every S3-compatible store accepts.
			requestChecksumCalculation: "WHEN_REQUIRED",
			responseChecksumValidation: "WHEN_REQUIRED",
		};
		this.client = new S3Client({ ...base, maxAttempts: opts.maxAttempts });
		this.singleShot = new S3Client({ ...base, maxAttempts: 1 });
		this.breaker = new CircuitBreaker({
			name: "media storage (S3)",
			threshold: opts.breakerThreshold,
			cooldownMs: opts.breakerCooldownMs,
			isFailure: err => !isClientAnswer(err),
			onStateChange: state => opts.logger?.[state === "closed" ? "info" : "warn"]("media storage circuit", { state, bucket: this.bucket }),
		});
	}

	tempPath(): string {
		return path.join(this.opts.tmpDir, `${Date.now().toString(36)}-${randomBytes(8).toString("hex")}.part`);
	}

	/** One guarded call: breaker around all of its attempts; errors as StorageUnavailableError / ENOENT. */
	private async call<T>(op: string, key: string, fn: () => Promise<T>): Promise<T> {
		try {
			return await this.breaker.run(fn);
		} catch (err) {
			if (isNotFound(err)) throw Object.assign(new Error(`no media object '${key}'`), { code: "ENOENT" });
			throw new StorageUnavailableError(op, key, err);
		}
	}

	async put(key: string, source: { file: string } | Buffer, opts: PutOptions = {}): Promise<StoredStat> {
		checkKey(key);
		const common = { Bucket: this.bucket, Key: key, ContentType: opts.contentType };
		if (Buffer.isBuffer(source)) {
			await this.call("put", key, () => this.client.send(new PutObjectCommand({ ...common, Body: source, ContentLength: source.length })));
			return { size: source.length };
		}
		const { size } = await fsp.stat(source.file);
		await this.call("put", key, async () => {
			for (let attempt = 1; ; attempt++) {
				const body = fs.createReadStream(source.file);
				try {
					return await this.singleShot.send(new PutObjectCommand({ ...common, Body: body, ContentLength: size }));
				} catch (err) {
					if (attempt >= this.opts.maxAttempts || isClientAnswer(err)) throw err;
					// exponential backoff with full jitter, like the SDK's: base 100 ms, at most 2 s
					await sleep(Math.random() * Math.min(2000, 100 * 2 ** (attempt - 1)));
				} finally {
					body.destroy();
				}
			}
		});
		// The temp file is consumed, as the local store's rename would have done.
		await fsp.rm(source.file, { force: true });
		return { size };
	}

	async get(key: string): Promise<Readable> {
		checkKey(key);
		const out = await this.call("get", key, () => this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key })));
		if (!out.Body) throw new StorageUnavailableError("get", key, new Error("no body"));
		return out.Body as Readable;
	}

	async stat(key: string): Promise<StoredStat | null> {
		checkKey(key);
		try {
			const out = await this.call("stat", key, () => this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key })));
			return { size: out.ContentLength ?? 0 };
		} catch (err) {
			if ((err as { code?: string }).code === "ENOENT") return null;
			throw err;
		}
	}

	async delete(key: string): Promise<void> {
		checkKey(key);
		try {
			await this.call("delete", key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })));
		} catch (err) {
			if ((err as { code?: string }).code !== "ENOENT") throw err;
		}
	}

	close(): void {
		this.client.destroy();
		this.singleShot.destroy();
	}
}
