/**
 * The stock comparison of the gateway benchmark: moleculer-web as its README shows it, on the same
 * moleculer and moleculer-web versions as Valence (this project's node_modules), with none of
 * Valence's code. Defaults everywhere except a quiet logger (Valence's bench nodes run at
 * LOG_LEVEL=warn too) and metrics off (the default). No authentication, no cache, no rate limit.
 *
 *   ROLE=local   PORT=4001 npx tsx bench/stock-gateway.ts    gateway + greeter in one broker
 *   ROLE=node    TRANSPORTER=nats://127.0.0.1:4222 NAMESPACE=x npx tsx bench/stock-gateway.ts
 *   ROLE=gateway TRANSPORTER=nats://127.0.0.1:4222 NAMESPACE=x PORT=4002 npx tsx bench/stock-gateway.ts
 *
 * `node` runs the greeter alone; `gateway` runs moleculer-web alone and reaches the greeter through
 * NATS (Moleculer's own NATS transporter, JSON serializer, default balancer). Prints "listening on <port>"
 * when the gateway listens. Answers exactly what Valence's greeter answers.
 */
import { ServiceBroker, type Context } from "moleculer";
import ApiGateway from "moleculer-web";

const role = process.env.ROLE ?? "local";
if (!["local", "node", "gateway"].includes(role)) throw new Error(`ROLE must be local, node or gateway (got '${role}')`);
const transporter = role === "local" ? null : ((process.env.TRANSPORTER ?? "nats://127.0.0.1:4222") as "NATS");

const broker = new ServiceBroker({
	namespace: process.env.NAMESPACE ?? "stock",
	nodeID: `stock-${role}-${process.pid}`,
	logLevel: "warn",
	transporter,
	serializer: "JSON",
	metrics: false,
});

if (role !== "gateway")
	broker.createService({
		name: "greeter",
		actions: {
			hello: {
				rest: "GET /hello",
				handler: () => ({ message: "Hello from Valence" }),
			},
			welcome: {
				rest: "GET /welcome/:name",
				params: { name: { type: "string", min: 1, max: 64, trim: true } },
				handler: (ctx: Context<{ name: string }>) => ({ message: `Welcome, ${ctx.params.name}!` }),
			},
		},
	});

if (role !== "node")
	broker.createService({
		name: "api",
		mixins: [ApiGateway],
		settings: {
			port: Number(process.env.PORT ?? 0),
			ip: "127.0.0.1",
			routes: [{ path: "/api", autoAliases: true }],
		},
	});

broker.start().then(async () => {
	if (role === "gateway") await broker.waitForServices(["greeter"], 30_000);
	const api = broker.getLocalService("api") as unknown as { server?: { address(): { port: number } } } | undefined;
	console.log(api?.server ? `listening on ${api.server.address().port}` : "started");
});

const stop = () => broker.stop().finally(() => process.exit(0));
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
