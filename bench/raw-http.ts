/**
 * The baseline of the gateway benchmark: a bare Node `http` server answering what
 * `GET /api/greeter/hello` and `GET /api/greeter/welcome/:name` answer, with nothing in between (no
 * routing framework, middlewares, broker, cache).
 * It runs as its own process so that it competes with the load generator exactly as a Valence node does.
 *
 *   PORT=4000 npx tsx bench/raw-http.ts        (prints "listening on <port>" when ready)
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export const HELLO_BODY = JSON.stringify({ message: "Hello from Valence" });
const WELCOME = "/api/greeter/welcome/";

export function startRawServer(port = 0, host = "127.0.0.1"): Promise<http.Server> {
	const body = Buffer.from(HELLO_BODY);
	const server = http.createServer((req, res) => {
		if (req.method === "GET" && req.url === "/api/greeter/hello") {
			res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": body.length });
			res.end(body);
		} else if (req.method === "GET" && req.url?.startsWith(WELCOME)) {
			const welcome = JSON.stringify({ message: `Welcome, ${decodeURIComponent(req.url.slice(WELCOME.length))}!` });
			res.writeHead(200, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(welcome) });
			res.end(welcome);
		} else if (req.url === "/health" || req.url === "/health/ready") {
			res.writeHead(200, { "Content-Type": "application/json; charset=utf-8" });
			res.end('{"status":"ok"}');
		} else {
			res.writeHead(404);
			res.end();
		}
	});
	// Same keep-alive behaviour as a stock Node server behind the gateway.
	return new Promise((resolve, reject) => {
		server.once("error", reject);
		server.listen(port, host, () => resolve(server));
	});
}

if (require.main === module) {
	startRawServer(Number(process.env.PORT ?? 0), process.env.HOST ?? "127.0.0.1").then(server => {
		console.log(`listening on ${(server.address() as AddressInfo).port}`);
		const stop = () => {
			server.close(() => process.exit(0));
			server.closeAllConnections();
		};
		process.on("SIGTERM", stop);
		process.on("SIGINT", stop);
	});
}
