/**
 * The request body exactly as received, for a route whose callers sign it (webhooks: the HMAC covers
 * the raw bytes, which a parsed and re-serialised body would not reproduce). Kept on `req.$rawBody`;
 * `req.body` is left empty so nothing of it merges into params. Over `limitBytes`: 413.
 */
import type { IncomingMessage, ServerResponse } from "node:http";

export type RawBodyRequest = IncomingMessage & { $rawBody?: Buffer; body?: unknown };

const tooLarge = () =>
	Object.assign(new Error("The request body is too large."), { status: 413, statusCode: 413, type: "entity.too.large", expose: true });

export function rawBody(limitBytes: number) {
	return (req: RawBodyRequest, _res: ServerResponse, next: (err?: unknown) => void): void => {
		if (Number(req.headers["content-length"] ?? 0) > limitBytes) return next(tooLarge());
		const chunks: Buffer[] = [];
		let size = 0;
		let failed = false;
		req.on("data", (chunk: Buffer) => {
			size += chunk.length;
			if (size > limitBytes && !failed) {
				failed = true;
				next(tooLarge());
			}
			if (!failed) chunks.push(chunk);
		});
		req.on("end", () => {
			if (failed) return;
			req.$rawBody = Buffer.concat(chunks);
			req.body = {};
			next();
		});
		req.on("error", err => {
			if (!failed) next(err);
			failed = true;
		});
	};
}
