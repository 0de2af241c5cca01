/**
 * An OpenAI-compatible chat-completions server in the test process (HTTP on 127.0.0.1): it records
 * every request and answers from a script — a message content, an HTTP status, or a delay.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type FakeAnswer = { content: string } | { status: number } | { delayMs: number; content: string };

export interface FakeLlm {
	baseUrl: string;
	requests: { headers: http.IncomingHttpHeaders; body: any }[];
	/** answers for the next requests, in order; when none is left, `fallback` answers */
	script: FakeAnswer[];
	fallback: FakeAnswer;
	close(): Promise<void>;
}

export async function startFakeLlm(): Promise<FakeLlm> {
	const fake: Omit<FakeLlm, "baseUrl" | "close"> = { requests: [], script: [], fallback: { status: 503 } };
	const server = http.createServer((req, res) => {
		let raw = "";
		req.on("data", c => (raw += c));
		req.on("end", () => {
			if (req.method !== "POST" || req.url !== "/v1/chat/completions") {
				res.writeHead(404).end();
				return;
			}
			fake.requests.push({ headers: req.headers, body: JSON.parse(raw) });
			const answer = fake.script.shift() ?? fake.fallback;
			const send = (content: string) => {
				res.writeHead(200, { "content-type": "application/json" });
				res.end(
					JSON.stringify({
						id: "chatcmpl-1",
						object: "chat.completion",
						choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
					}),
				);
			};
			if ("status" in answer)
				res.writeHead(answer.status, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "scripted" } }));
			else if ("delayMs" in answer) setTimeout(() => !res.destroyed && send(answer.content), answer.delayMs);
			else send(answer.content);
		});
	});
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	const { port } = server.address() as AddressInfo;
	return Object.assign(fake, {
		baseUrl: `http://127.0.0.1:${port}/v1`,
		close: () =>
			new Promise<void>(resolve => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	});
}
