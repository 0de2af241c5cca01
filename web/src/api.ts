/**
 * The one way the app talks to the platform: the public HTTP API, exactly as any client does (README,
 * "The gateway" and "Auth API"). Every screen calls `api()` (or `get`/`post`/`patch`/`del`):
 *
 *   const leads = await get<Page<Lead>>("/api/leads", { status: "new", page: 1 });
 *   await post("/api/leads", { name }); // throws ApiProblem on any error answer
 *
 * - The access token goes as `Authorization: Bearer …`. A `401 TOKEN_EXPIRED` (or a token about to expire)
 *   is traded at `POST /api/auth/refresh` for a new pair and the call is retried once. One refresh is in
 *   flight at a time, shared by every concurrent call, and across tabs (Web Locks; a tab that waited takes
 *   the pair another tab just got instead of spending the already-rotated refresh token, which the server
 *   would treat as stolen: `REFRESH_TOKEN_REUSED` ends the session).
 * - Every error answer (`application/problem+json`) becomes an `ApiProblem` with `status`, `code`, `title`,
 *   `detail`, the per-field `errors` of a 422 and `retryAfter` of a 429/503. A network failure is an
 *   `ApiProblem` too (status 0, code `NETWORK_ERROR`), so screens handle one error type.
 * - The pair lives in localStorage (so a reload keeps you signed in); the CSP allows no script but ours.
 */

export interface FieldError {
	field: string;
	message: string;
}

/** An RFC 9457 problem answered by the gateway, or a network failure (status 0). */
export class ApiProblem extends Error {
	readonly status: number;
	readonly code: string;
	readonly title: string;
	readonly detail: string;
	readonly errors: FieldError[];
	readonly requestId?: string;
	/** seconds, from `Retry-After` (429, 503) */
	readonly retryAfter?: number;

	constructor(p: { status: number; code: string; title: string; detail: string; errors?: FieldError[]; requestId?: string; retryAfter?: number }) {
		super(p.detail || p.title);
		this.name = "ApiProblem";
		this.status = p.status;
		this.code = p.code;
		this.title = p.title;
		this.detail = p.detail;
		this.errors = p.errors ?? [];
		this.requestId = p.requestId;
		this.retryAfter = p.retryAfter;
	}

	/** The message for one field (`errors[].field`; a nested field matches by its first segment too). */
	fieldError(field: string): string | undefined {
		return this.errors.find(e => e.field === field || e.field.startsWith(`${field}.`) || e.field.startsWith(`${field}[`))?.message;
	}
}

/** Whatever was thrown, as an ApiProblem (screens show `detail` in plain words). */
export function asProblem(err: unknown): ApiProblem {
	if (err instanceof ApiProblem) return err;
	const message = err instanceof Error ? err.message : String(err);
	return new ApiProblem({ status: 0, code: "CLIENT_ERROR", title: "Something went wrong", detail: message });
}

/** What `POST /api/auth/login`, `/register`, `/refresh` and `/switch-tenant` answer. */
export interface TokenResponse {
	user: { id: string; name?: string; email?: string; [k: string]: unknown };
	accessToken: string;
	refreshToken: string;
	tokenType: "Bearer";
	expiresIn: number;
	refreshExpiresAt: string;
	tenantId: string | null;
	roles: string[];
	sessionId: string;
}

/** A list answer of the platform (`page`, `pageSize`, `total`). */
export interface Page<T> {
	rows: T[];
	total: number;
	page?: number;
	pageSize?: number;
	totalPages?: number;
}

interface StoredPair {
	accessToken: string;
	refreshToken: string;
	/** ms since epoch, from the token's `exp` */
	accessExpiresAt: number;
	/** ms, `exp` − `iat`: how long the token was issued for */
	accessLifetime?: number;
}

const STORAGE_KEY = "valence.tokens";
/** refresh this long before the access token's `exp` (at most a quarter of its life), so a call does not race the expiry */
const EXPIRY_MARGIN_MS = 5_000;

let pair: StoredPair | null = load();
const listeners = new Set<(reason: SignedOutReason | null) => void>();
/** why the app shows the sign-in screen: signed out, the server ended the session, or it could not be reached */
export type SignedOutReason = "signed-out" | "session-ended" | "unreachable";

function load(): StoredPair | null {
	try {
		const raw = localStorage.getItem(STORAGE_KEY);
		return raw ? (JSON.parse(raw) as StoredPair) : null;
	} catch {
		return null;
	}
}

