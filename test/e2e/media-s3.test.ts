/**
 * Media over HTTP with MEDIA_STORAGE=s3: the real gateway and services, the AWS SDK against the
 * S3-compatible fake (test/helpers/fake-s3.ts) at the edge. Uploads land as objects (nothing on local disk
 * but the emptied temp folder), serving streams from the bucket with the same ETag/304 behaviour, deleting
 * a post removes its objects, a slow store is a 503 problem rather than a hang, the breaker fails fast, and
 * the sweeper removes uploads never attached to a post.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { startFakeS3, type FakeS3 } from "../helpers/fake-s3";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const TIMEOUT_MS = 250;
const THRESHOLD = 5;
const COOLDOWN_MS = 600;

describe("media over HTTP, stored in S3", () => {
	let p: Platform;
	let s3: FakeS3;
	let dataDir: string;
	const tok = (sub: string) => p.token({ sub, roles: [] });
	const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;
	const keysOf = (id: string) => s3.keys().filter(k => k.startsWith(`${id}/`));
	const media = () => p.broker.getLocalService("media") as any;

	async function upload(data: Buffer, filename: string, token: string) {
		const form = new FormData();
		form.append("file", new Blob([new Uint8Array(data)]), filename);
		const res = await fetch(`${p.baseUrl}/api/media`, { method: "POST", body: form, headers: { authorization: `Bearer ${token}` } });
		const text = await res.text();
		let body: any = text;
		try {
			body = JSON.parse(text);
		} catch {
			/* keep text */
		}
		return { status: res.status, body, headers: res.headers };
	}
	const png = (background = "#0a0") =>
		sharp({ create: { width: 64, height: 48, channels: 3, background } })
			.png()
			.toBuffer();
	function mp4(): Buffer {
		const ftyp = Buffer.alloc(32);
		ftyp.writeUInt32BE(32, 0);
		ftyp.write("ftypisom", 4, "latin1");
		const body = Buffer.alloc(150_000);
		for (let i = 0; i < body.length; i++) body[i] = (i * 31) & 0xff;
		return Buffer.concat([ftyp, body]);
	}
	/** Wait out an open breaker: the next call is a trial that closes it. */
	async function closeBreaker() {
		s3.reset();
		await waitFor(() => media().storage.breaker.state !== "open", { what: "breaker cool-down", timeoutMs: COOLDOWN_MS * 3 });
	}

	// Everything the platform prints, to check that the S3 secret never appears in it.
	const printed: string[] = [];
	beforeAll(async () => {
		for (const m of ["log", "info", "warn", "error", "debug"] as const) {
			const original = console[m].bind(console);
			jest.spyOn(console, m).mockImplementation((...args: unknown[]) => {
				printed.push(args.map(a => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
				original(...args);
			});
		}
		s3 = await startFakeS3({ bucket: "valence-media" });
		dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-media-s3-"));
		p = await startPlatform({
			services: ["social"],
			env: {
				DATA_DIR: dataDir,
				MEDIA_STORAGE: "s3",
				S3_ENDPOINT: s3.endpoint,
				S3_BUCKET: s3.bucket,
				S3_ACCESS_KEY_ID: "AKIDTESTFAKE",
				S3_SECRET_ACCESS_KEY: "fake-secret-not-logged",
				S3_TIMEOUT_MS: String(TIMEOUT_MS),
				S3_MAX_ATTEMPTS: "2",
				S3_BREAKER_THRESHOLD: String(THRESHOLD),
				S3_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS),
				MEDIA_UNATTACHED_TTL_S: "1",
			},
		});
	});
	afterAll(async () => {
		jest.restoreAllMocks();
		await p?.stop();
		await s3?.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	});
	afterEach(() => s3.reset());

	it("stores an image and its variants as objects, nothing on local disk", async () => {
		const res = await upload(await png(), "g.png", tok(uid("alice")));
		expect(res.status).toBe(201);
		const id = res.body.id;
		expect(keysOf(id)).toEqual([`${id}/medium.webp`, `${id}/original.png`, `${id}/thumb.webp`]);
		expect(s3.objects.get(`${id}/original.png`)!.contentType).toBe("image/png");
		expect(s3.objects.get(`${id}/thumb.webp`)!.contentType).toBe("image/webp");
		expect(fs.readdirSync(path.join(dataDir, "media"))).toEqual([".tmp"]);
		expect(fs.readdirSync(path.join(dataDir, "media", ".tmp"))).toEqual([]);
		expect(await media().storage.stat(`${id}/original.png`)).toEqual({ size: res.body.size });
	});

	it("uploads a video by streaming the finished temp file, and serves it back byte for byte", async () => {
		const video = mp4();
		const res = await upload(video, "clip.mp4", tok(uid("erin")));
		expect(res.status).toBe(201);
		expect(res.body).toMatchObject({ kind: "video", mime: "video/mp4", size: video.length });
		expect(s3.objects.get(`${res.body.id}/original.mp4`)!.body.equals(video)).toBe(true);
		expect(s3.requests.filter(r => r.method === "PUT")).toHaveLength(1);
		const served = await fetch(`${p.baseUrl}/media/${res.body.id}`);
		expect(served.status).toBe(200);
		expect(served.headers.get("content-type")).toBe("video/mp4");
		expect(served.headers.get("content-length")).toBe(String(video.length));
		expect(Buffer.from(await served.arrayBuffer()).equals(video)).toBe(true);
		expect(fs.readdirSync(path.join(dataDir, "media", ".tmp"))).toEqual([]);
	});

	it("serves from the bucket with the strong ETag, immutable caching and 304 without touching S3", async () => {
		const res = await upload(await png("#00f"), "b.png", tok(uid("bob")));
		const first = await fetch(`${p.baseUrl}/media/${res.body.id}/thumb`);
		expect(first.status).toBe(200);
		expect(first.headers.get("content-type")).toBe("image/webp");
		expect(first.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		const etag = first.headers.get("etag");
		expect(etag).toBe(`"${res.body.id}.thumb"`);
		expect((await sharp(Buffer.from(await first.arrayBuffer())).metadata()).format).toBe("webp");
		s3.reset();
		const again = await fetch(`${p.baseUrl}/media/${res.body.id}/thumb`, { headers: { "if-none-match": etag! } });
		expect(again.status).toBe(304);
		expect(again.headers.get("etag")).toBe(etag);
		expect(s3.requests).toEqual([]);
		expect((await fetch(`${p.baseUrl}/media/nosuchmedia0000`)).status).toBe(404);
	});

	it("a record whose object is gone is a 404, not an error", async () => {
		const res = await upload(await png("#123"), "gone.png", tok(uid("gus")));
		s3.objects.delete(`${res.body.id}/original.png`);
		const served = await fetch(`${p.baseUrl}/media/${res.body.id}`);
		expect(served.status).toBe(404);
		expect(media().storage.breaker.state).toBe("closed");
	});

	it("deleting the post releases the media: objects and record removed", async () => {
		const alice = uid("alice");
		const m = (await upload(await png("#f0f"), "p.png", tok(alice))).body;
		const post = await p.http("POST", "/api/posts", { token: tok(alice), body: { text: "from s3", mediaIds: [m.id] } });
		expect(post.status).toBe(201);
		expect(keysOf(m.id)).toHaveLength(3);
		expect((await p.http("DELETE", `/api/posts/${post.body.id}`, { token: tok(alice) })).status).toBe(204);
		expect(keysOf(m.id)).toEqual([]);
		expect(await p.broker.call("media.info", { id: m.id })).toBeNull();
		expect((await fetch(`${p.baseUrl}/media/${m.id}`)).status).toBe(404);
	});

	it("a slow store is a clean 503 problem within the timeouts, and a failed upload leaves nothing", async () => {
		// the actions' own timeouts outlast the store's worst case (2 attempts × 250 ms + 2 s), so we answer, not the caller's timeout
		expect(media().schema.actions.serve.timeout).toBe(2500);
		expect(media().schema.actions.upload.timeout).toBe(2000 + 2 * 2500);
		const m = (await upload(await png("#888"), "slow.png", tok(uid("sam")))).body;
		s3.latencyMs = 5000;

		let started = Date.now();
		const served = await fetch(`${p.baseUrl}/media/${m.id}`);
		expect(served.status).toBe(503);
		expect(served.headers.get("content-type")).toMatch(/application\/problem\+json/);
		expect(await served.json()).toMatchObject({ status: 503, code: "SERVICE_UNAVAILABLE" });
		expect(Date.now() - started).toBeLessThan(1500);

		const count = await media().adapter.count();
		started = Date.now();
		const up = await upload(mp4(), "slow.mp4", tok(uid("sam")));
		expect(up.status).toBe(503);
		expect(up.body).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
		expect(JSON.stringify(up.body)).not.toMatch(/fake-secret|AKIDTESTFAKE|127\.0\.0\.1/);
		expect(Date.now() - started).toBeLessThan(2500);
		expect(await media().adapter.count()).toBe(count);
		expect(fs.readdirSync(path.join(dataDir, "media", ".tmp"))).toEqual([]);

		// The store is back: the (late) writes were never committed as media, reads work again.
		s3.reset();
		const ok = await fetch(`${p.baseUrl}/media/${m.id}`);
		expect(ok.status).toBe(200);
		await ok.arrayBuffer();
		expect(media().storage.breaker.state).toBe("closed");
	});

	it("the breaker opens after repeated failures and fails fast, then recovers after the cool-down", async () => {
		const m = (await upload(await png("#0ff"), "cb.png", tok(uid("cora")))).body;
		s3.reset();
		s3.failNext(1000);
		for (let i = 0; i < THRESHOLD; i++) expect((await fetch(`${p.baseUrl}/media/${m.id}`)).status).toBe(503);
		expect(media().storage.breaker.state).toBe("open");
		const reached = s3.requests.length;
		expect(reached).toBe(THRESHOLD * 2); // two attempts each
		const started = Date.now();
		const fast = await fetch(`${p.baseUrl}/media/${m.id}`);
		expect(fast.status).toBe(503);
		expect(await fast.json()).toMatchObject({ code: "SERVICE_UNAVAILABLE" });
		expect(Date.now() - started).toBeLessThan(200);
		expect(s3.requests.length).toBe(reached); // nothing sent while open
		const up = await upload(await png(), "x.png", tok(uid("cora")));
		expect(up.status).toBe(503);
		expect(s3.requests.length).toBe(reached);

		await closeBreaker();
		const ok = await fetch(`${p.baseUrl}/media/${m.id}`);
		expect(ok.status).toBe(200);
		await ok.arrayBuffer();
		expect(media().storage.breaker.state).toBe("closed");
	});

	it("a post deleted while the store fails still goes; its media is detached and left to the sweeper", async () => {
		const alice = uid("alice");
		const m = (await upload(await png("#345"), "d.png", tok(alice))).body;
		const post = await p.http("POST", "/api/posts", { token: tok(alice), body: { text: "store down", mediaIds: [m.id] } });
		expect(post.status).toBe(201);
		s3.failNext(2); // the first delete fails (both attempts)
		expect((await p.http("DELETE", `/api/posts/${post.body.id}`, { token: tok(alice) })).status).toBe(204);
		expect(await p.broker.call("media.info", { id: m.id })).toMatchObject({ postId: null });
		expect(keysOf(m.id).length).toBeGreaterThan(0);
		await new Promise(r => setTimeout(r, 1100));
		expect(((await p.broker.call("media.sweep", {})) as { swept: string[] }).swept).toContain(m.id);
		expect(keysOf(m.id)).toEqual([]);
		expect(await p.broker.call("media.info", { id: m.id })).toBeNull();
	});

	it("sweeps uploads never attached to a post after MEDIA_UNATTACHED_TTL_S, retrying when the store fails", async () => {
		const alice = uid("alice");
		// earlier tests' uploads, once all of them are past the TTL
		await new Promise(r => setTimeout(r, 1100));
		await p.broker.call("media.sweep", {});
		const loose = (await upload(await png("#111"), "loose.png", tok(alice))).body;
		const kept = (await upload(await png("#222"), "kept.png", tok(alice))).body;
		const post = await p.http("POST", "/api/posts", { token: tok(alice), body: { text: "kept", mediaIds: [kept.id] } });
		expect(post.status).toBe(201);
		// too young: nothing swept
		expect(await p.broker.call("media.sweep", {})).toEqual({ swept: [], failed: 0 });
		await new Promise(r => setTimeout(r, 1100));

		s3.failNext(2); // the store fails this sweep (two attempts): the record stays for the next one
		expect(await p.broker.call("media.sweep", {})).toEqual({ swept: [], failed: 1 });
		expect(await p.broker.call("media.info", { id: loose.id })).toMatchObject({ postId: null });
		expect(keysOf(loose.id)).toHaveLength(3);

		expect(await p.broker.call("media.sweep", {})).toEqual({ swept: [loose.id], failed: 0 });
		expect(keysOf(loose.id)).toEqual([]);
		expect(await p.broker.call("media.info", { id: loose.id })).toBeNull();
		expect((await fetch(`${p.baseUrl}/media/${loose.id}`)).status).toBe(404);
		// attached media is never swept
		expect(keysOf(kept.id)).toHaveLength(3);
		expect(await p.broker.call("media.info", { id: kept.id })).toMatchObject({ postId: post.body.id });
	});

	it("never prints the S3 credentials, even when the store fails", () => {
		expect(printed.some(line => line.includes("storage unavailable"))).toBe(true); // failures were logged
		expect(printed.filter(line => /fake-secret-not-logged|AKIDTESTFAKE/.test(line))).toEqual([]);
	});
});
