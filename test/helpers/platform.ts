/**
 * The platform in-process for tests: a real ServiceBroker with the project's middlewares, the chosen
 * services and, unless `gateway: false`, the real gateway on an ephemeral port.
 *
 *   const p = await startPlatform({ services: ["greeter"] });
 *   const res = await p.http("GET", "/api/greeter/me", { token: p.token({ sub: "u1", tid: "t1", roles: ["member"] }) });
 *   await p.stop();
 *
 * Tokens are signed with the dev key ring in this test process' DATA_DIR, the same ring the real
 * `auth` service serves as JWKS. When `auth` is not among the services, a stand-in publishing that
 * JWKS is started so the gateway can verify tokens.
 */
import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import { ServiceBroker, type BrokerOptions, type Service, type ServiceSchema } from "moleculer";
import { config, resetConfig } from "../../lib/config";
import { loadKeyRing, toJwks, type KeyRing } from "../../lib/keys";
import { signAccessToken, type AccessTokenInput } from "../../lib/tokens";
import { brokerOptions } from "../../moleculer.config";
import { selectServices } from "../../services/catalog";

export interface HttpResult<T = any> {
	status: number;
	headers: Headers;
	body: T;
}

export interface Platform {
	broker: ServiceBroker;
	baseUrl: string;
	keys: KeyRing;
	/** a token as auth would sign it; `sid` defaults to a fresh session id (the gateway refuses tokens without one) */
	token(input: TestTokenInput): string;
	http<T = any>(method: string, path: string, opts?: { token?: string; body?: unknown; headers?: Record<string, string> }): Promise<HttpResult<T>>;
	/** every answer `http` received, for checks over all of them (e.g. no secret in any body) */
	responses: HttpResult[];
	stop(): Promise<void>;
}

export type TestTokenInput = Omit<AccessTokenInput, "sid"> & { sid?: string };

export interface PlatformOptions {
	/** service names or domain folders, as in SERVICES */
	services?: string[];
	/** extra schemas (fakes at the edge of the system, test-only services) */
	extra?: ServiceSchema[];
	gateway?: boolean;
	/** environment for this platform (applied before the broker is configured) */
	env?: Record<string, string | undefined>;
	/** changes to the broker options built from that environment (e.g. metrics settings) */
	brokerOptions?: (options: BrokerOptions) => BrokerOptions;
}

export async function startPlatform(opts: PlatformOptions = {}): Promise<Platform> {
	Object.assign(process.env, { PORT: "0", NAMESPACE: `t${randomUUID().slice(0, 8)}`, ...opts.env });
	resetConfig();
	const cfg = config();
	const options = { ...brokerOptions(cfg), nodeID: `test-${randomUUID().slice(0, 8)}` };
	const broker = new ServiceBroker(opts.brokerOptions ? opts.brokerOptions(options) : options);
	const wanted = [...(opts.services ?? []), ...(opts.gateway === false ? [] : ["gateway"])];
	const files = wanted.length ? selectServices(wanted.join(",")) : [];
	for (const f of files) broker.loadService(f.file);
	const keys = loadKeyRing(cfg);
	if (!files.some(f => f.name === "auth")) {
		// the JWKS, and no revocations (gateways fetch them at start: lib/revocations.ts)
		broker.createService({
			name: "auth",
			actions: {
				jwks: { visibility: "public", handler: () => toJwks(loadKeyRing(cfg)) },
				revocations: { visibility: "public", handler: () => ({ entries: [] }) },
			},
		});
	}
	for (const schema of opts.extra ?? []) broker.createService(schema);
	await broker.start();

	const api = broker.getLocalService("api") as (Service & { server: { address(): AddressInfo } }) | undefined;
	const baseUrl = api ? `http://127.0.0.1:${api.server.address().port}` : "";

	const responses: HttpResult[] = [];
	return {
		broker,
		baseUrl,
		keys,
		responses,
		token: input => signAccessToken(loadKeyRing(cfg), cfg, { sid: `test-session-${randomUUID()}`, ...input }),
		async http(method, path, o = {}) {
			const headers: Record<string, string> = { ...o.headers };
			if (o.token) headers.authorization = `Bearer ${o.token}`;
			let body: string | undefined;
			if (o.body !== undefined) {
				headers["content-type"] ??= "application/json";
				body = typeof o.body === "string" ? o.body : JSON.stringify(o.body);
			}
			const res = await fetch(baseUrl + path, { method, headers, body });
			const text = await res.text();
			let parsed: unknown = text;
			try {
				parsed = text ? JSON.parse(text) : null;
			} catch {
				/* not JSON: keep the text */
			}
			const result = { status: res.status, headers: res.headers, body: parsed as never };
			responses.push(result);
			return result;
		},
		async stop() {
			await broker.stop();
		},
	};
}
