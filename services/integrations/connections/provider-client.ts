/**
 * One connectable provider (lib/config.ts IntegrationProviderConfig) through oauth4webapi: the
 * authorization URL (code + PKCE S256 + state), the code exchange, the refresh grant and RFC 7009
 * revocation. Every call goes through resilientFetch (timeout OAUTH_TIMEOUT_MS per attempt, retries on
 * 5xx/429, a circuit breaker); plain http only for a loopback provider (config allows nothing else).
 */
import type { IntegrationProviderConfig, NotionMapping } from "../../../lib/config";
import { oauth4webapi, type OAuth } from "../../identity/oauth/oauth4webapi";
import { IntegrationSyncUnavailableError } from "../../../lib/errors";
import { ProviderUnavailableError, resilientFetch } from "./resilient-fetch";
import type { ProviderIssue } from "./types";

export interface ProviderTokens {
	accessToken: string;
	refreshToken: string | null;
	/** ISO time, or null when the provider says nothing (GitHub OAuth Apps: tokens that do not expire) */
	expiresAt: string | null;
	scope: string | null;
}

export class IntegrationClient {
	private readonly as: OAuth.AuthorizationServer;
	private readonly client: OAuth.Client;
	private readonly fetch: ReturnType<typeof resilientFetch>;

	constructor(
		readonly name: string,
		private readonly cfg: IntegrationProviderConfig,
		timeoutMs: number,
	) {
		this.as = {
			issuer: new URL(cfg.authorizationEndpoint).origin,
			authorization_endpoint: cfg.authorizationEndpoint,
			token_endpoint: cfg.tokenEndpoint,
			revocation_endpoint: cfg.revocationEndpoint,
		};
		this.client = { client_id: cfg.clientId };
		this.fetch = resilientFetch({ name, timeoutMs });
	}

	get revocable(): boolean {
		return !!this.cfg.revocationEndpoint;
	}

	private options(url: string) {
		const o = oauth4webapi();
		return { [o.customFetch]: this.fetch, [o.allowInsecureRequests]: new URL(url).protocol === "http:" };
	}

	private auth() {
		const o = oauth4webapi();
		const basic = (this.cfg.tokenAuth ?? (this.cfg.notion ? "client_secret_basic" : "client_secret_post")) === "client_secret_basic";
		return basic ? o.ClientSecretBasic(this.cfg.clientSecret ?? "") : o.ClientSecretPost(this.cfg.clientSecret ?? "");
	}

	async begin(redirectUri: string): Promise<{ url: string; state: string; codeVerifier: string }> {
		const o = oauth4webapi();
		const state = o.generateRandomState();
		const codeVerifier = o.generateRandomCodeVerifier();
		const url = new URL(this.cfg.authorizationEndpoint);
		url.searchParams.set("client_id", this.cfg.clientId);
		url.searchParams.set("redirect_uri", redirectUri);
		url.searchParams.set("response_type", "code");
		if (this.cfg.scopes) url.searchParams.set("scope", this.cfg.scopes);
		url.searchParams.set("state", state);
		url.searchParams.set("code_challenge", await o.calculatePKCECodeChallenge(codeVerifier));
		url.searchParams.set("code_challenge_method", "S256");
		return { url: url.href, state, codeVerifier };
	}

	async exchange(callback: URLSearchParams, state: string, redirectUri: string, codeVerifier: string): Promise<ProviderTokens> {
		const o = oauth4webapi();
		const params = o.validateAuthResponse(this.as, this.client, callback, state);
		const res = await o.authorizationCodeGrantRequest(
			this.as,
			this.client,
			this.auth(),
			params,
			redirectUri,
			codeVerifier,
			this.options(this.cfg.tokenEndpoint),
		);
		return tokensOf(await o.processAuthorizationCodeResponse(this.as, this.client, res));
	}

	/** A new access token; a provider that rotates refresh tokens sends a new one, else the old one stays. */
	async refresh(refreshToken: string): Promise<ProviderTokens> {
		const o = oauth4webapi();
		const res = await o.refreshTokenGrantRequest(this.as, this.client, this.auth(), refreshToken, this.options(this.cfg.tokenEndpoint));
		const tokens = tokensOf(await o.processRefreshTokenResponse(this.as, this.client, res));
		return { ...tokens, refreshToken: tokens.refreshToken ?? refreshToken };
	}

	/** Whether a full listing holds every item the provider still has (a Notion database: a row missing from it was deleted or archived). */
	get listsEverything(): boolean {
		return !!this.cfg.notion;
	}

	/**
	 * What the connection mirrors as tasks, page by page: GitHub's issues assigned to the token's user, or
	 * the rows of the configured Notion database. A 429 is waited out by resilientFetch (Retry-After).
	 */
	assignedIssues(accessToken: string, maxPages = 50): AsyncGenerator<ProviderIssue[]> {
		return this.cfg.notion ? this.notionRows(accessToken, this.cfg.notion, maxPages) : this.githubIssues(accessToken, maxPages);
	}

