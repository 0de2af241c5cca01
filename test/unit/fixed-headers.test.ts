/** Replaying a header-only middleware gives exactly the headers running it gives. */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import { Socket, type AddressInfo } from "node:net";
import helmet from "helmet";
import { fixedHeaders, HeaderBlock, headerBlockResponse, KnownHeader, setKnownHeader, type Middleware } from "../../lib/fixed-headers";

const BlockResponse = headerBlockResponse(http.ServerResponse);

/** The raw header lines a middleware leaves on a real response (of the gateway's response class with `blocks`). */
async function headersOf(mw: Middleware, blocks = false): Promise<string[]> {
	const handler = (req: IncomingMessage, res: ServerResponse) => {
		res.setHeader("X-Powered-By", "test");
		mw(req, res, () => res.end("{}"));
	};
	const server = blocks ? http.createServer({ ServerResponse: BlockResponse }, handler) : http.createServer(handler);
	await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
	try {
		const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
		await res.text();
		return [...res.headers.entries()]
			.filter(([k]) => !["date", "connection", "keep-alive", "content-length"].includes(k))
			.map(([k, v]) => `${k}: ${v}`);
	} finally {
		server.close();
	}
}

describe("fixed headers", () => {
	it.each([
		["helmet's defaults", () => helmet()],
		[
			"the gateway's helmet",
			() =>
				helmet({
					contentSecurityPolicy: {
						directives: {
							defaultSrc: ["'self'"],
							imgSrc: ["'self'", "data:"],
							styleSrc: ["'self'", "'unsafe-inline'"],
							scriptSrc: ["'self'"],
							upgradeInsecureRequests: null,
						},
					},
					crossOriginEmbedderPolicy: false,
				}),
		],
	])("replays %s with the very same headers", async (_name, make) => {
		const original = make() as unknown as Middleware;
		const replayed = fixedHeaders(make() as unknown as Middleware);
		expect(replayed.replayed).toBe(true);
		const want = await headersOf(original);
		expect(want.length).toBeGreaterThan(10);
		expect(want.some(h => h.startsWith("x-powered-by"))).toBe(false);
		expect(await headersOf(replayed)).toEqual(want);
		expect(await headersOf(replayed, true)).toEqual(want);
	});

	it("runs a middleware whose headers depend on the request, or that uses a nonce, as it is", async () => {
		const perRequest: Middleware = (req, res, next) => {
			res.setHeader("X-Echo", String(req.url));
			next();
		};
		expect(fixedHeaders(perRequest).replayed).toBe(false);
		const nonce = helmet({
			contentSecurityPolicy: { directives: { scriptSrc: ["'self'", () => `'nonce-${Math.random()}'`] } },
		}) as unknown as Middleware;
		expect(fixedHeaders(nonce).replayed).toBe(false);
		const later: Middleware = (_req, res, next) => {
			res.setHeader("X-Later", "1");
			setImmediate(next);
		};
		expect(fixedHeaders(later).replayed).toBe(false);
		const failing: Middleware = (_req, _res, next) => next(new Error("no"));
		expect(fixedHeaders(failing).replayed).toBe(false);
		// not replayed, still run
		expect(await headersOf(fixedHeaders(perRequest))).toContain("x-echo: /");
	});

	describe("as a block after the status line", () => {
		// helmet's handler is typed for Express requests; the middleware takes plain node ones
		const gatewayHelmet = () => fixedHeaders(helmet({ crossOriginEmbedderPolicy: false }) as unknown as Middleware);

		/** One answer of a server of the block class: `handle` runs after the replayed helmet; the raw header lines. */
		async function answer(handle: (res: ServerResponse) => void, before: (res: ServerResponse) => void = () => {}, mw = gatewayHelmet()) {
			const server = http.createServer({ ServerResponse: BlockResponse }, (req, res) => {
				before(res);
				mw(req, res, () => {
					handle(res);
					if (!res.headersSent) res.end("{}");
				});
			});
			await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
			try {
				const port = (server.address() as AddressInfo).port;
				return await new Promise<string[]>((resolve, reject) =>
					http
						.get({ host: "127.0.0.1", port, path: "/", agent: false }, res => {
							res.resume();
							const lines: string[] = [];
							for (let i = 0; i < res.rawHeaders.length; i += 2)
								lines.push(`${res.rawHeaders[i].toLowerCase()}: ${res.rawHeaders[i + 1]}`);
							res.on("end", () => resolve(lines));
						})
						.on("error", reject),
				);
			} finally {
				server.close();
			}
		}
		const named = (lines: string[], name: string) => lines.filter(l => l.startsWith(`${name}: `));

		it("is what this Node writes: the gateway's response class is not Node's own", () => {
			// if a Node upgrade changed how the head is written, the class falls back to Node's, and this fails
			expect(BlockResponse).not.toBe(http.ServerResponse);
		});

		it("gives way to a header the handler sets, removes or writes with writeHead", async () => {
			const set = await answer(res => res.setHeader("X-Frame-Options", "DENY"));
			expect(named(set, "x-frame-options")).toEqual(["x-frame-options: DENY"]);
			const removed = await answer(res => res.removeHeader("X-Frame-Options"));
			expect(named(removed, "x-frame-options")).toEqual([]);
			expect(named(removed, "x-content-type-options")).toEqual(["x-content-type-options: nosniff"]);
			const head = await answer(res => res.writeHead(200, { "x-frame-options": "DENY", "Referrer-Policy": "origin" }).end());
			expect(named(head, "x-frame-options")).toEqual(["x-frame-options: DENY"]);
			expect(named(head, "referrer-policy")).toEqual(["referrer-policy: origin"]);
			const array = await answer(res => res.writeHead(200, ["X-Frame-Options", "DENY"]).end());
			expect(named(array, "x-frame-options")).toEqual(["x-frame-options: DENY"]);
		});

		it("replaces a header set before the middleware, as helmet does", async () => {
			const lines = await answer(
				() => {},
				res => res.setHeader("X-Frame-Options", "ALLOWALL"),
			);
			expect(named(lines, "x-frame-options")).toEqual(["x-frame-options: SAMEORIGIN"]);
		});

		it("is seen by getHeader, hasHeader, getHeaders and getHeaderNames", async () => {
			let seen: unknown;
			await answer(res => {
				res.setHeader("Content-Type", "application/json");
				seen = {
					one: res.getHeader("x-frame-options"),
					has: res.hasHeader("X-Content-Type-Options"),
					all: res.getHeaders(),
					names: res.getHeaderNames(),
				};
			});
			expect(seen).toMatchObject({
				one: "SAMEORIGIN",
				has: true,
				all: { "x-frame-options": "SAMEORIGIN", "content-type": "application/json" },
			});
			expect((seen as { names: string[] }).names).toEqual(expect.arrayContaining(["x-frame-options", "content-type"]));
		});

		it("validates its headers once, and leaves the ones Node reads to setHeader", () => {
			expect(() => new HeaderBlock([["X-Bad", "a\r\nInjected: 1"]])).toThrow();
			expect(() => new HeaderBlock([["Bad Name", "1"]])).toThrow();
			expect(() => new HeaderBlock([["Connection", "close"]])).toThrow(/Node reads it/);
			const closing = fixedHeaders((_req, res, next) => {
				res.setHeader("Connection", "close");
				res.setHeader("X-A", "1");
				next();
			});
			return answer(() => {}, undefined, closing).then(lines => {
				expect(named(lines, "x-a")).toEqual(["x-a: 1"]);
				expect(named(lines, "connection")).toEqual(["connection: close"]);
			});
		});
	});

	describe("known headers (setKnownHeader)", () => {
		const probe = () => {
			const req = new http.IncomingMessage(new Socket());
			req.method = "GET";
			return req;
		};
		const LIMIT = new KnownHeader("RateLimit-Limit");
		const ID = new KnownHeader("X-Request-ID");

		/** the head a response of `Class` writes after `set`, and what its accessors answer */
		function headOf(Class: typeof ServerResponse, set: (res: ServerResponse) => void) {
			const res = new Class(probe());
			set(res);
			const seen = { limit: res.getHeader("ratelimit-limit"), has: res.hasHeader("X-Request-ID"), names: res.getHeaderNames() };
			res.writeHead(200);
			return { head: String(Reflect.get(res, "_header")), seen };
		}

		it("writes the very head, and answers getHeader and the others, as setHeader", () => {
			const bySetHeader = headOf(http.ServerResponse, res => {
				res.setHeader("X-Early", "1");
				res.setHeader("RateLimit-Limit", 600);
				res.setHeader("X-Request-ID", "abc-1");
				res.setHeader("RateLimit-Limit", 100); // a second limit replaces the first
			});
			const known = headOf(BlockResponse, res => {
				res.setHeader("X-Early", "1");
				setKnownHeader(res, LIMIT, 600);
				setKnownHeader(res, ID, "abc-1");
				setKnownHeader(res, LIMIT, 100);
			});
			expect(known).toEqual(bySetHeader);
			expect(known.head).toContain("RateLimit-Limit: 100\r\nX-Request-ID: abc-1\r\n");
			// first header on a fresh response: Node's store is made as setHeader makes it
			expect(headOf(BlockResponse, res => setKnownHeader(res, ID, "x"))).toEqual(
				headOf(http.ServerResponse, res => res.setHeader("X-Request-ID", "x")),
			);
			// and removeHeader removes it
			expect(headOf(BlockResponse, res => (setKnownHeader(res, ID, "x"), res.removeHeader("x-request-id"))).head).not.toContain("X-Request-ID");
		});

		it("does not go through setHeader on the gateway's response class", () => {
			// on a Node whose header store is not found, it falls back to setHeader: this fails, so it is noticed
			const setHeader = jest.spyOn(http.OutgoingMessage.prototype, "setHeader");
			try {
				setKnownHeader(new BlockResponse(probe()), LIMIT, 5);
				expect(setHeader).not.toHaveBeenCalled();
			} finally {
				setHeader.mockRestore();
			}
		});

		it("refuses what setHeader refuses, with its errors", () => {
			const res = new BlockResponse(probe());
			expect(() => setKnownHeader(res, ID, "a\r\nSet-Cookie: x=1")).toThrow(expect.objectContaining({ code: "ERR_INVALID_CHAR" }));
			res.writeHead(200);
			expect(() => setKnownHeader(res, LIMIT, 1)).toThrow(expect.objectContaining({ code: "ERR_HTTP_HEADERS_SENT" }));
			expect(() => new KnownHeader("Bad Name")).toThrow(expect.objectContaining({ code: "ERR_INVALID_HTTP_TOKEN" }));
			expect(() => new KnownHeader("Content-Length")).toThrow(/Node reads it/);
		});

		it("is setHeader itself on a response of another class", () => {
			expect(headOf(http.ServerResponse, res => setKnownHeader(res, LIMIT, 7)).head).toContain("RateLimit-Limit: 7\r\n");
		});
	});
});
