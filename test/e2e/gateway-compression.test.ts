/**
 * Response compression (lib/compression.ts, README "The gateway" → "Response compression"): JSON answers
 * of at least COMPRESSION_MIN_BYTES go brotli or gzip as the client asks, decode to exactly the
 * uncompressed answer and say `Vary: Accept-Encoding`; small ones, HEAD and clients that accept
 * neither get the plain body. Also: METRICS_TOKEN comes from the validated configuration.
 */
import http from "node:http";
import zlib from "node:zlib";
import { negotiate } from "../../lib/compression";
import { InvalidInputError } from "../../lib/errors";
import { startPlatform, type Platform } from "../helpers/platform";

interface Raw {
	status: number;
	headers: http.IncomingHttpHeaders;
	body: Buffer;
}

function raw(base: string, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Raw> {
	return new Promise((resolve, reject) => {
		const req = http.request(base + path, { method, headers }, res => {
			const chunks: Buffer[] = [];
			res.on("data", c => chunks.push(c));
			res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
		});
		req.on("error", reject);
		req.end();
	});
}

describe("negotiate", () => {
	const both = ["br", "gzip"] as const;
	it.each([
		["gzip, deflate, br", "br"],
		["gzip", "gzip"],
		["br;q=0.5, gzip", "gzip"],
		["gzip;q=0, br;q=0", undefined],
		["identity", undefined],
		["*", "br"],
		["*;q=0.1, br;q=0", "gzip"],
		["", undefined],
		["GZIP ; q=0.8", "gzip"],
	])("%j → %s", (header, want) => {
		expect(negotiate(header, [...both])).toBe(want);
	});
	it("prefers the server's order on equal weights", () => {
		expect(negotiate("br, gzip", ["gzip", "br"])).toBe("gzip");
	});
});

// answers large enough to be compressed, and one error that becomes a large problem+json
const fields = Array.from({ length: 60 }, (_, i) => ({
	field: `field${i}`,
	message: `The 'field${i}' field must be a string of at most 64 characters.`,
}));
const big = {
	name: "bigjson",
	actions: {
		list: { rest: "GET /list", auth: "public", params: { $$strict: "remove" }, handler: () => ({ rows: fields }) },
		refuse: {
			rest: "GET /refuse",
			auth: "public",
			params: { $$strict: "remove" },
			handler: () => {
				throw new InvalidInputError("Sixty fields are wrong.", fields);
			},
		},
	},
};

describe("gateway response compression", () => {
	const metricsToken = "scrape-token-for-the-compression-test";
	let p: Platform;
	let plain: Raw;
	beforeAll(async () => {
		// the caller's address comes from X-Forwarded-For (trusted from loopback): a remote scraper
		p = await startPlatform({
			services: ["greeter"],
			extra: [big as never],
			env: { COMPRESSION: "br,gzip", COMPRESSION_MIN_BYTES: "1024", METRICS_TOKEN: metricsToken, TRUSTED_PROXIES: "loopback" },
		});
		plain = await raw(p.baseUrl, "/api/bigjson/list");
	});
	afterAll(() => p.stop());

	it("sends a large JSON answer plain to a client that accepts no encoding", () => {
		expect(plain.status).toBe(200);
		expect(plain.headers["content-encoding"]).toBeUndefined();
		expect(plain.body.length).toBeGreaterThan(4096);
		expect(plain.headers.vary ?? "").not.toMatch(/accept-encoding/i);
		expect(() => JSON.parse(plain.body.toString())).not.toThrow();
	});

	it.each([
		["br", "br", (b: Buffer) => zlib.brotliDecompressSync(b)],
		["gzip", "gzip", (b: Buffer) => zlib.gunzipSync(b)],
		["gzip, deflate, br", "br", (b: Buffer) => zlib.brotliDecompressSync(b)],
		["br;q=0, gzip", "gzip", (b: Buffer) => zlib.gunzipSync(b)],
	])("Accept-Encoding %j: %s, the same JSON, smaller, with Vary and its own length", async (accept, encoding, decode) => {
		const res = await raw(p.baseUrl, "/api/bigjson/list", { "accept-encoding": accept });
		expect(res.status).toBe(200);
		expect(res.headers["content-encoding"]).toBe(encoding);
		expect(res.headers.vary).toMatch(/accept-encoding/i);
		expect(Number(res.headers["content-length"])).toBe(res.body.length);
		expect(res.body.length).toBeLessThan(plain.body.length / 5);
		expect(decode(res.body).equals(plain.body)).toBe(true);
		// the gateway's own headers are all still there
		expect(res.headers["x-request-id"]).toBeTruthy();
		expect(res.headers["content-type"]).toMatch(/^application\/json/);
		expect(res.headers["x-content-type-options"]).toBe("nosniff");
	});

	it("leaves answers and problem details under COMPRESSION_MIN_BYTES as they are", async () => {
		const small = await raw(p.baseUrl, "/health", { "accept-encoding": "br, gzip" });
		expect(small.status).toBe(200);
		expect(small.headers["content-encoding"]).toBeUndefined();
		expect(JSON.parse(small.body.toString())).toEqual({ status: "ok" });
		expect(small.headers.vary).toMatch(/accept-encoding/i);
		const missing = await raw(p.baseUrl, "/api/greeter/nothing-here", { "accept-encoding": "br, gzip" });
		expect(missing.status).toBe(404);
		expect(missing.headers["content-encoding"]).toBeUndefined();
		expect(JSON.parse(missing.body.toString()).code).toBe("NOT_FOUND");
	});

	it("compresses a large problem+json answer too", async () => {
		const res = await raw(p.baseUrl, "/api/bigjson/refuse", { "accept-encoding": "gzip" });
		expect(res.status).toBe(422);
		expect(res.headers["content-type"]).toMatch(/^application\/problem\+json/);
		expect(res.headers["content-encoding"]).toBe("gzip");
		const problem = JSON.parse(zlib.gunzipSync(res.body).toString());
		expect(problem).toMatchObject({ status: 422, errors: fields });
		expect(problem.requestId).toBe(res.headers["x-request-id"]);
	});

	it("sends HEAD without a body or an encoding", async () => {
		const res = await raw(p.baseUrl, "/api/bigjson/list", { "accept-encoding": "br" }, "HEAD");
		expect(res.headers["content-encoding"]).toBeUndefined();
		expect(res.body.length).toBe(0);
	});

	it("through fetch (which asks for br and gzip), every answer reads as before", async () => {
		const doc = await p.http("GET", "/api/bigjson/list");
		expect(doc.status).toBe(200);
		expect(doc.headers.get("content-encoding")).toMatch(/^(br|gzip)$/);
		expect(doc.body).toEqual(JSON.parse(plain.body.toString()));
	});

	it("METRICS_TOKEN (validated configuration) lets a remote scraper in, and only with it", async () => {
		const remote = { "x-forwarded-for": "203.0.113.7" };
		expect((await raw(p.baseUrl, "/metrics", remote)).status).toBe(401);
		expect((await raw(p.baseUrl, "/metrics", { ...remote, authorization: "Bearer wrong-token-of-the-same-size-xxxxxx" })).status).toBe(401);
		const ok = await raw(p.baseUrl, "/metrics", { ...remote, authorization: `Bearer ${metricsToken}`, "accept-encoding": "gzip" });
		expect(ok.status).toBe(200);
		// Prometheus text is not JSON: never compressed here
		expect(ok.headers["content-encoding"]).toBeUndefined();
		expect(ok.body.toString()).toMatch(/^# (HELP|TYPE) /m);
	});
});
