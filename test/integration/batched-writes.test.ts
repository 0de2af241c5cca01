/**
 * The gateway's answers written in bursts (lib/batched-writes.ts, README "The gateway" → "Answers
 * written in bursts"): an ended answer is written at the end of the event loop's turn, together with
 * the others of that turn, and arrives whole; while it waits it counts as sent, so a late second `end`
 * (an error handler after the answer) neither writes twice nor crashes the process.
 */
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { batchedResponse } from "../../lib/batched-writes";
import { compressingResponse } from "../../lib/compression";

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

async function serve(handler: Handler, Response: http.ServerOptions["ServerResponse"] = batchedResponse(http.ServerResponse)) {
	const server = http.createServer({ ServerResponse: Response }, handler);
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	const port = (server.address() as AddressInfo).port;
	return { port, close: () => new Promise<void>(resolve => server.close(() => resolve())) };
}

/** Sends `raw` in one write and reads until the server has sent `answers` complete answers (Content-Length bodies). */
function exchange(port: number, raw: string, answers: number): Promise<string> {
	return new Promise((resolve, reject) => {
		const socket = net.connect(port, "127.0.0.1", () => socket.write(raw));
		let data = "";
		socket.setEncoding("latin1");
		socket.on("data", chunk => {
			data += chunk;
			if (complete(data, answers)) {
				socket.end();
				resolve(data);
			}
		});
		socket.on("error", reject);
	});
}

function complete(data: string, answers: number): boolean {
	let rest = data;
	for (let i = 0; i < answers; i++) {
		const head = rest.indexOf("\r\n\r\n");
		if (head < 0) return false;
		const length = Number(/content-length: (\d+)/i.exec(rest.slice(0, head))?.[1] ?? 0);
		if (rest.length < head + 4 + length) return false;
		rest = rest.slice(head + 4 + length);
	}
	return true;
}

describe("answers written in bursts", () => {
	it("writes an ended answer at the end of the turn, and it counts as sent meanwhile", async () => {
		const seen: Record<string, unknown>[] = [];
		const s = await serve((_req, res) => {
			const socket = res.socket!;
			res.setHeader("Content-Type", "application/json");
			res.end(JSON.stringify({ ok: true }));
			seen.push({ headersSent: res.headersSent, writableEnded: res.writableEnded, written: socket.bytesWritten });
			setImmediate(() => seen.push({ written: socket.bytesWritten > 0 }));
		});
		try {
			const res = await fetch(`http://127.0.0.1:${s.port}/`);
			expect(res.status).toBe(200);
			expect(await res.json()).toEqual({ ok: true });
			expect(seen).toEqual([{ headersSent: true, writableEnded: true, written: 0 }, { written: true }]);
		} finally {
			await s.close();
		}
	});

	it("answers every request that arrived together, in order (pipelined on one connection)", async () => {
		const s = await serve((req, res) => res.end(`answer to ${req.url}`));
		try {
			const raw = ["/a", "/b", "/c"].map(p => `GET ${p} HTTP/1.1\r\nHost: x\r\n\r\n`).join("");
			const data = await exchange(s.port, raw, 3);
			expect(data.match(/answer to \/\w/g)).toEqual(["answer to /a", "answer to /b", "answer to /c"]);
		} finally {
			await s.close();
		}
	});

	it("drops an end after end: the client gets the first answer once, the process no error, and the callback runs", async () => {
		const errors: unknown[] = [];
		let called = false;
		let calledAfter = false;
		const s = await serve((_req, res) => {
			res.on("error", e => errors.push(e));
			res.end("first");
			// what an error handler does when it finds the answer sent: end without a body
			if (res.headersSent) res.end(() => (called = true));
			res.end("second");
			// and once the answer is out, an end's callback still runs
			res.once("finish", () => res.end(() => (calledAfter = true)));
		});
		try {
			const res = await fetch(`http://127.0.0.1:${s.port}/`);
			expect(await res.text()).toBe("first");
			await new Promise(resolve => setImmediate(resolve));
			expect(called).toBe(true);
			await new Promise(resolve => setImmediate(resolve));
			expect(calledAfter).toBe(true);
			expect(errors).toEqual([]);
		} finally {
			await s.close();
		}
	});

	it("still streams a body written in pieces, and compresses a large JSON answer", async () => {
		const big = JSON.stringify({ items: Array.from({ length: 400 }, (_, i) => ({ i, text: "some repeated text" })) });
		const Response = compressingResponse({ encodings: ["gzip"], minBytes: 1024 }, batchedResponse(http.ServerResponse));
		const s = await serve(
			(req, res) => {
				if (req.url === "/stream") {
					res.write("one,");
					setTimeout(() => res.end("two"), 5);
					return;
				}
				res.setHeader("Content-Type", "application/json");
				res.end(big);
			},
			// the compressing class' constructor is typed for plain IncomingMessage requests, as the gateway's server makes
			Response as typeof http.ServerResponse,
		);
		try {
			expect(await (await fetch(`http://127.0.0.1:${s.port}/stream`)).text()).toBe("one,two");
			const res = await fetch(`http://127.0.0.1:${s.port}/json`, { headers: { "accept-encoding": "gzip" } });
			expect(res.headers.get("content-encoding")).toBe("gzip");
			expect(await res.text()).toBe(big);
		} finally {
			await s.close();
		}
	});
});