/** `exp` and `iat` of a JWT in ms (only read to schedule a refresh: the gateway verifies tokens, not us). */
function timesOf(token: string): { exp: number; iat: number } {
	try {
		const body = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
		const claims = JSON.parse(atob(body)) as { exp: number; iat?: number };
		return { exp: claims.exp * 1000, iat: (claims.iat ?? 0) * 1000 };
	} catch {
		return { exp: 0, iat: 0 };
	}
}

/** Keep a token pair (after sign-in, register, refresh, tenant switch). */
export function setTokens(t: Pick<TokenResponse, "accessToken" | "refreshToken">): void {
	const { exp, iat } = timesOf(t.accessToken);
	pair = { accessToken: t.accessToken, refreshToken: t.refreshToken, accessExpiresAt: exp, accessLifetime: iat ? exp - iat : undefined };
	localStorage.setItem(STORAGE_KEY, JSON.stringify(pair));
}

/** Forget the pair; listeners (the session) hear why. */
export function clearTokens(reason: SignedOutReason = "signed-out"): void {
	pair = null;
	localStorage.removeItem(STORAGE_KEY);
	for (const l of listeners) l(reason);
}

export const hasTokens = () => pair !== null;
/** The current access token, for the realtime socket's handshake (it refreshes through `ensureFreshToken`). */
export const accessToken = () => pair?.accessToken ?? null;

/** Called with a reason when the session is gone (signed out here or in another tab, or refused by the server). */
export function onSignedOut(listener: (reason: SignedOutReason | null) => void): () => void {
	listeners.add(listener);
	return () => listeners.delete(listener);
}

// Another tab signed in, refreshed or signed out: follow it.
window.addEventListener("storage", e => {
	if (e.key !== STORAGE_KEY) return;
	const next = load();
	if (!next && pair) {
		pair = null;
		for (const l of listeners) l("signed-out");
	} else pair = next;
});

/** How many refreshes this page made (tests and the session screen read it). */
export let refreshCount = 0;
let refreshing: Promise<void> | null = null;

/**
 * Trade the refresh token for a new pair, once however many calls ask at the same moment. `stale` is the
 * access token the caller found expired: if the pair changed since (another call or tab refreshed), nothing
 * is spent.
 */
export function refreshTokens(stale = pair?.accessToken): Promise<void> {
	refreshing ??= withRefreshLock(async () => {
		const current = load() ?? pair;
		if (current && current.accessToken !== stale) {
			pair = current;
			return;
		}
		if (!current) throw signedOutProblem();
		const res = await send("POST", "/api/auth/refresh", { refreshToken: current.refreshToken }, null);
		if (!res.ok) {
			const p = await problemOf(res);
			// the refresh token is spent, expired or revoked: the session is over
			if (p.status === 401) clearTokens("session-ended");
			throw p;
		}
		setTokens((await res.json()) as TokenResponse);
		refreshCount++;
	}).finally(() => {
		refreshing = null;
	});
	return refreshing;
}

function withRefreshLock(fn: () => Promise<void>): Promise<void> {
	const locks = (navigator as Navigator & { locks?: LockManager }).locks;
	return locks ? locks.request("valence.refresh", fn) : fn();
}

/** Refresh first when the access token has expired or is about to (saves a 401 round trip). */
export async function ensureFreshToken(): Promise<void> {
	if (refreshing) await refreshing;
	if (!pair?.accessExpiresAt) return;
	const margin = Math.min(EXPIRY_MARGIN_MS, (pair.accessLifetime ?? 0) / 4);
	if (pair.accessExpiresAt - margin < Date.now()) await refreshTokens(pair.accessToken);
}

const signedOutProblem = () =>
	new ApiProblem({ status: 401, code: "UNAUTHORIZED", title: "Unauthorized", detail: "You are signed out. Sign in again." });

type Query = Record<string, string | number | boolean | null | undefined>;

export interface CallOptions {
	/** query parameters; null and undefined are left out */
	query?: Query;
	/** false: send no token (public routes such as sign-in) */
	auth?: boolean;
	signal?: AbortSignal;
	headers?: Record<string, string>;
}

function urlOf(path: string, query?: Query): string {
	if (!query) return path;
	const qs = new URLSearchParams();
	for (const [k, v] of Object.entries(query)) if (v !== null && v !== undefined && v !== "") qs.set(k, String(v));
	const s = qs.toString();
	return s ? `${path}${path.includes("?") ? "&" : "?"}${s}` : path;
}