	/**
	 * The rows of a Notion database (`POST /v1/databases/{id}/query`, Notion-Version 2022-06-28), along
	 * `next_cursor` while `has_more`; archived rows are left out by Notion, done rows come as closed.
	 */
	private async *notionRows(accessToken: string, mapping: NotionMapping, maxPages: number): AsyncGenerator<ProviderIssue[]> {
		const url = `${this.cfg.apiBaseUrl!.replace(/\/$/, "")}/v1/databases/${encodeURIComponent(mapping.databaseId)}/query`;
		let cursor: string | undefined;
		for (let page = 0; page < maxPages; page++) {
			const res = await this.fetch(url, {
				method: "POST",
				headers: { authorization: `Bearer ${accessToken}`, "notion-version": NOTION_VERSION, "content-type": "application/json" },
				body: JSON.stringify({ page_size: 100, ...(cursor && { start_cursor: cursor }) }),
			});
			if (!res.ok) throw new ProviderUnavailableError(this.name, res.status);
			const body = (await res.json()) as { results?: unknown; has_more?: boolean; next_cursor?: string | null };
			if (!Array.isArray(body.results)) throw new ProviderUnavailableError(this.name, res.status);
			yield body.results.map(row => notionRowAsIssue(row as NotionPage, mapping));
			if (!body.has_more || !body.next_cursor) return;
			cursor = body.next_cursor;
		}
	}

	/** GitHub's `GET /issues?filter=assigned&state=all`, page by page along the `Link: rel="next"` header. */
	private async *githubIssues(accessToken: string, maxPages: number): AsyncGenerator<ProviderIssue[]> {
		if (!this.cfg.apiBaseUrl) throw new IntegrationSyncUnavailableError(`provider ${this.name} has no apiBaseUrl`);
		let url: string | null = `${this.cfg.apiBaseUrl.replace(/\/$/, "")}/issues?filter=assigned&state=all&per_page=100`;
		const origin = new URL(url).origin;
		for (let page = 0; url && page < maxPages; page++) {
			const res = await this.fetch(url, { headers: { authorization: `Bearer ${accessToken}`, accept: "application/vnd.github+json" } });
			if (!res.ok) throw new ProviderUnavailableError(this.name, res.status);
			const rows = (await res.json()) as unknown;
			if (!Array.isArray(rows)) throw new ProviderUnavailableError(this.name, res.status);
			yield rows as ProviderIssue[];
			url = nextLink(res.headers.get("link"));
			// follow the provider's own pages only: a Link elsewhere would carry our token away
			if (url && new URL(url).origin !== origin) url = null;
		}
	}

	async revoke(token: string): Promise<void> {
		const o = oauth4webapi();
		const res = await o.revocationRequest(this.as, this.client, this.auth(), token, this.options(this.cfg.revocationEndpoint!));
		await o.processRevocationResponse(res);
	}
}

const NOTION_VERSION = "2022-06-28";

interface NotionPage {
	id: string;
	archived?: boolean;
	in_trash?: boolean;
	properties?: Record<
		string,
		{
			type?: string;
			title?: { plain_text?: string }[];
			rich_text?: { plain_text?: string }[];
			status?: { name?: string } | null;
			select?: { name?: string } | null;
		}
	>;
}

/** A Notion row as the issue the task sync takes: title and body from the mapped properties, closed when its status is a done value. */
export function notionRowAsIssue(row: NotionPage, mapping: NotionMapping): ProviderIssue {
	const props = row.properties ?? {};
	const text = (p?: { plain_text?: string }[]) => (p ?? []).map(t => t.plain_text ?? "").join("");
	const status = props[mapping.statusProperty ?? "Status"];
	const statusName = status?.status?.name ?? status?.select?.name;
	const done = (mapping.doneValues ?? ["Done"]).includes(statusName ?? "");
	return {
		id: row.id,
		title: text(props[mapping.titleProperty ?? "Name"]?.title),
		body: mapping.bodyProperty ? text(props[mapping.bodyProperty]?.rich_text) : null,
		state: row.archived || row.in_trash || done ? "closed" : "open",
	};
}

/** The `rel="next"` URL of an RFC 8288 Link header, or null. */
export function nextLink(header: string | null): string | null {
	for (const part of header?.split(",") ?? []) {
		const m = part.match(/<([^>]+)>\s*;\s*rel="?next"?/);
		if (m) return m[1];
	}
	return null;
}

function tokensOf(t: OAuth.TokenEndpointResponse): ProviderTokens {
	return {
		accessToken: t.access_token,
		refreshToken: t.refresh_token ?? null,
		expiresAt: typeof t.expires_in === "number" ? new Date(Date.now() + t.expires_in * 1000).toISOString() : null,
		scope: t.scope ?? null,
	};
}
