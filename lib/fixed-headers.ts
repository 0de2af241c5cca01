/**
 * A middleware that only sets the same response headers on every request (helmet, configured once) need
 * not run per request: its header writes are recorded at start-up, and the headers it leaves are validated
 * once and written as one block of lines right after the status line (`headerBlockResponse`). A middleware
 * is recorded only when recording it twice, with two unlike requests, gives the same writes and it calls
 * `next()` at once without an error; anything else (a CSP nonce, a header that depends on the request, an
 * asynchronous step) runs as given.
 *
 * Why a block: Node validates, lower-cases and stores every `setHeader` and then walks them all again to
 * write the head; for helmet's twelve headers that was about 3 µs of each answer (bench/README.md).
 * The block answers like the headers it stands for: a header set or removed later replaces or removes its
 * line, one set before the middleware is replaced by it, and `getHeader`/`hasHeader`/`getHeaders` see the
 * block's headers. Tested against helmet itself: test/unit/fixed-headers.test.ts.
 *
 * The same response class sets the gateway's own per-answer headers (rate limits, the request id) with
 * `setKnownHeader`: their names are checked and lower-cased once (`KnownHeader`), a number needs no check
 * and a string gets Node's check of the value; the header then lands in Node's own store, where
 * `setHeader` would have put it (the gateway's five: 1.3–1.7 µs with `setHeader`, 0.6–0.9 µs so, in a loop over responses).
 */
import { Socket } from "node:net";
import http, { type IncomingMessage, type OutgoingHttpHeader, type OutgoingHttpHeaders, ServerResponse } from "node:http";

type Next = (err?: unknown) => void;
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
type HeaderValue = OutgoingHttpHeader;
type Write = { set: string; value: HeaderValue } | { remove: string };

function record(mw: Middleware, req: object): Write[] | null {
	const writes: Write[] = [];
	const headers = new Map<string, unknown>();
	const res = {
		setHeader(name: string, value: HeaderValue) {
			writes.push({ set: name, value });
			headers.set(name.toLowerCase(), value);
			return res;
		},
		removeHeader(name: string) {
			writes.push({ remove: name });
			headers.delete(name.toLowerCase());
		},
		getHeader: (name: string) => headers.get(name.toLowerCase()),
		hasHeader: (name: string) => headers.has(name.toLowerCase()),
		getHeaders: () => Object.fromEntries(headers),
		headersSent: false,
		statusCode: 200,
		locals: {},
	};
	let done: { err?: unknown } | undefined;
	try {
		// the recording response implements what helmet calls, not the whole ServerResponse type
		mw(req as IncomingMessage, res as unknown as ServerResponse, err => (done = { err }));
	} catch {
		return null;
	}
	return done && !done.err ? writes : null;
}

const requests = [
	{
		method: "GET",
		url: "/api/a",
		headers: { host: "localhost", accept: "application/json" },
		socket: { encrypted: false, remoteAddress: "127.0.0.1" },
	},
	{
		method: "POST",
		url: "/other?x=1",
		headers: { host: "example.test", "user-agent": "x", "x-forwarded-proto": "https" },
		socket: { encrypted: true, remoteAddress: "::1" },
	},
];

/** Headers Node reads while it writes the head (framing, keep-alive, date): always set one by one. */
const READ_BY_NODE = new Set(["connection", "content-length", "transfer-encoding", "keep-alive", "date", "expect", "trailer"]);

/** Header lines validated once, written after the status line: by lower-case name, the header and its lines. */
export class HeaderBlock {
	readonly lines: string;
	private readonly byName: ReadonlyMap<string, { name: string; value: HeaderValue; lines: string }>;

	constructor(headers: Iterable<readonly [string, HeaderValue]>) {
		const byName = new Map<string, { name: string; value: HeaderValue; lines: string }>();
		for (const [name, value] of headers) {
			const lower = name.toLowerCase();
			if (READ_BY_NODE.has(lower)) throw new Error(`'${name}' cannot be part of a header block: Node reads it`);
			const values = Array.isArray(value) ? value : [value];
			for (const v of values) http.validateHeaderValue(name, String(v));
			http.validateHeaderName(name);
			byName.set(lower, { name, value, lines: values.map(v => `${name}: ${v}\r\n`).join("") });
		}
		this.byName = byName;
		this.lines = [...byName.values()].map(h => h.lines).join("");
	}

	/** the block's header names, lower-case */
	get lowerNames(): IterableIterator<string> {
		return this.byName.keys();
	}

	has(lowerName: string): boolean {
		return this.byName.has(lowerName);
	}

	get(name: string): HeaderValue | undefined {
		return this.byName.get(name.toLowerCase())?.value;
	}

	entries(): [string, HeaderValue][] {
		return [...this.byName.values()].map(h => [h.name, h.value]);
	}

