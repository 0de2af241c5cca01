/**
 * Response compression of the gateway: a JSON answer (`application/json`, `application/problem+json`,
 * any `+json`) of at least `minBytes` is sent brotli- or gzip-compressed when the request's
 * `Accept-Encoding` allows it, with `Content-Encoding`, the compressed `Content-Length` and
 * `Vary: Accept-Encoding`. Everything else passes untouched: streams (media), bodies written in
 * pieces, HEAD, 204/304, answers that already have a `Content-Encoding` or say `no-transform`.
 *
 * node:zlib directly, not the `compression` package: that package is not among this project's
 * dependencies, and it compresses every response type through a stream per request, where a
 * gateway answer is one buffer handed to `res.end` (one asynchronous call on libuv's thread pool
 * here, so a large body does not hold the event loop). Brotli at quality 4: about gzip's speed with
 * a smaller result (brotli's default, 11, costs tens of milliseconds per 100 kB). README: "The gateway"
 * → "Response compression".
 */
import { ServerResponse } from "node:http";
import zlib from "node:zlib";

export type Encoding = "br" | "gzip";

export interface CompressionOptions {
	/** the encodings offered, the preferred first */
	encodings: Encoding[];
	/** smaller bodies go as they are (compressing them costs more than it saves) */
	minBytes: number;
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

/**
 * The encoding to answer with: of `offered`, the one `Accept-Encoding` gives the highest q (> 0),
 * ties to the order of `offered`; `*` stands for any encoding it does not name. Undefined: none.
 */
export function negotiate(header: string | undefined, offered: readonly Encoding[]): Encoding | undefined {
	if (!header || !offered.length) return undefined;
	const q = new Map<string, number>();
	for (const part of header.split(",")) {
		const [name, ...params] = part.trim().toLowerCase().split(";");
		if (!name) continue;
		let weight = 1;
		for (const p of params) {
			const m = /^\s*q\s*=\s*([\d.]+)\s*$/.exec(p);
			if (m) weight = Number(m[1]);
		}
		if (!Number.isNaN(weight)) q.set(name.trim(), Math.max(q.get(name.trim()) ?? 0, weight));
	}
	let best: Encoding | undefined;
	let bestQ = 0;
	for (const enc of offered) {
		const weight = q.get(enc) ?? q.get("*") ?? 0;
		if (weight > bestQ) {
			best = enc;
			bestQ = weight;
		}
	}
	return best;
}

function compress(encoding: Encoding, body: Buffer, done: (err: Error | null, out: Buffer) => void): void {
	if (encoding === "br")
		zlib.brotliCompress(
			body,
			{
				params: {
					[zlib.constants.BROTLI_PARAM_QUALITY]: 4,
					[zlib.constants.BROTLI_PARAM_MODE]: zlib.constants.BROTLI_MODE_TEXT,
					[zlib.constants.BROTLI_PARAM_SIZE_HINT]: body.length,
				},
			},
			done,
		);
	else zlib.gzip(body, { level: 6 }, done);
}

function addVary(res: ServerResponse): void {
	const vary = res.getHeader("Vary");
	const current = Array.isArray(vary) ? vary.join(", ") : vary === undefined ? "" : String(vary);
	if (current === "*" || /(^|,)\s*accept-encoding\s*(,|$)/i.test(current)) return;
	res.setHeader("Vary", current ? `${current}, Accept-Encoding` : "Accept-Encoding");
}

/**
 * The gateway's response class (http.createServer's `ServerResponse` option): `end` compresses a JSON
 * answer when its request's `Accept-Encoding` allows it. A class, not a per-request wrap of `res.end`:
 * replacing a method on each response changed every response object's shape, and Node's HTTP code then
 * ran measurably slower for every answer (about 20 µs per request in the benchmark), compressed or not.
 * The encoding is chosen here too, from `this.req`, rather than by a middleware of every route: an answer
 * to a client that sends no `Accept-Encoding` costs one property read.
 */
export function compressingResponse(opts: CompressionOptions, Base: typeof ServerResponse = ServerResponse) {
	// clients send a handful of distinct Accept-Encoding values: each is parsed once
	const known = new Map<string, Encoding | undefined>();
	const chosen = (header: string): Encoding | undefined => {
		if (known.has(header)) return known.get(header);
		const encoding = negotiate(header, opts.encodings);
		if (known.size < 256) known.set(header, encoding);
		return encoding;
	};
	class CompressingResponse extends Base {
		/** set (on this response only) while its body is being compressed: a second `end` meanwhile is not compressed again */
		declare compressing: boolean;

		override end(chunk?: any, enc?: any, cb?: any): this {
			const header = this.req?.headers["accept-encoding"];
			if (!header || this.compressing) return super.end(chunk, enc, cb);
			// a body written in pieces (a stream) has sent its headers with the first piece
			if (chunk == null || typeof chunk === "function" || this.headersSent || this.req.method === "HEAD") return super.end(chunk, enc, cb);
			const encoding = chosen(header);
			if (encoding === undefined) return super.end(chunk, enc, cb);
			const type = this.getHeader("Content-Type");
			if (typeof type !== "string" || !JSON_TYPE.test(type)) return super.end(chunk, enc, cb);
			if (this.statusCode < 200 || this.statusCode === 204 || this.statusCode === 304 || this.hasHeader("Content-Encoding"))
				return super.end(chunk, enc, cb);
			if (/\bno-transform\b/i.test(String(this.getHeader("Cache-Control") ?? ""))) return super.end(chunk, enc, cb);
			addVary(this);
			const body = Buffer.isBuffer(chunk)
				? chunk
				: typeof chunk === "string"
					? Buffer.from(chunk, typeof enc === "string" ? (enc as BufferEncoding) : "utf8")
					: null;
			if (!body || body.length < opts.minBytes) return super.end(chunk, enc, cb);
			const callback = typeof enc === "function" ? enc : cb;
			this.compressing = true;
			compress(encoding, body, (err, out) => {
				// a failed compression (never seen) still answers, uncompressed
				if (err || this.headersSent || this.destroyed) {
					super.end(body, callback);
					return;
				}
				this.setHeader("Content-Encoding", encoding);
				this.setHeader("Content-Length", out.length);
				super.end(out, callback);
			});
			return this;
		}
	}
	// on the prototype, so that every response has the same shape; only one being compressed gets its own
	CompressingResponse.prototype.compressing = false;
	return CompressingResponse;
}
