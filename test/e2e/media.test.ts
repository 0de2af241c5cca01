/**
 * Media over HTTP: multipart upload with limits enforced while streaming, type by content, sharp
 * processing (orientation, metadata stripped, variants), public serving with ETag/304, and the link
 * with posts (only the uploader attaches; deleting the post releases the files).
 * Fixtures are generated here with sharp, never committed.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";
import { startPlatform, type Platform } from "../helpers/platform";
import { waitFor } from "../helpers/wait";

const MAX = 200_000;

describe("media over HTTP", () => {
	let p: Platform;
	let dataDir: string;
	const mediaDir = () => path.join(dataDir, "media");
	const tok = (sub: string) => p.token({ sub, roles: [] });
	const uid = (name: string) => `${name}-${randomUUID().slice(0, 8)}`;

	async function upload(data: Buffer, filename: string, mimetype: string, token?: string) {
		const form = new FormData();
		form.append("file", new Blob([new Uint8Array(data)], { type: mimetype }), filename);
		const res = await fetch(`${p.baseUrl}/api/media`, { method: "POST", body: form, headers: token ? { authorization: `Bearer ${token}` } : {} });
		const text = await res.text();
		let body: any = text;
		try {
			body = JSON.parse(text);
		} catch {
			/* keep text */
		}
		return { status: res.status, headers: res.headers, body };
	}
	const storedEntries = () => fs.readdirSync(mediaDir()).filter(f => f !== ".tmp");
	const tmpEntries = () => fs.readdirSync(path.join(mediaDir(), ".tmp"));
	const mediaCount = () => (p.broker.getLocalService("media") as any).adapter.count();

	beforeAll(async () => {
		dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "valence-media-"));
		p = await startPlatform({ services: ["social"], env: { DATA_DIR: dataDir, MEDIA_MAX_BYTES: String(MAX), MEDIA_UNATTACHED_TTL_S: "1" } });
	});
	afterAll(async () => {
		await p.stop();
		fs.rmSync(dataDir, { recursive: true, force: true });
	});

	it("stores a JPEG upright, without metadata, with thumb and medium variants", async () => {
		const jpeg = await sharp({ create: { width: 1200, height: 900, channels: 3, background: { r: 200, g: 40, b: 40 } } })
			.jpeg()
			.withMetadata({ orientation: 6 })
			.toBuffer();
		expect((await sharp(jpeg).metadata()).orientation).toBe(6);
		const res = await upload(jpeg, "holiday.jpg", "image/jpeg", tok(uid("alice")));
		expect(res.status).toBe(201);
		expect(res.headers.get("location")).toBe(`/media/${res.body.id}`);
		expect(res.body).toMatchObject({ kind: "image", mime: "image/jpeg", width: 900, height: 1200, url: `/media/${res.body.id}` });
		expect(res.body.id).toMatch(/^[\w-]{28}$/);

		const original = await fetch(`${p.baseUrl}/media/${res.body.id}`);
		expect(original.status).toBe(200);
		expect(original.headers.get("content-type")).toBe("image/jpeg");
		expect(original.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
		const bytes = Buffer.from(await original.arrayBuffer());
		const meta = await sharp(bytes).metadata();
		expect([meta.width, meta.height]).toEqual([900, 1200]);
		expect(meta.orientation).toBeUndefined();
		expect(meta.exif).toBeUndefined();

		for (const [variant, px] of [
			["thumb", 200],
			["medium", 800],
		] as const) {
			const v = await fetch(`${p.baseUrl}/media/${res.body.id}/${variant}`);
			expect(v.status).toBe(200);
			expect(v.headers.get("content-type")).toBe("image/webp");
			const vm = await sharp(Buffer.from(await v.arrayBuffer())).metadata();
			expect(Math.max(vm.width!, vm.height!)).toBe(px);
		}
		expect((await fetch(`${p.baseUrl}/media/${res.body.id}/huge`)).status).toBe(422);
	});

	it("serves with a strong ETag and answers 304 to If-None-Match", async () => {
		const png = await sharp({ create: { width: 40, height: 30, channels: 4, background: { r: 0, g: 0, b: 255, alpha: 1 } } })
			.png()
			.toBuffer();
		const res = await upload(png, "dot.png", "image/png", tok(uid("bob")));
		expect(res.status).toBe(201);
		const first = await fetch(`${p.baseUrl}/media/${res.body.id}`);
		const etag = first.headers.get("etag");
		expect(etag).toMatch(/^"[\w.-]+"$/);
		await first.arrayBuffer();
		const again = await fetch(`${p.baseUrl}/media/${res.body.id}`, { headers: { "if-none-match": etag! } });
		expect(again.status).toBe(304);
		expect(again.headers.get("etag")).toBe(etag);
		expect((await again.arrayBuffer()).byteLength).toBe(0);
		const other = await fetch(`${p.baseUrl}/media/${res.body.id}`, { headers: { "if-none-match": '"something-else"' } });
		expect(other.status).toBe(200);
		await other.arrayBuffer();
		expect((await fetch(`${p.baseUrl}/media/doesnotexist123`)).status).toBe(404);
	});

	it("decides the type by content: a text file named .jpg is a 415 and nothing is stored", async () => {
		const before = storedEntries().length;
		const count = await mediaCount();
		const res = await upload(Buffer.from("this is not an image at all\n".repeat(10)), "photo.jpg", "image/jpeg", tok(uid("carol")));
		expect(res.status).toBe(415);
		expect(res.body.code).toBe("UNSUPPORTED_MEDIA_TYPE");
		// a JPEG header with garbage behind it is not an image either
		const fake = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(2000, 7)]);
		expect((await upload(fake, "x.jpg", "image/jpeg", tok(uid("carol")))).status).toBe(415);
		expect(storedEntries().length).toBe(before);
		expect(await mediaCount()).toBe(count);
		await waitFor(() => tmpEntries().length === 0, { what: "temp files removed" });
	});

	it("cuts an oversize upload off with 413 and stores nothing", async () => {
		const before = storedEntries().length;
		const count = await mediaCount();
		const big = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(MAX * 3, 1)]);
		const res = await upload(big, "big.jpg", "image/jpeg", tok(uid("dave")));
		expect(res.status).toBe(413);
		expect(res.body.code).toBe("PAYLOAD_TOO_LARGE");
		await waitFor(() => tmpEntries().length === 0, { what: "temp file removed" });
		expect(storedEntries().length).toBe(before);
		expect(await mediaCount()).toBe(count);
	});

	it("accepts WebP and (animated) GIF images, whatever their declared name and type", async () => {
		const webp = await sharp({ create: { width: 300, height: 100, channels: 3, background: "#123456" } })
			.webp()
			.toBuffer();
		const w = await upload(webp, "file.png", "image/png", tok(uid("gina")));
		expect(w.status).toBe(201);
		expect(w.body).toMatchObject({ mime: "image/webp", width: 300, height: 100 });
		const frame = (background: string) =>
			sharp({ create: { width: 20, height: 40, channels: 4, background } })
				.png()
				.toBuffer();
		const gif = await sharp([await frame("#ff0000ff"), await frame("#00ff00ff")], { join: { animated: true } })
			.gif()
			.toBuffer();
		const g = await upload(gif, "anim", "text/plain", tok(uid("gina")));
		expect(g.status).toBe(201);
		expect(g.body).toMatchObject({ mime: "image/gif", width: 20, height: 40 });
		const served = await fetch(`${p.baseUrl}/media/${g.body.id}`);
		expect((await sharp(Buffer.from(await served.arrayBuffer()), { animated: true }).metadata()).pages).toBe(2);
	});

	it("accepts a short video by its container signature", async () => {
		const ftyp = Buffer.alloc(32);
		ftyp.writeUInt32BE(32, 0);
		ftyp.write("ftypisom", 4, "latin1");
		// moov > mvhd (version 0): timescale 1000, duration 2500 → 2.5 s
		const mvhd = Buffer.alloc(8 + 100);
		mvhd.writeUInt32BE(mvhd.length, 0);
		mvhd.write("mvhd", 4, "latin1");
		mvhd.writeUInt32BE(1000, 8 + 12);
		mvhd.writeUInt32BE(2500, 8 + 16);
		const moov = Buffer.concat([Buffer.alloc(8), mvhd]);
		moov.writeUInt32BE(moov.length, 0);
		moov.write("moov", 4, "latin1");
		const mp4 = Buffer.concat([ftyp, moov, Buffer.alloc(1000, 0)]);
		const res = await upload(mp4, "clip.bin", "application/octet-stream", tok(uid("erin")));
		expect(res.status).toBe(201);
		expect(res.body).toMatchObject({ kind: "video", mime: "video/mp4", size: mp4.length, duration: 2.5 });
		const served = await fetch(`${p.baseUrl}/media/${res.body.id}`);
		expect(served.headers.get("content-type")).toBe("video/mp4");
		expect(Buffer.from(await served.arrayBuffer()).equals(mp4)).toBe(true);
	});

	it("needs a token to upload", async () => {
		const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: "#fff" } })
			.png()
			.toBuffer();
		expect((await upload(png, "a.png", "image/png")).status).toBe(401);
	});

	it("lets only the uploader attach media to a post; deleting the post releases the files", async () => {
		const alice = uid("alice");
		const bob = uid("bob");
		const png = await sharp({ create: { width: 64, height: 64, channels: 3, background: "#0a0" } })
			.png()
			.toBuffer();
		const media = (await upload(png, "g.png", "image/png", tok(alice))).body;
		const stolen = await p.http("POST", "/api/posts", { token: tok(bob), body: { text: "mine now", mediaIds: [media.id] } });
		expect(stolen.status).toBe(404);
		const missing = await p.http("POST", "/api/posts", { token: tok(alice), body: { text: "ghost", mediaIds: ["nosuchmedia00000"] } });
		expect(missing.status).toBe(404);
		const post = await p.http("POST", "/api/posts", { token: tok(alice), body: { text: "with picture", mediaIds: [media.id] } });
		expect(post.status).toBe(201);
		expect(post.body.mediaIds).toEqual([media.id]);
		// once attached, it cannot be attached to another post
		expect((await p.http("POST", "/api/posts", { token: tok(alice), body: { text: "again", mediaIds: [media.id] } })).status).toBe(409);

		expect(fs.existsSync(path.join(mediaDir(), media.id))).toBe(true);
		expect((await p.http("DELETE", `/api/posts/${post.body.id}`, { token: tok(alice) })).status).toBe(204);
		expect((await fetch(`${p.baseUrl}/media/${media.id}`)).status).toBe(404);
		expect(fs.existsSync(path.join(mediaDir(), media.id))).toBe(false);
		expect(await p.broker.call("media.info", { id: media.id })).toBeNull();
	});

	it("swapping a post's media releases the old and attaches the new", async () => {
		const alice = uid("alice");
		const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#abc" } })
			.png()
			.toBuffer();
		const a = (await upload(png, "a.png", "image/png", tok(alice))).body;
		const b = (await upload(png, "b.png", "image/png", tok(alice))).body;
		const post = await p.http("POST", "/api/posts", { token: tok(alice), body: { text: "swap", mediaIds: [a.id] } });
		const swapped = await p.http("PUT", `/api/posts/${post.body.id}`, { token: tok(alice), body: { mediaIds: [b.id] } });
		expect(swapped.status).toBe(200);
		expect(swapped.body.mediaIds).toEqual([b.id]);
		expect((await fetch(`${p.baseUrl}/media/${a.id}`)).status).toBe(404);
		expect(await p.broker.call("media.info", { id: b.id })).toMatchObject({ postId: post.body.id });
	});

	it("sweeps uploads never attached to a post once MEDIA_UNATTACHED_TTL_S has passed: files and record", async () => {
		const alice = uid("alice");
		const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: "#def" } })
			.png()
			.toBuffer();
		const loose = (await upload(png, "loose.png", "image/png", tok(alice))).body;
		const kept = (await upload(png, "kept.png", "image/png", tok(alice))).body;
		expect((await p.http("POST", "/api/posts", { token: tok(alice), body: { text: "kept", mediaIds: [kept.id] } })).status).toBe(201);
		const first = (await p.broker.call("media.sweep", {})) as { swept: string[] };
		expect(first.swept).not.toContain(loose.id); // too young
		expect(fs.existsSync(path.join(mediaDir(), loose.id))).toBe(true);

		await new Promise(r => setTimeout(r, 1100));
		const second = (await p.broker.call("media.sweep", {})) as { swept: string[]; failed: number };
		expect(second.swept).toContain(loose.id);
		expect(second.swept).not.toContain(kept.id);
		expect(second.failed).toBe(0);
		expect(fs.existsSync(path.join(mediaDir(), loose.id))).toBe(false);
		expect(await p.broker.call("media.info", { id: loose.id })).toBeNull();
		expect((await fetch(`${p.baseUrl}/media/${loose.id}`)).status).toBe(404);
		expect(fs.existsSync(path.join(mediaDir(), kept.id))).toBe(true);
		expect((await fetch(`${p.baseUrl}/media/${kept.id}/thumb`)).status).toBe(200);
		// nothing left to do
		expect(await p.broker.call("media.sweep", {})).toEqual({ swept: [], failed: 0 });
	});
});
