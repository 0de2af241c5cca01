/** Replaying a header-only middleware gives exactly the headers running it gives. */
import http, { type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import helmet from "helmet";
import { fixedHeaders, type Middleware } from "../../lib/fixed-headers";

/** The raw header lines a middleware leaves on a real response. */
async function headersOf(mw: Middleware): Promise<string[]> {
	const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
		res.setHeader("X-Powered-By", "test");
		mw(req, res, () => res.end("{}"));
	});
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
});
