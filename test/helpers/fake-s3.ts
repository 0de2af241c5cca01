/**
 * A small S3-compatible fake at the edge of the system, for MEDIA_STORAGE=s3 tests: path-style
 * `PUT/GET/HEAD/DELETE /<bucket>/<key>` on 127.0.0.1 (port 0), objects in memory, MD5 ETags, S3's XML
 * errors (404 NoSuchKey / NoSuchBucket). SigV4 headers are accepted without verification.
 *
 * Failure injection for timeout and breaker tests:
 *   fake.failNext(3)            // the next 3 requests answer 500 InternalError
 *   fake.latencyMs = 2000       // every request waits this long before answering
 *   fake.requests               // what reached the fake ({ method, key }), to count attempts
 *
 *   const s3 = await startFakeS3({ bucket: "media" });
 *   ... S3_ENDPOINT: s3.endpoint, S3_BUCKET: "media" ...
 *   await s3.stop();
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeObject {
	body: Buffer;
	etag: string;
	contentType?: string;
	lastModified: Date;
}

export interface FakeS3 {
	endpoint: string;
	bucket: string;
	objects: Map<string, FakeObject>;
	requests: { method: string; key: string; status?: number }[];
	latencyMs: number;
	failNext(n: number, status?: number): void;
	keys(): string[];
	reset(): void;
	stop(): Promise<void>;
}

const xmlError = (code: string, message: string, resource: string) =>
	`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><Resource>${resource}</Resource><RequestId>fake</RequestId></Error>`;

export async function startFakeS3(opts: { bucket?: string } = {}): Promise<FakeS3> {
	const bucket = opts.bucket ?? "media";
	const objects = new Map<string, FakeObject>();
	const requests: FakeS3["requests"] = [];
	let failures: { left: number; status: number } = { left: 0, status: 500 };
	const pending = new Set<NodeJS.Timeout>();
	const sockets = new Set<import("node:net").Socket>();

	const fake: FakeS3 = {
		endpoint: "",
		bucket,
		objects,
		requests,
		latencyMs: 0,
		failNext(n, status = 500) {
			failures = { left: n, status };
		},
		keys: () => [...objects.keys()].sort(),
		reset() {
			failures = { left: 0, status: 500 };
			fake.latencyMs = 0;
			requests.length = 0;
		},
		async stop() {
			for (const t of pending) clearTimeout(t);
			for (const s of sockets) s.destroy();
			await new Promise<void>(resolve => server.close(() => resolve()));
		},
	};

	const server = http.createServer((req, res) => {
		const url = new URL(req.url ?? "/", "http://fake");
		const [, b, ...rest] = url.pathname.split("/");
		const key = rest.map(decodeURIComponent).join("/");
		const entry: FakeS3["requests"][number] = { method: req.method ?? "", key };
		requests.push(entry);
		const chunks: Buffer[] = [];
		req.on("data", (c: Buffer) => chunks.push(c));
		req.on("error", () => undefined);
		req.on("end", () => {
			const answer = () => {
				pending.delete(timer);
				if (res.destroyed) return;
				const send = (status: number, headers: Record<string, string | number>, body?: Buffer | string) => {
					entry.status = status;
					res.writeHead(status, { "x-amz-request-id": "fake", ...headers });
					res.end(req.method === "HEAD" ? undefined : body);
				};
				const error = (status: number, code: string, message: string) =>
					send(status, { "content-type": "application/xml" }, xmlError(code, message, url.pathname));

				if (failures.left > 0) {
					failures.left--;
					return error(failures.status, failures.status === 503 ? "SlowDown" : "InternalError", "injected failure");
				}
				if (b !== bucket) return error(404, "NoSuchBucket", "The specified bucket does not exist");
				if (!key) return error(400, "InvalidRequest", "bucket operations are not faked");
				const obj = objects.get(key);
				switch (req.method) {
					case "PUT": {
						const body = Buffer.concat(chunks);
						const declared = req.headers["content-length"];
						if (declared !== undefined && Number(declared) !== body.length)
							return error(400, "IncompleteBody", "body shorter than Content-Length");
						if (String(req.headers["content-encoding"] ?? "").includes("aws-chunked"))
							return error(501, "NotImplemented", "aws-chunked uploads are not faked");
						const etag = `"${createHash("md5").update(body).digest("hex")}"`;
						const type = req.headers["content-type"];
						objects.set(key, { body, etag, contentType: type, lastModified: new Date() });
						return send(200, { ETag: etag });
					}
					case "GET":
					case "HEAD":
						if (!obj) return error(404, "NoSuchKey", "The specified key does not exist.");
						return send(
							200,
							{
								ETag: obj.etag,
								"Content-Length": obj.body.length,
								"Content-Type": obj.contentType ?? "binary/octet-stream",
								"Last-Modified": obj.lastModified.toUTCString(),
							},
							obj.body,
						);
					case "DELETE":
						objects.delete(key);
						return send(204, {});
					default:
						return error(405, "MethodNotAllowed", "not faked");
				}
			};
			const timer = setTimeout(answer, fake.latencyMs);
			pending.add(timer);
		});
	});
	server.on("connection", s => {
		sockets.add(s);
		s.on("close", () => sockets.delete(s));
	});
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	fake.endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	return fake;
}
