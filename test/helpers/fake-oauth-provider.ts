/**
 * A sign-in provider in the test process (HTTP on 127.0.0.1): `oidc` is an OpenID Connect issuer with
 * discovery, its own RSA key (JWKS), an authorize endpoint that signs in whoever `next` says, and a token
 * endpoint that checks the client, the redirect URI and PKCE (S256) before it answers an ID token;
 * `oauth2` is GitHub-style: no ID token, the user at /user and their addresses at /user/emails.
 * `tamper` makes the next ID tokens or codes wrong in one way, for the refusal tests. Access tokens come
 * with a refresh token (the refresh grant rotates it) and last `expiresIn` seconds; /revoke is RFC 7009.
 */
import { createHash, generateKeyPairSync, randomBytes, type KeyObject } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import jwt from "jsonwebtoken";

export interface FakeIdentity {
	sub: string;
	email?: string;
	email_verified?: boolean;
	name?: string;
}

export interface Tamper {
	aud?: string;
	nonce?: string;
	/** sign ID tokens with a key the JWKS does not publish under that kid */
	foreignKey?: boolean;
	/** codes are already expired when redeemed */
	expiredCodes?: boolean;
}

export interface FakeProvider {
	kind: "oidc" | "oauth2";
	baseUrl: string;
	clientId: string;
	clientSecret: string;
	next: FakeIdentity;
	tamper: Tamper;
	/** one entry per code redeemed: did the verifier match the challenge? */
	redeemed: { pkce: boolean; status: number }[];
	/** lifetime of the access tokens it issues (seconds) */
	expiresIn: number;
	/** refresh grants answered */
	refreshes: number;
	/** tokens revoked at /revoke */
	revoked: string[];
	/** answers the token endpoint gives before working normally again, one per request */
	failures: { status: number; retryAfter?: string }[];
	/** requests the token endpoint received */
	tokenHits: number;
	/** the token endpoint takes the client's credentials only as HTTP Basic (as Notion does), not in the body */
	basicClientAuth: boolean;
	/** how long the token endpoint takes to answer (ms): makes concurrent callers overlap */
	tokenDelayMs: number;
	/** GitHub-style `GET /issues?filter=assigned` (oauth2 only): the issues it lists to any valid token, `issuesPerPage` a page (Link rel="next") */
	issues: { id: number; title: string; body: string | null; state: "open" | "closed"; pull_request?: object }[];
	issuesPerPage: number;
	/** answers /issues gives before working normally again, one per request */
	apiFailures: { status: number; retryAfter?: string }[];
	/** requests /issues received */
	issueHits: number;
	/** Notion-style `POST /v1/databases/{id}/query` (oauth2 only): the database id it knows, its rows (Notion pages), `notionPerPage` a page (next_cursor) */
	notionDatabaseId: string;
	notionRows: { id: string; archived?: boolean; properties: Record<string, unknown> }[];
	notionPerPage: number;
	/** requests the Notion query received */
	notionHits: number;
	/** whether an access token works at the provider's API right now */
	isValid(accessToken: string): boolean;
	/** what the provider's config in OAUTH_PROVIDERS looks like */
	config(): Record<string, unknown>;
	stop(): Promise<void>;
}

interface Grant {
	identity: FakeIdentity;
	challenge: string;
	method: string;
	redirectUri: string;
	nonce?: string;
	at: number;
}

const b64url = (b: Buffer) => b.toString("base64url");

