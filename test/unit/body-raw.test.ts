/** Actions with `rawBody: true` get the request's exact bytes from the gateway's body parser (lib/body.ts). */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { bodyParsers, MAX_JSON_DEPTH, nestsDeeperThan, rawNestsDeeperThan } from "../../lib/body";

describe("raw request bodies", () => {
	let server: http.Server;
	let url: string;
	const seen: { body?: unknown; error?: { status?: number; type?: string } }[] = [];

	beforeAll(async () => {
		const parse = bodyParsers({
			limit: "1mb",
			publicLimit: "16kb",
			actionOf: req => (req.url === "/raw" ? { auth: "public", rawBody: true, bodyLimit: "1kb" } : { auth: "public" }),
		});
		server = http.createServer((req, res) =>
			parse(req, res, err => {
				seen.push({ body: (req as { body?: unknown }).body, error: err as { status?: number; type?: string } | undefined });
				res.end();
			}),
		);
		await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
		url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
	});
	afterAll(() => new Promise<void>(r => server.close(() => r())));

	const post = async (path: string, body: Buffer, type = "application/json") => {
		await (await fetch(url + path, { method: "POST", headers: { "content-type": type }, body })).arrayBuffer();
		return seen[seen.length - 1];
	};

	it("hands over the bytes as sent, whatever they are, as base64", async () => {
		const bytes = Buffer.concat([Buffer.from('{"a": "é",   "b":1}\n'), Buffer.from([0xff, 0xfe, 0x00])]);
		expect((await post("/raw", bytes)).body).toEqual({ rawBody: bytes.toString("base64") });
		expect((await post("/raw", Buffer.from("not json at all"), "text/plain")).body).toEqual({
			rawBody: Buffer.from("not json at all").toString("base64"),
		});
	});

	it("keeps the action's limit (413) and leaves other actions parsed", async () => {
		expect((await post("/raw", Buffer.alloc(2048, 0x61))).error).toMatchObject({ status: 413 });
		expect((await post("/json", Buffer.from('{"a":1}'))).body).toEqual({ a: 1 });
	});

	it("refuses raw JSON that nests too deep, counting brackets outside strings as the parsed check does", async () => {
		const nested = (n: number) => Buffer.from(`{"a":${"[".repeat(n - 1)}${"]".repeat(n - 1)}}`);
		expect(rawNestsDeeperThan(nested(MAX_JSON_DEPTH), MAX_JSON_DEPTH)).toBe(false);
		expect(rawNestsDeeperThan(nested(MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH)).toBe(true);
		for (const n of [MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1])
			expect(rawNestsDeeperThan(nested(n), MAX_JSON_DEPTH)).toBe(nestsDeeperThan(JSON.parse(nested(n).toString()), MAX_JSON_DEPTH));
		expect(rawNestsDeeperThan(Buffer.from(JSON.stringify({ text: "[[[[".repeat(50) + '\\"' + "{{{{".repeat(50) })), 3)).toBe(false);
		expect((await post("/raw", Buffer.from(`{"a":${"[".repeat(1000)}${"]".repeat(1000)}}`.slice(0, 1000)))).error).toMatchObject({
			status: 400,
			type: "entity.too.deep",
		});
		// not JSON: bytes are bytes
		expect((await post("/raw", Buffer.from("[".repeat(100)), "application/octet-stream")).body).toEqual({
			rawBody: Buffer.from("[".repeat(100)).toString("base64"),
		});
	});
});