async function send(method: string, url: string, body: unknown, token: string | null, opts: CallOptions = {}): Promise<Response> {
	const headers: Record<string, string> = { accept: "application/json", ...opts.headers };
	if (token) headers.authorization = `Bearer ${token}`;
	let payload: BodyInit | undefined;
	if (body instanceof FormData) payload = body;
	else if (body !== undefined) {
		headers["content-type"] = "application/json";
		payload = JSON.stringify(body);
	}
	try {
		return await fetch(url, { method, headers, body: payload, signal: opts.signal, credentials: "same-origin" });
	} catch (err) {
		if ((err as Error)?.name === "AbortError") throw err;
		throw new ApiProblem({
			status: 0,
			code: "NETWORK_ERROR",
			title: "No connection",
			detail: "The server did not answer. Check your connection and try again.",
		});
	}
}

async function problemOf(res: Response): Promise<ApiProblem> {
	const retry = Number(res.headers.get("retry-after"));
	const retryAfter = Number.isFinite(retry) && retry > 0 ? retry : undefined;
	let body: Partial<{ code: string; title: string; detail: string; errors: FieldError[]; requestId: string }> = {};
	try {
		body = await res.json();
	} catch {
		/* not JSON: a proxy's page, say */
	}
	return new ApiProblem({
		status: res.status,
		code: body.code ?? `HTTP_${res.status}`,
		title: body.title ?? res.statusText ?? "Error",
		detail: body.detail ?? `The server answered ${res.status}.`,
		errors: Array.isArray(body.errors) ? body.errors : [],
		requestId: body.requestId ?? res.headers.get("x-request-id") ?? undefined,
		retryAfter,
	});
}

/**
 * Call the API. Resolves with the parsed JSON body (undefined for 204 and empty bodies, the text for
 * text answers); throws `ApiProblem` for every answer that is not 2xx.
 */
export async function api<T = unknown>(method: string, path: string, body?: unknown, opts: CallOptions = {}): Promise<T> {
	const url = urlOf(path, opts.query);
	const useAuth = opts.auth !== false;
	if (useAuth) await ensureFreshToken().catch(() => undefined);
	const token = useAuth ? (pair?.accessToken ?? null) : null;
	let res = await send(method, url, body, token, opts);
	if (res.status === 401 && token) {
		const p = await problemOf(res.clone());
		if (p.code === "TOKEN_EXPIRED") {
			await refreshTokens(token);
			res = await send(method, url, body, pair?.accessToken ?? null, opts);
		} else if (p.code === "TOKEN_REVOKED") {
			clearTokens("session-ended");
		}
	}
	if (!res.ok) throw await problemOf(res);
	if (res.status === 204) return undefined as T;
	const type = res.headers.get("content-type") ?? "";
	if (type.includes("json")) return (await res.json()) as T;
	return (await res.text()) as T;
}

export const get = <T = unknown>(path: string, query?: Query, opts?: CallOptions) => api<T>("GET", path, undefined, { ...opts, query });
export const post = <T = unknown>(path: string, body?: unknown, opts?: CallOptions) => api<T>("POST", path, body ?? {}, opts);
export const patch = <T = unknown>(path: string, body?: unknown, opts?: CallOptions) => api<T>("PATCH", path, body ?? {}, opts);
export const put = <T = unknown>(path: string, body?: unknown, opts?: CallOptions) => api<T>("PUT", path, body ?? {}, opts);
export const del = <T = unknown>(path: string, opts?: CallOptions) => api<T>("DELETE", path, undefined, opts);

/**
 * A binary answer (an invoice's PDF, an export) as a Blob: the same token, silent refresh and problem+json
 * errors as `api`. Show it with `URL.createObjectURL(blob)` (the CSP allows no outside URL, and a link to
 * the route itself would carry no token).
 */
export async function getBlob(path: string, opts: CallOptions = {}): Promise<Blob> {
	const url = urlOf(path, opts.query);
	const o = { ...opts, headers: { accept: "*/*", ...opts.headers } };
	await ensureFreshToken().catch(() => undefined);
	const token = pair?.accessToken ?? null;
	let res = await send("GET", url, undefined, token, o);
	if (res.status === 401 && token && (await problemOf(res.clone())).code === "TOKEN_EXPIRED") {
		await refreshTokens(token);
		res = await send("GET", url, undefined, pair?.accessToken ?? null, o);
	}
	if (!res.ok) throw await problemOf(res);
	return res.blob();
}
