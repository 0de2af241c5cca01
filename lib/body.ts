/**
 * Request bodies of the gateway's `/api` route (README: Security):
 * - JSON and urlencoded, up to the limit of the action the request is for: its own `bodyLimit`, else
 *   PUBLIC_BODY_LIMIT for actions anyone may call without a token (`auth: "public"` or `"optional"`, and
 *   paths that match no action), else BODY_LIMIT. Over the limit: 413, decided from Content-Length
 *   before anything is read when the client sends one.
 * - parsed JSON nests at most MAX_JSON_DEPTH levels (400 BODY_TOO_DEEP): deeper values overflowed the
 *   stack further on (10,000 nested arrays did).
 * - a body that cannot be decoded as its Content-Encoding says (gzip that is not gzip) is 400.
 * - an upload route (`type: "multipart"`) takes multipart/form-data with a boundary only (415 otherwise).
 * - an action with `rawBody: true` gets the exact bytes, unparsed, as the param `rawBody` (base64), within
 *   the same limits: for signatures over the body (Meta's X-Hub-Signature-256). The action parses it.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { ServiceBroker } from "moleculer";
import ApiGateway from "moleculer-web";

export const MAX_JSON_DEPTH = 32;

type Next = (err?: unknown) => void;
type Middleware = (req: IncomingMessage, res: ServerResponse, next: Next) => void;
type Req = IncomingMessage & { body?: unknown };

const UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

/** "16kb" → 16384 (the b/kb/mb forms the configuration accepts). */
export function bodyLimitBytes(limit: string): number {
	const m = /^(\d+)(b|kb|mb)$/i.exec(limit.trim());
	if (!m) throw new Error(`not a body size: '${limit}' (use b, kb or mb)`);
	return Number(m[1]) * UNITS[m[2].toLowerCase()];
}

/** Whether a parsed JSON value nests deeper than `max` objects/arrays (iterative: no recursion to overflow). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
	if (value === null || typeof value !== "object") return false;
	const stack: [object, number][] = [[value, 1]];
	while (stack.length) {
		const [v, depth] = stack.pop()!;
		if (depth > max) return true;
		for (const child of Array.isArray(v) ? v : Object.values(v)) if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
	}
	return false;
}

/**
 * The same depth check over raw JSON bytes, without parsing them: brackets outside strings (a `rawBody`
 * action parses the body itself, so the gateway's limit still holds for it).
 */
export function rawNestsDeeperThan(buf: Buffer, max: number): boolean {
	let depth = 0;
	let inString = false;
	for (let i = 0; i < buf.length; i++) {
		const c = buf[i];
		if (inString) {
			if (c === 0x5c)
				i++; // backslash: skip the escaped character
			else if (c === 0x22) inString = false;
		} else if (c === 0x22) inString = true;
		else if (c === 0x5b || c === 0x7b) {
			if (++depth > max) return true;
		} else if (c === 0x5d || c === 0x7d) depth--;
	}
	return false;
}

const JSON_TYPE = /^application\/([\w.+-]+\+)?json\b/i;

const bodyError = (message: string, type: string, status = 400) =>
	Object.assign(new Error(message), { status, statusCode: status, type, expose: true });

export interface ActionBodyInfo {
	auth?: string;
	bodyLimit?: string;
	/** the route is an upload (moleculer-web's multipart alias) */
	multipart?: boolean;
	/** the action takes the body's exact bytes (param `rawBody`, base64) instead of parsed fields */
	rawBody?: boolean;
}

export interface BodyParserOptions {
	/** BODY_LIMIT */
	limit: string;
	/** PUBLIC_BODY_LIMIT */
	publicLimit: string;
	/** the action a request is for (undefined: no action matches) */
	actionOf(req: IncomingMessage): ActionBodyInfo | undefined;
}

