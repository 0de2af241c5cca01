/**
 * Moleculer's Zipkin v2 exporter (spans POSTed as JSON to `<ZIPKIN_URL>/api/v2/spans` every few
 * seconds), with three changes:
 * - every span carries the request id (`requestId` tag: the gateway's `X-Request-ID`, which is
 *   Moleculer's trace id), whatever started the span;
 * - trace, span and parent ids are always valid Zipkin ids (16 hex digits): Moleculer cuts its UUIDs to
 *   16 characters, but a request id a client chose (`X-Request-ID: order-42`) is no hex, and Zipkin
 *   refuses the whole batch for one bad id. Those are hashed (SHA-256, first 16 hex digits), the same
 *   id for every span of the request on every node;
 * - spans go out in batches of at most BATCH (also between the timer's uploads): under load, a 5 s
 *   queue held tens of thousands of spans, and serialising them at once stopped the event loop for
 *   hundreds of milliseconds;
 * - the spans still queued are sent when the broker stops, so the last seconds before a shutdown are
 *   not lost.
 * README: "Tracing".
 */
import { createHash } from "node:crypto";
import { TracerExporters } from "moleculer";

const HEX_ID = /^[0-9a-f]{16,}$/i;
/** spans per upload */
const BATCH = 500;

/** A 16-hex-digit Zipkin id for any Moleculer id (UUIDs as Moleculer converts them, anything else hashed). */
export function zipkinId(id: string | null | undefined): string | null {
	if (!id) return null;
	const compact = id.replace(/-/g, "");
	if (HEX_ID.test(compact)) return compact.slice(0, 16).toLowerCase();
	return createHash("sha256").update(id).digest("hex").slice(0, 16);
}

export interface ZipkinExporterOptions {
	/** Zipkin's base URL (the exporter POSTs to `/api/v2/spans` below it) */
	baseURL: string;
	/** seconds between uploads */
	interval?: number;
}

export class ZipkinExporter extends TracerExporters.Zipkin {
	constructor(opts: ZipkinExporterOptions) {
		super({ interval: 5, ...opts });
	}

	override convertID(id: string): string {
		return zipkinId(id) as string;
	}

	override makePayload(span: Parameters<TracerExporters.Zipkin["makePayload"]>[0]): Record<string, any> {
		const payload = super.makePayload(span);
		const requestId = typeof span.tags?.requestID === "string" ? span.tags.requestID : span.traceID;
		payload.tags = { ...payload.tags, requestId };
		return payload;
	}

	override spanFinished(span: Parameters<TracerExporters.Zipkin["spanFinished"]>[0]): void {
		this.queue.push(span);
		if (this.queue.length >= BATCH) void this.flush();
	}

	/** Sends what is queued; resolves when Zipkin answered (or the upload failed, logged). */
	override flush(): Promise<void> {
		if (this.queue.length === 0) return Promise.resolve();
		const data = this.generateTracingData();
		this.queue.length = 0;
		return fetch(`${this.opts.baseURL}/api/v2/spans`, {
			method: "POST",
			body: JSON.stringify(data),
			headers: this.opts.headers,
			signal: AbortSignal.timeout(10_000),
		})
			.then(res => {
				if (res.status >= 400) this.logger.warn(`Zipkin refused ${data.length} spans: ${res.status} ${res.statusText}`);
				return res.arrayBuffer().then(() => undefined);
			})
			.catch((err: Error) => {
				this.logger.warn(`Could not upload ${data.length} spans to Zipkin: ${err.message}`);
			});
	}

	override stop(): Promise<void> {
		super.stop();
		return this.flush();
	}
}
