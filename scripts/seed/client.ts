/**
 * The seed's HTTP client: the public API exactly as any client calls it (JSON bodies, Bearer tokens,
 * problem+json errors). Loopback only: the seed never sends anything off this machine. A 429 or a 503
 * with `Retry-After` (rate limits, a node still starting) is waited out and sent again.
 */
export interface Reply<T = any> {
	status: number;
	headers: Headers;
	body: T;
}

export interface CallOptions {
	token?: string;
	body?: unknown;
	/** a raw body (sent as is, e.g. a signed webhook or multipart form) */
	raw?: string | FormData;
	headers?: Record<string, string>;
	/** statuses that are an answer, not a failure (default: 2xx) */
	ok?: number[];
}

export class SeedError extends Error {
	constructor(
		message: string,
		readonly status?: number,
		readonly code?: string,
	) {
		super(message);
		this.name = "SeedError";
	}
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

export function checkLoopback(base: string): string {
	let url: URL;
	try {
		url = new URL(base);
	} catch {
		throw new SeedError(`SEED_URL: not a URL (got '${base}')`);
	}
	if (url.protocol !== "http:" && url.protocol !== "https:") throw new SeedError(`SEED_URL: must be http(s) (got '${base}')`);
	if (!LOOPBACK.has(url.hostname))
		throw new SeedError(`SEED_URL: the seed only talks to this machine (127.0.0.1, localhost, ::1), got '${url.hostname}'`);
	return url.origin;
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

export class Api {
	/** requests sent, for the summary */
	requests = 0;

	constructor(readonly base: string) {
		checkLoopback(base);
	}

	async call<T = any>(method: string, path: string, opts: CallOptions = {}): Promise<Reply<T>> {
		const headers: Record<string, string> = { accept: "application/json", ...opts.headers };
		if (opts.token) headers.authorization = `Bearer ${opts.token}`;
		let body: string | FormData | undefined = opts.raw;
		if (opts.body !== undefined) {
			headers["content-type"] = "application/json";
			body = JSON.stringify(opts.body);
		}
		for (let attempt = 1; ; attempt++) {
			this.requests++;
			const res = await fetch(this.base + path, { method, headers, body, signal: AbortSignal.timeout(30_000) });
			const text = await res.text();
			let parsed: any = text;
			try {
				parsed = text ? JSON.parse(text) : null;
			} catch {
				/* not JSON */
			}
			const retryAfter = Number(res.headers.get("retry-after"));
			if ((res.status === 429 || res.status === 503) && retryAfter >= 0 && attempt < 20 && !opts.ok?.includes(res.status)) {
				await sleep(Math.min(Math.max(retryAfter, 0.2), 60) * 1000);
				continue;
			}
			if ((res.status >= 200 && res.status < 300) || opts.ok?.includes(res.status))
				return { status: res.status, headers: res.headers, body: parsed };
			const detail =
				parsed && typeof parsed === "object"
					? `${parsed.code ?? ""} ${parsed.detail ?? parsed.title ?? ""}`.trim()
					: String(text).slice(0, 200);
			const errors = parsed?.errors ? ` ${JSON.stringify(parsed.errors)}` : "";
			throw new SeedError(`${method} ${path}: ${res.status} ${detail}${errors}`, res.status, parsed?.code);
		}
	}

	get<T = any>(path: string, token?: string) {
		return this.call<T>("GET", path, { token }).then(r => r.body);
	}

	post<T = any>(path: string, token: string | undefined, body?: unknown, headers?: Record<string, string>) {
		return this.call<T>("POST", path, { token, body: body ?? {}, headers }).then(r => r.body);
	}

	patch<T = any>(path: string, token: string, body: unknown) {
		return this.call<T>("PATCH", path, { token, body }).then(r => r.body);
	}

	put<T = any>(path: string, token: string, body: unknown) {
		return this.call<T>("PUT", path, { token, body }).then(r => r.body);
	}
}

/** Polls `check` until it returns a truthy value, for effects that arrive through channels (assignment, xp). */
export async function waitUntil<T>(
	what: string,
	check: () => Promise<T | undefined | null | false>,
	timeoutMs = 20_000,
	intervalMs = 100,
): Promise<T> {
	const deadline = Date.now() + timeoutMs;
	for (;;) {
		const value = await check();
		if (value) return value;
		if (Date.now() > deadline) throw new SeedError(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
		await sleep(intervalMs);
	}
}