	/** this block and `other`'s headers, `other`'s replacing this one's of the same name (two fixed middlewares on one answer) */
	concat(other: HeaderBlock): HeaderBlock {
		return new HeaderBlock([...this.entries(), ...other.entries()]);
	}

	without(name: string): HeaderBlock {
		const lower = name.toLowerCase();
		return new HeaderBlock(this.entries().filter(([n]) => n.toLowerCase() !== lower));
	}

	/** The lines of the headers that `given` (what Node writes besides: `setHeader`'s, or `writeHead`'s object) does not set. */
	linesBesides(given: unknown): string {
		let skip: Set<string> | undefined;
		for (const name of headerNames(given)) {
			const lower = String(name).toLowerCase();
			if (this.byName.has(lower)) (skip ??= new Set()).add(lower);
		}
		return skip ? this.linesWithout(skip) : this.lines;
	}

	/** The same for Node's own header store (lower-case names): a look-up per header of the block. */
	linesBesidesStore(store: Record<string, unknown>): string {
		let skip: Set<string> | undefined;
		for (const lower of this.byName.keys()) if (store[lower] !== undefined) (skip ??= new Set()).add(lower);
		return skip ? this.linesWithout(skip) : this.lines;
	}

	private linesWithout(skip: ReadonlySet<string>): string {
		let lines = "";
		for (const [lower, h] of this.byName) if (!skip.has(lower)) lines += h.lines;
		return lines;
	}
}

/** The names in the headers Node's `_storeHeader` is given: its store (an object), an object, `[name, value][]` or `[name, value, …]`. */
function headerNames(headers: unknown): unknown[] {
	if (!headers || typeof headers !== "object") return [];
	if (!Array.isArray(headers)) return Object.keys(headers);
	return Array.isArray(headers[0]) ? headers.map((h: unknown[]) => h[0]) : headers.filter((_, i) => i % 2 === 0);
}

/** A response header name checked (with Node's own check) and lower-cased once, for `setKnownHeader`. */
export class KnownHeader {
	readonly lower: string;

	constructor(readonly name: string) {
		http.validateHeaderName(name);
		this.lower = name.toLowerCase();
		if (READ_BY_NODE.has(this.lower)) throw new Error(`'${name}' is set with setHeader: Node reads it`);
	}
}

/** What the gateway asks of a response to set a known header cheaply. */
interface TakesKnownHeaders {
	setKnownHeader(header: KnownHeader, value: string | number): void;
}
const takesKnownHeaders = (res: object): res is TakesKnownHeaders => typeof (res as Partial<TakesKnownHeaders>).setKnownHeader === "function";

/** `res.setHeader(header.name, value)`, the same header set for less where the response can (`headerBlockResponse`). */
export function setKnownHeader(res: ServerResponse, header: KnownHeader, value: string | number): void {
	if (takesKnownHeaders(res)) res.setKnownHeader(header, value);
	else res.setHeader(header.name, value);
}

/** Node's method that writes the head (status line, then the headers): internal, so looked up, not typed. */
type StoreHeader = (this: ServerResponse, firstLine: string, headers: unknown) => void;

/** What the middleware asks of a response to hand it a block. */
interface TakesHeaderBlock {
	useHeaderBlock(block: HeaderBlock): void;
}
const takesHeaderBlock = (res: object): res is TakesHeaderBlock => typeof (res as Partial<TakesHeaderBlock>).useHeaderBlock === "function";

/**
 * A `ServerResponse` class (http.createServer's option) that writes a response's header block after its
 * status line, or `Base` itself when Node's head writing is not what this was built on (checked once, here:
 * then the middleware sets the headers one by one, as before).
 */