export async function startFakeProvider(kind: "oidc" | "oauth2"): Promise<FakeProvider> {
	const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
	const other: KeyObject = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
	const kid = "fake-key-1";
	const grants = new Map<string, Grant>();
	const tokens = new Map<string, FakeIdentity>();
	const refreshTokens = new Map<string, FakeIdentity>();
	const issue = (who: FakeIdentity) => {
		const accessToken = b64url(randomBytes(16));
		const refreshToken = b64url(randomBytes(16));
		tokens.set(accessToken, who);
		refreshTokens.set(refreshToken, who);
		return { accessToken, refreshToken };
	};

	const readBody = (req: http.IncomingMessage) =>
		new Promise<string>(resolve => {
			let body = "";
			req.on("data", c => (body += c));
			req.on("end", () => resolve(body));
		});
	const readForm = async (req: http.IncomingMessage) => new URLSearchParams(await readBody(req));
	const json = (res: http.ServerResponse, status: number, body: unknown) => {
		res.writeHead(status, { "content-type": "application/json" });
		res.end(JSON.stringify(body));
	};

	const server = http.createServer(async (req, res) => {
		const url = new URL(req.url ?? "/", fake.baseUrl);
		if (kind === "oidc" && url.pathname === "/.well-known/openid-configuration")
			return json(res, 200, {
				issuer: fake.baseUrl,
				authorization_endpoint: `${fake.baseUrl}/authorize`,
				token_endpoint: `${fake.baseUrl}/token`,
				userinfo_endpoint: `${fake.baseUrl}/userinfo`,
				jwks_uri: `${fake.baseUrl}/jwks`,
				response_types_supported: ["code"],
				subject_types_supported: ["public"],
				id_token_signing_alg_values_supported: ["RS256"],
				code_challenge_methods_supported: ["S256"],
			});
		if (kind === "oidc" && url.pathname === "/jwks")
			return json(res, 200, { keys: [{ ...publicKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" }] });
		if (url.pathname === "/authorize") {
			const q = url.searchParams;
			if (
				q.get("client_id") !== fake.clientId ||
				q.get("response_type") !== "code" ||
				!q.get("code_challenge") ||
				!q.get("redirect_uri") ||
				!q.get("state")
			)
				return json(res, 400, { error: "invalid_request" });
			const code = b64url(randomBytes(16));
			grants.set(code, {
				identity: { ...fake.next },
				challenge: q.get("code_challenge")!,
				method: q.get("code_challenge_method") ?? "plain",
				redirectUri: q.get("redirect_uri")!,
				nonce: q.get("nonce") ?? undefined,
				at: Date.now(),
			});
			const back = new URL(q.get("redirect_uri")!);
			back.searchParams.set("code", code);
			back.searchParams.set("state", q.get("state")!);
			res.writeHead(302, { location: back.href });
			return res.end();
		}
		if (url.pathname === "/token" && req.method === "POST") {
			const f = await readForm(req);
			fake.tokenHits++;
			if (fake.tokenDelayMs) await new Promise(resolve => setTimeout(resolve, fake.tokenDelayMs));
			const failure = fake.failures.shift();
			if (failure) {
				res.writeHead(failure.status, failure.retryAfter ? { "retry-after": failure.retryAfter } : {});
				return res.end();
			}
			const refuse = (status: number, error: string) => {
				fake.redeemed.push({ pkce: false, status });
				json(res, status, { error });
			};
			const basic = /^Basic (.+)$/.exec(req.headers.authorization ?? "");
			const [basicId, basicSecret] = basic ? Buffer.from(basic[1], "base64").toString().split(":").map(decodeURIComponent) : [];
			const authenticated = fake.basicClientAuth
				? basicId === fake.clientId && basicSecret === fake.clientSecret && !f.has("client_secret")
				: f.get("client_id") === fake.clientId && f.get("client_secret") === fake.clientSecret;
			if (!authenticated) return refuse(401, "invalid_client");
			if (f.get("grant_type") === "refresh_token") {
				const who = refreshTokens.get(f.get("refresh_token") ?? "");
				refreshTokens.delete(f.get("refresh_token") ?? "");
				if (!who) return json(res, 400, { error: "invalid_grant" });
				fake.refreshes++;
				const next = issue(who);
				return json(res, 200, {
					access_token: next.accessToken,
					refresh_token: next.refreshToken,
					token_type: "bearer",
					expires_in: fake.expiresIn,
				});
			}
			const grant = grants.get(f.get("code") ?? "");
			grants.delete(f.get("code") ?? "");
			if (!grant || f.get("grant_type") !== "authorization_code" || f.get("redirect_uri") !== grant.redirectUri)
				return refuse(400, "invalid_grant");
			if (fake.tamper.expiredCodes) return refuse(400, "invalid_grant");
			const pkce =
				grant.method === "S256" &&
				b64url(
					createHash("sha256")
						.update(f.get("code_verifier") ?? "")
						.digest(),
				) === grant.challenge;
			if (!pkce) return refuse(400, "invalid_grant");
			fake.redeemed.push({ pkce, status: 200 });
			const { accessToken, refreshToken } = issue(grant.identity);
			const body: Record<string, unknown> = {
				access_token: accessToken,
				refresh_token: refreshToken,
				token_type: kind === "oidc" ? "Bearer" : "bearer",
				expires_in: fake.expiresIn,
				scope: "openid email",
			};
			if (kind === "oidc") {
				const { sub, ...claims } = grant.identity;
				body.id_token = jwt.sign({ ...claims, nonce: fake.tamper.nonce ?? grant.nonce }, fake.tamper.foreignKey ? other : privateKey, {
					algorithm: "RS256",
					keyid: kid,
					issuer: fake.baseUrl,
					audience: fake.tamper.aud ?? fake.clientId,
					subject: sub,
					expiresIn: 300,
				});
			}
			return json(res, 200, body);
		}
		if (url.pathname === "/revoke" && req.method === "POST") {
			const f = await readForm(req);
			if (f.get("client_id") !== fake.clientId || f.get("client_secret") !== fake.clientSecret)
				return json(res, 401, { error: "invalid_client" });
			const token = f.get("token") ?? "";
			fake.revoked.push(token);
			tokens.delete(token);
			refreshTokens.delete(token);
			res.writeHead(200);
			return res.end();
		}
		const who = tokens.get((req.headers.authorization ?? "").replace(/^Bearer /i, ""));
		if (!who) return json(res, 401, { message: "Bad credentials" });
		if (url.pathname === "/userinfo") return json(res, 200, who);
		if (kind === "oauth2" && url.pathname === "/user")
			return json(res, 200, { id: Number(who.sub), login: who.name ?? "octo", name: who.name ?? null, email: who.email ?? null });
		if (kind === "oauth2" && url.pathname === "/issues") {
			fake.issueHits++;
			const failure = fake.apiFailures.shift();
			if (failure) {
				res.writeHead(failure.status, failure.retryAfter ? { "retry-after": failure.retryAfter } : {});
				return res.end();
			}
			if (url.searchParams.get("filter") !== "assigned" || url.searchParams.get("state") !== "all")
				return json(res, 422, { message: "filter" });
			const page = Number(url.searchParams.get("page") ?? "1");
			const rows = fake.issues.slice((page - 1) * fake.issuesPerPage, page * fake.issuesPerPage);
			if (page * fake.issuesPerPage < fake.issues.length) {
				const next = new URL(url);
				next.searchParams.set("page", String(page + 1));
				res.setHeader("link", `<${next.href}>; rel="next"`);
			}
			return json(res, 200, rows);
		}
		const notionQuery = /^\/v1\/databases\/([^/]+)\/query$/.exec(url.pathname);
		if (kind === "oauth2" && notionQuery && req.method === "POST") {
			fake.notionHits++;
			const failure = fake.apiFailures.shift();
			if (failure) {
				res.writeHead(failure.status, failure.retryAfter ? { "retry-after": failure.retryAfter } : {});
				return res.end();
			}
			if (req.headers["notion-version"] !== "2022-06-28") return json(res, 400, { object: "error", code: "missing_version" });
			if (decodeURIComponent(notionQuery[1]) !== fake.notionDatabaseId) return json(res, 404, { object: "error", code: "object_not_found" });
			const body = JSON.parse((await readBody(req)) || "{}") as { start_cursor?: string; page_size?: number };
			const from = Number(body.start_cursor ?? "0");
			// like Notion, archived rows are not in a query's results
			const live = fake.notionRows.filter(r => !r.archived);
			const rows = live.slice(from, from + fake.notionPerPage);
			const more = from + fake.notionPerPage < live.length;
			return json(res, 200, { object: "list", results: rows, has_more: more, next_cursor: more ? String(from + fake.notionPerPage) : null });
		}
		if (kind === "oauth2" && url.pathname === "/user/emails")
			return json(res, 200, who.email ? [{ email: who.email, verified: who.email_verified === true, primary: true }] : []);
		json(res, 404, { error: "not_found" });
	});
	await new Promise<void>(resolve => server.listen(0, "127.0.0.1", resolve));
	const fake: FakeProvider = {
		kind,
		baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
		clientId: `client-${kind}`,
		clientSecret: `secret-${kind}`,
		next: { sub: "1", email: "someone@example.com", email_verified: true, name: "Someone" },
		tamper: {},
		redeemed: [],
		expiresIn: 3600,
		refreshes: 0,
		tokenDelayMs: 0,
		basicClientAuth: false,
		revoked: [],
		failures: [],
		tokenHits: 0,
		issues: [],
		issuesPerPage: 2,
		apiFailures: [],
		issueHits: 0,
		notionDatabaseId: "8a3b5d1e-0c2f-4e6a-9b7d-1f2e3d4c5b6a",
		notionRows: [],
		notionPerPage: 2,
		notionHits: 0,
		isValid: token => tokens.has(token),
		config() {
			return kind === "oidc"
				? { kind, issuer: fake.baseUrl, clientId: fake.clientId, clientSecret: fake.clientSecret }
				: {
						kind,
						authorizationEndpoint: `${fake.baseUrl}/authorize`,
						tokenEndpoint: `${fake.baseUrl}/token`,
						userinfoEndpoint: `${fake.baseUrl}/user`,
						emailsEndpoint: `${fake.baseUrl}/user/emails`,
						clientId: fake.clientId,
						clientSecret: fake.clientSecret,
					};
		},
		stop: () => new Promise<void>(resolve => server.close(() => resolve())),
	};
	return fake;
}
