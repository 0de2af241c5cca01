/**
 * The refresh of a connection's token is one refresh cluster-wide when Redis is configured: two nodes
 * (two brokers, each with its own `integrations` service and its own in-process mutex) asking for the
 * same expiring connection at once make one refresh call at the provider, which rotates refresh tokens,
 * and both get the new token. The cluster's shared store (Mongo in production) is stood in for by the
 * first node's collection, given to the second.
 */
import { randomUUID } from "node:crypto";
import type { Service, ServiceBroker } from "moleculer";
import { startFakeProvider, type FakeProvider } from "../helpers/fake-oauth-provider";
import { startPlatform, type Platform } from "../helpers/platform";

describe("integrations: token refresh across nodes (Redis lock)", () => {
	let p: Platform;
	let b: Platform;
	let gh: FakeProvider;
	let ownOfB: unknown;

	beforeAll(async () => {
		gh = await startFakeProvider("oauth2");
		const integrations = {
			github: {
				authorizationEndpoint: `${gh.baseUrl}/authorize`,
				tokenEndpoint: `${gh.baseUrl}/token`,
				clientId: gh.clientId,
				clientSecret: gh.clientSecret,
			},
		};
		// one namespace: the nodes of one cluster (the lock's keys are under it)
		const env = {
			NAMESPACE: `trl${randomUUID().slice(0, 8)}`,
			DB_DRIVER: "memory",
			REDIS_URL: "redis://127.0.0.1:6379",
			INTEGRATION_PROVIDERS: JSON.stringify(integrations),
		};
		p = await startPlatform({ services: ["integrations"], env });
		b = await startPlatform({ services: ["integrations"], gateway: false, env });
		const onA = p.broker.getLocalService("integrations") as Service & { connections: unknown };
		const onB = b.broker.getLocalService("integrations") as Service & { connections: unknown };
		ownOfB = onB.connections;
		onB.connections = onA.connections;
	});
	afterAll(async () => {
		// each node closes its own collection
		if (ownOfB) (b.broker.getLocalService("integrations") as Service & { connections: unknown }).connections = ownOfB;
		await b?.stop();
		await p?.stop();
		await gh.stop();
	});

	it("two nodes refreshing one connection at once: one refresh at the provider, the same new token on both", async () => {
		gh.expiresIn = 30; // under the refresh margin: the first use refreshes
		const start = await p.http("POST", "/api/integrations/github/connect", { token: p.token({ sub: "u1", tid: null, roles: [] }) });
		const cookie = start.headers.get("set-cookie")!.split(";")[0];
		const back = await fetch(start.body.authorizationUrl, { redirect: "manual" });
		const cb = new URL(back.headers.get("location")!);
		const connection = (await p.http("GET", cb.pathname + cb.search, { headers: { cookie } })).body as { id: string };
		expect(connection.id).toEqual(expect.any(String));

		gh.expiresIn = 3600;
		gh.tokenDelayMs = 300; // the first refresh is still in flight when the other node asks
		const before = gh.refreshes;
		const call = (b: ServiceBroker) => b.call("integrations.accessToken", { connectionId: connection.id }) as Promise<{ accessToken: string }>;
		const [onA, onB] = await Promise.all([call(p.broker), call(b.broker)]);
		gh.tokenDelayMs = 0;
		expect(gh.refreshes - before).toBe(1);
		expect(onB.accessToken).toBe(onA.accessToken);
		expect(gh.isValid(onA.accessToken)).toBe(true);
	});
});
