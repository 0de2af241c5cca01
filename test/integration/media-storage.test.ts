/**
 * The MediaStorage contract, run against both backends: local disk and S3 (the SDK against
 * test/helpers/fake-s3.ts). Then what only the remote store needs: timeouts, retries with a fresh
 * stream of the file, and the circuit breaker.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Readable } from "node:stream";
import { loadConfig } from "../../lib/config";
import { CircuitBreaker, CircuitOpenError } from "../../services/social/circuit-breaker";
import { LocalMediaStorage, type MediaStorage } from "../../services/social/media-storage";
import { S3MediaStorage, type S3StorageOptions } from "../../services/social/s3-storage";
import { startFakeS3, type FakeS3 } from "../helpers/fake-s3";

async function read(stream: Readable): Promise<Buffer> {
	const chunks: Buffer[] = [];
	for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
	return Buffer.concat(chunks);
}

let dir: string;
let s3: FakeS3;
const made: MediaStorage[] = [];

function s3Storage(over: Partial<S3StorageOptions> = {}): S3MediaStorage {
	const st = new S3MediaStorage({
		bucket: s3.bucket,
		region: "us-east-1",
		endpoint: s3.endpoint,
		accessKeyId: "test-key",
		secretAccessKey: "test-secret",
		timeoutMs: 1000,
		maxAttempts: 3,
		breakerThreshold: 5,
		breakerCooldownMs: 30_000,
		tmpDir: path.join(dir, "s3tmp"),
		...over,
	});
	made.push(st);
	return st;
}

beforeAll(async () => {
	dir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-storage-"));
	s3 = await startFakeS3({ bucket: "media-test" });
});
afterAll(async () => {
	for (const st of made) st.close?.();
	await s3.stop();
	fs.rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => s3.reset());

describe.each([
	["local", () => new LocalMediaStorage(path.join(dir, "local"))],
	["s3", () => s3Storage()],
] as const)("MediaStorage contract: %s", (_name, make) => {
	let st: MediaStorage;
	beforeAll(() => {
		st = make();
	});

	it("puts a buffer, then gets, stats and deletes it", async () => {
		const data = Buffer.from("hello media");
		expect(await st.put("m1/original.png", data, { contentType: "image/png" })).toEqual({ size: data.length });
		expect(await st.stat("m1/original.png")).toEqual({ size: data.length });
		expect((await read(await st.get("m1/original.png"))).equals(data)).toBe(true);
		await st.delete("m1/original.png");
		expect(await st.stat("m1/original.png")).toBeNull();
		await expect(st.get("m1/original.png")).rejects.toMatchObject({ code: "ENOENT" });
	});

	it("puts a finished temp file (consumed) and streams it back byte for byte", async () => {
		const tmp = st.tempPath();
		const data = Buffer.alloc(300_000);
		for (let i = 0; i < data.length; i++) data[i] = (i * 7) & 0xff;
		fs.writeFileSync(tmp, data);
		expect(await st.put("m2/original.mp4", { file: tmp })).toEqual({ size: data.length });
		expect(fs.existsSync(tmp)).toBe(false);
		expect((await read(await st.get("m2/original.mp4"))).equals(data)).toBe(true);
		await st.delete("m2/original.mp4");
	});

	it("answers a missing key: get rejects with ENOENT, stat is null, delete is idempotent", async () => {
		await expect(st.get("nothing/here.png")).rejects.toMatchObject({ code: "ENOENT" });
		expect(await st.stat("nothing/here.png")).toBeNull();
		await expect(st.delete("nothing/here.png")).resolves.toBeUndefined();
	});

	it("overwrites a key", async () => {
		await st.put("m3/thumb.webp", Buffer.from("first version"));
		await st.put("m3/thumb.webp", Buffer.from("v2"));
		expect(await st.stat("m3/thumb.webp")).toEqual({ size: 2 });
		expect((await read(await st.get("m3/thumb.webp"))).toString()).toBe("v2");
		await st.delete("m3/thumb.webp");
	});

	it("refuses keys that could escape the store", async () => {
		await expect(st.put("../etc/passwd", Buffer.from("x"))).rejects.toThrow(/invalid storage key/);
		await expect(st.put("a/../../b", Buffer.from("x"))).rejects.toThrow(/invalid storage key/);
	});
});

describe("S3MediaStorage against failures", () => {
	it("stores the content type with the object and sends plain PUTs (no aws-chunked)", async () => {
		const st = s3Storage();
		await st.put("ct/original.jpg", Buffer.from([0xff, 0xd8, 0xff]), { contentType: "image/jpeg" });
		expect(s3.objects.get("ct/original.jpg")).toMatchObject({ contentType: "image/jpeg" });
		await st.delete("ct/original.jpg");
	});

	it("retries a file upload with a fresh stream of the file after a server error", async () => {
		const st = s3Storage();
		const tmp = st.tempPath();
		const data = Buffer.alloc(50_000, 9);
		fs.writeFileSync(tmp, data);
		s3.failNext(2);
		await st.put("retry/original.mp4", { file: tmp });
		expect(s3.requests.filter(r => r.method === "PUT")).toHaveLength(3);
		expect(s3.objects.get("retry/original.mp4")!.body.equals(data)).toBe(true);
	});

	it("retries reads (the SDK's backoff) and gives up after S3_MAX_ATTEMPTS", async () => {
		const st = s3Storage({ maxAttempts: 2 });
		await st.put("r/x.png", Buffer.from("abc"));
		s3.reset();
		s3.failNext(1);
		expect(await st.stat("r/x.png")).toEqual({ size: 3 });
		expect(s3.requests).toHaveLength(2);
		s3.reset();
		s3.failNext(5);
		await expect(st.get("r/x.png")).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
		expect(s3.requests).toHaveLength(2);
	});

	it("times out a slow store and fails the upload cleanly, leaving the temp file to its owner", async () => {
		const st = s3Storage({ timeoutMs: 200, maxAttempts: 2 });
		const tmp = st.tempPath();
		fs.writeFileSync(tmp, Buffer.alloc(1000, 1));
		s3.latencyMs = 1500;
		const started = Date.now();
		await expect(st.put("slow/original.mp4", { file: tmp })).rejects.toMatchObject({
			code: "STORAGE_UNAVAILABLE",
			message: expect.stringMatching(/timeout|Timeout/),
		});
		expect(Date.now() - started).toBeLessThan(1400);
		expect(s3.requests.filter(r => r.method === "PUT")).toHaveLength(2);
		expect(fs.existsSync(tmp)).toBe(true);
		await expect(st.get("slow/original.mp4")).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
		fs.rmSync(tmp);
	});

	it("opens the breaker after consecutive failures, fails fast, then closes after a good trial call", async () => {
		const st = s3Storage({ maxAttempts: 1, breakerThreshold: 3, breakerCooldownMs: 300 });
		await st.put("b/x.png", Buffer.from("abc"));
		// not-found answers are not failures of the store
		for (let i = 0; i < 5; i++) expect(await st.stat("b/missing.png")).toBeNull();
		expect(st.breaker.state).toBe("closed");
		s3.reset();
		s3.failNext(100);
		for (let i = 0; i < 3; i++) await expect(st.stat("b/x.png")).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE" });
		expect(st.breaker.state).toBe("open");
		const reached = s3.requests.length;
		await expect(st.get("b/x.png")).rejects.toMatchObject({ code: "STORAGE_UNAVAILABLE", cause: expect.any(CircuitOpenError) });
		expect(s3.requests.length).toBe(reached); // failed fast: nothing sent
		s3.reset();
		await new Promise(r => setTimeout(r, 350));
		expect(st.breaker.state).toBe("half-open");
		expect(await st.stat("b/x.png")).toEqual({ size: 3 });
		expect(st.breaker.state).toBe("closed");
	});
});

describe("CircuitBreaker", () => {
	it("lets one trial through when half-open; a failed trial opens it again", async () => {
		let now = 0;
		const cb = new CircuitBreaker({ name: "x", threshold: 2, cooldownMs: 100, now: () => now });
		const fail = () => cb.run(() => Promise.reject(new Error("down")));
		await expect(fail()).rejects.toThrow("down");
		expect(cb.state).toBe("closed");
		await expect(fail()).rejects.toThrow("down");
		expect(cb.state).toBe("open");
		await expect(cb.run(async () => 1)).rejects.toBeInstanceOf(CircuitOpenError);
		now = 100;
		expect(cb.state).toBe("half-open");
		let release!: () => void;
		const trial = cb.run(() => new Promise<number>(r => (release = () => r(1))));
		await expect(cb.run(async () => 2)).rejects.toBeInstanceOf(CircuitOpenError);
		release();
		expect(await trial).toBe(1);
		expect(cb.state).toBe("closed");
		await expect(fail()).rejects.toThrow();
		await expect(fail()).rejects.toThrow();
		now = 200;
		await expect(fail()).rejects.toThrow("down"); // the trial failed
		expect(cb.state).toBe("open");
	});
});

describe("S3 configuration", () => {
	it("needs S3_BUCKET when MEDIA_STORAGE=s3, and both keys or neither", () => {
		expect(() => loadConfig({ MEDIA_STORAGE: "s3" })).toThrow("S3_BUCKET: MEDIA_STORAGE 's3' needs S3_BUCKET to be set");
		expect(() => loadConfig({ MEDIA_STORAGE: "s3", S3_BUCKET: "media", S3_ACCESS_KEY_ID: "k" })).toThrow(/^S3_ACCESS_KEY_ID: set both/);
		expect(() => loadConfig({ MEDIA_STORAGE: "s3", S3_BUCKET: "media", S3_ENDPOINT: "ftp://x" })).toThrow(/^S3_ENDPOINT: /);
		expect(() => loadConfig({ MEDIA_STORAGE: "gcs" })).toThrow(/^MEDIA_STORAGE: /);
		const cfg = loadConfig({ MEDIA_STORAGE: "s3", S3_BUCKET: "media", S3_ENDPOINT: "http://127.0.0.1:9000", S3_FORCE_PATH_STYLE: "false" });
		expect(cfg).toMatchObject({
			S3_REGION: "us-east-1",
			S3_TIMEOUT_MS: 5000,
			S3_MAX_ATTEMPTS: 3,
			S3_FORCE_PATH_STYLE: false,
			MEDIA_UNATTACHED_TTL_S: 86400,
		});
		expect(loadConfig({}).MEDIA_STORAGE).toBe("local");
	});
});
