/**
 * An HTTP client on its own thread, for tests that time how long the in-process platform takes to answer.
 *
 * A real client never shares the server's event loop or heap. Called from the test's own thread, `fetch`
 * encodes and copies every request body there, and the garbage of a megabyte body lands in the server's
 * heap, which charges the server for the client's work. Here the requests are built, sent and timed on a
 * worker thread (its own event loop and heap), and only the answers come back.
 *
 *   const client = startClientThread();
 *   const [a, b] = await client.send([{ method: "PATCH", url, body }, { method: "GET", url: healthUrl }]);
 *   await client.close();
 */
import { Worker } from "node:worker_threads";

export interface ThreadRequest {
	method: string;
	url: string;
	headers?: Record<string, string>;
	body?: string | Uint8Array;
}

export interface ThreadAnswer {
	status: number;
	contentType: string;
	/** the answer's text */
	text: string;
	/** from just before the request was sent to the last byte of the answer, measured on the client thread */
	ms: number;
}

export interface ClientThread {
	/** sends the requests at the same time and answers in the same order */
	send(requests: ThreadRequest[]): Promise<ThreadAnswer[]>;
	close(): Promise<void>;
}

// Plain JavaScript: the worker runs outside ts-jest's transform.
const WORKER = `
const { parentPort } = require("node:worker_threads");
async function one(r) {
	const started = performance.now();
	const res = await fetch(r.url, { method: r.method, headers: r.headers, body: r.body });
	const text = await res.text();
	return { status: res.status, contentType: res.headers.get("content-type") ?? "", text, ms: performance.now() - started };
}
parentPort.on("message", async ({ id, requests }) => {
	try {
		parentPort.postMessage({ id, answers: await Promise.all(requests.map(one)) });
	} catch (err) {
		parentPort.postMessage({ id, error: String(err && err.stack || err) });
	}
});
`;

export function startClientThread(): ClientThread {
	const worker = new Worker(WORKER, { eval: true });
	const pending = new Map<number, { resolve(a: ThreadAnswer[]): void; reject(e: Error): void }>();
	let next = 0;
	worker.on("message", (m: { id: number; answers?: ThreadAnswer[]; error?: string }) => {
		const p = pending.get(m.id);
		pending.delete(m.id);
		if (m.error) p?.reject(new Error(m.error));
		else p?.resolve(m.answers!);
	});
	worker.on("error", err => {
		for (const p of pending.values()) p.reject(err);
		pending.clear();
	});
	return {
		send(requests) {
			const id = next++;
			return new Promise((resolve, reject) => {
				pending.set(id, { resolve, reject });
				worker.postMessage({ id, requests });
			});
		},
		async close() {
			await worker.terminate();
		},
	};
}