export function limitFor(action: ActionBodyInfo | undefined, opts: Pick<BodyParserOptions, "limit" | "publicLimit">): string {
	if (action?.bodyLimit) return action.bodyLimit;
	if (!action || action.auth === "public" || action.auth === "optional") return opts.publicLimit;
	return opts.limit;
}

/**
 * The action a request to a moleculer-web route is for, from the alias it matches (moleculer-web has
 * resolved it already, but hands it to route middlewares only after they ran).
 */
export function routedAction(req: IncomingMessage): ActionBodyInfo | undefined {
	const r = req as IncomingMessage & {
		parsedUrl?: string;
		$service?: { broker: ServiceBroker; resolveAlias(url: string, method?: string): { alias: { action?: string; type?: string } } | false };
	};
	const found = r.$service?.resolveAlias(r.parsedUrl ?? "", req.method);
	const name = found ? found.alias.action : undefined;
	const action = name ? (r.$service!.broker.registry.getActionEndpoints(name)?.endpoints[0]?.action as ActionBodyInfo | undefined) : undefined;
	return found && found.alias.type === "multipart" ? { ...action, multipart: true } : action;
}

const MULTIPART = /^multipart\/form-data\s*;.*\bboundary=/i;
const hasBody = (req: IncomingMessage) => req.headers["transfer-encoding"] !== undefined || (req.headers["content-length"] ?? "0") !== "0";

/** JSON and urlencoded body parsing with the limits above, as one connect-style middleware. */
export function bodyParsers(opts: BodyParserOptions): Middleware {
	const parsers = new Map<string, Middleware[]>();
	const rawParsers = new Map<string, Middleware>();
	const rawFor = (limit: string) => {
		let raw = rawParsers.get(limit);
		// body-parser's handler is typed for Express requests; moleculer-web's `use` takes plain node ones.
		if (!raw) rawParsers.set(limit, (raw = ApiGateway.bodyParser.raw({ type: () => true, limit }) as unknown as Middleware));
		return raw;
	};
	const forLimit = (limit: string) => {
		let list = parsers.get(limit);
		if (!list) {
			list = [
				// body-parser's handlers are typed for Express requests; moleculer-web's `use` takes plain node ones.
				ApiGateway.bodyParser.json({ strict: true, limit }) as unknown as Middleware,
				ApiGateway.bodyParser.urlencoded({ extended: true, limit, depth: MAX_JSON_DEPTH }) as unknown as Middleware,
			];
			parsers.set(limit, list);
		}
		return list;
	};

	return (req, res, next) => {
		if (!hasBody(req)) return next();
		const action = opts.actionOf(req);
		if (action?.multipart)
			return MULTIPART.test(req.headers["content-type"] ?? "")
				? next()
				: next(bodyError("Send the file as multipart/form-data.", "multipart.expected", 415));
		const [json, urlencoded] = forLimit(limitFor(action, opts));
		const done = (err?: unknown) => {
			if (err) {
				const e = err as { type?: unknown; status?: number };
				// Every error body-parser raises itself has a `type`; one without comes from the decoder (zlib).
				if (typeof e.type !== "string") return next(bodyError("The request body could not be decoded.", "entity.decode.failed"));
				return next(err);
			}
			if (nestsDeeperThan((req as Req).body, MAX_JSON_DEPTH))
				return next(bodyError(`The request body nests deeper than ${MAX_JSON_DEPTH} levels.`, "entity.too.deep"));
			next();
		};
		if (action?.rawBody)
			return rawFor(limitFor(action, opts))(req, res, err => {
				const body = (req as Req).body;
				if (err) return done(err);
				const raw = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
				if (JSON_TYPE.test(req.headers["content-type"] ?? "") && rawNestsDeeperThan(raw, MAX_JSON_DEPTH))
					return next(bodyError(`The request body nests deeper than ${MAX_JSON_DEPTH} levels.`, "entity.too.deep"));
				(req as Req).body = { rawBody: raw.toString("base64") };
				done();
			});
		json(req, res, err => (err ? done(err) : urlencoded(req, res, done)));
	};
}
