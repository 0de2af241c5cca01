/**
 * A middleware that only sets the same response headers on every request (helmet, configured once) can
 * be replayed instead of run: its header writes are recorded at start-up and repeated per request, in
 * the same order, without its chain of a dozen functions. A middleware is replayed only when recording
 * it twice, with two unlike requests, gives the same writes and it calls `next()` at once without an
 * error; anything else (a CSP nonce, a header that depends on the request, an asynchronous step) runs
 * as given. Tested against helmet itself: test/unit/fixed-headers.test.ts.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

type Next = (err?: unknown) => void;
export type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
type Write = { set: string; value: string | number | readonly string[] } | { remove: string };

function record(mw: Middleware, req: object): Write[] | null {
	const writes: Write[] = [];
	const headers = new Map<string, unknown>();
	const res = {
		setHeader(name: string, value: string | number | readonly string[]) {
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

/** `mw` replayed from a recording of its header writes, or `mw` itself when it does more than that. */
export function fixedHeaders(mw: Middleware): Middleware & { replayed: boolean } {
	const [a, b] = requests.map(r => record(mw, { ...r, headers: { ...r.headers } }));
	if (!a || !b || JSON.stringify(a) !== JSON.stringify(b))
		return Object.assign((req: IncomingMessage, res: ServerResponse, next: Next) => mw(req, res, next), { replayed: false });
	const writes = a;
	return Object.assign(
		function fixedHeadersMiddleware(_req: IncomingMessage, res: ServerResponse, next: Next) {
			for (let i = 0; i < writes.length; i++) {
				const w = writes[i];
				if ("set" in w) res.setHeader(w.set, w.value);
				else res.removeHeader(w.remove);
			}
			next();
		},
		{ replayed: true },
	);
}