export function headerBlockResponse<T extends typeof ServerResponse>(Base: T): T {
	const found: unknown = Reflect.get(Base.prototype, "_storeHeader");
	if (typeof found !== "function") return Base;
	const storeHeader = found as StoreHeader;
	// Node's header store (a symbol-keyed object of lower-case names): what `_storeHeader` is given after `setHeader`
	const store = storeSymbol(Base);
	class HeaderBlockResponse extends (Base as typeof ServerResponse) implements TakesHeaderBlock, TakesKnownHeaders {
		headerBlock: HeaderBlock | undefined = undefined;

		/** the block's headers for this answer; ones set before now give way to it, as to `setHeader` */
		useHeaderBlock(block: HeaderBlock): void {
			const own: unknown = store ? Reflect.get(this, store) : super.getHeaders();
			if (own) for (const name of block.lowerNames) if ((own as Record<string, unknown>)[name] !== undefined) super.removeHeader(name);
			this.headerBlock = this.headerBlock ? this.headerBlock.concat(block) : block;
		}

		/** `setHeader` without checking the name again: the entry Node's own `setHeader` stores */
		setKnownHeader(header: KnownHeader, value: string | number): void {
			// sent already, or no store found: Node's path, with its errors
			if (!store || this.headersSent) {
				super.setHeader(header.name, value);
				return;
			}
			// Node's own check of a value's characters (a CR or LF throws ERR_INVALID_CHAR, as setHeader does)
			if (typeof value === "string") http.validateHeaderValue(header.name, value);
			type Store = Record<string, [string, string | number]>;
			let own = Reflect.get(this, store) as Store | null | undefined;
			// Node makes its store on the first header, as an object without a prototype
			if (!own) Reflect.set(this, store, (own = Object.create(null) as Store));
			own[header.lower] = [header.name, value];
		}

		_storeHeader(firstLine: string, headers: unknown): void {
			const block = this.headerBlock;
			if (block)
				firstLine +=
					store && headers && headers === Reflect.get(this, store)
						? block.linesBesidesStore(headers as Record<string, unknown>)
						: block.linesBesides(headers);
			storeHeader.call(this, firstLine, headers);
		}

		override getHeader(name: string) {
			const own = super.getHeader(name);
			return own === undefined && this.headerBlock ? this.headerBlock.get(name) : own;
		}

		override hasHeader(name: string): boolean {
			return super.hasHeader(name) || !!this.headerBlock?.has(name.toLowerCase());
		}

		override getHeaders(): OutgoingHttpHeaders {
			const own = super.getHeaders();
			if (!this.headerBlock) return own;
			const all: OutgoingHttpHeaders = Object.create(null);
			for (const [name, value] of this.headerBlock.entries()) all[name.toLowerCase()] = value;
			return Object.assign(all, own);
		}

		override getHeaderNames(): string[] {
			const own = super.getHeaderNames();
			return this.headerBlock ? [...new Set([...this.headerBlock.lowerNames, ...own])] : own;
		}

		override removeHeader(name: string): void {
			super.removeHeader(name);
			if (this.headerBlock?.has(name.toLowerCase())) this.headerBlock = this.headerBlock.without(name);
		}
	}
	if (!writesBlocks(HeaderBlockResponse)) return Base;
	// the subclass has Base's constructor and instance type (it adds the block and its accessors)
	return HeaderBlockResponse as unknown as T;
}

function storeSymbol(Class: typeof ServerResponse): symbol | undefined {
	const res = new Class(probeRequest());
	res.setHeader("X-Probe", "1");
	return Object.getOwnPropertySymbols(res).find(s => {
		const value: unknown = Reflect.get(res, s);
		return typeof value === "object" && value !== null && "x-probe" in value;
	});
}

function probeRequest(): IncomingMessage {
	const req = new http.IncomingMessage(new Socket());
	req.method = "GET";
	return req;
}

/** Whether a response of `Class` writes its block where the head is written, less what it set itself (Node's `_header`: internal). */
function writesBlocks(Class: new (req: IncomingMessage) => ServerResponse & TakesHeaderBlock): boolean {
	const res = new Class(probeRequest());
	res.useHeaderBlock(
		new HeaderBlock([
			["X-Block", "1"],
			["X-Own", "2"],
		]),
	);
	res.setHeader("X-Own", "1");
	res.writeHead(200);
	return String(Reflect.get(res, "_header")).startsWith("HTTP/1.1 200 OK\r\nX-Block: 1\r\nX-Own: 1\r\n");
}

/** `mw` replayed from a recording of its header writes, or `mw` itself when it does more than that. */
export function fixedHeaders(mw: Middleware): Middleware & { replayed: boolean } {
	const [a, b] = requests.map(r => record(mw, { ...r, headers: { ...r.headers } }));
	if (!a || !b || JSON.stringify(a) !== JSON.stringify(b))
		return Object.assign((req: IncomingMessage, res: ServerResponse, next: Next) => mw(req, res, next), { replayed: false });
	const writes = a;
	// what the middleware leaves: the headers it set last (a block, but for those Node reads) and the ones it removed
	const left = new Map<string, { set: string; value: HeaderValue } | { remove: string }>();
	for (const w of writes) left.set(("set" in w ? w.set : w.remove).toLowerCase(), w);
	const sets = [...left.values()].filter(w => "set" in w);
	const block = new HeaderBlock(sets.filter(w => !READ_BY_NODE.has(w.set.toLowerCase())).map(w => [w.set, w.value] as const));
	const oneByOne = [...left.values()].filter(w => !("set" in w) || READ_BY_NODE.has(w.set.toLowerCase()));
	return Object.assign(
		function fixedHeadersMiddleware(_req: IncomingMessage, res: ServerResponse, next: Next) {
			const each = takesHeaderBlock(res) ? (res.useHeaderBlock(block), oneByOne) : writes;
			for (let i = 0; i < each.length; i++) {
				const w = each[i];
				if ("set" in w) res.setHeader(w.set, w.value);
				else res.removeHeader(w.remove);
			}
			next();
		},
		{ replayed: true },
	);
}
