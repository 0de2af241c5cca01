/**
 * Failed-login counting: per account, shared by every auth node through Redis, failing open when
 * Redis is unreachable. The Redis cases need a Redis at REDIS_URL (default redis://127.0.0.1:6379);
 * without one they are reported as skipped, never passed.
 */
import { randomUUID } from "node:crypto";
import { spawnSync } from "node:child_process";
import { FailureThrottle } from "../../services/identity/throttle";

const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const { hostname, port } = new URL(REDIS);
const redisUp =
	spawnSync(process.execPath, ["-e", `require("net").connect(${Number(port) || 6379}, "${hostname}").on("connect", () => process.exit(0)).on("error", () => process.exit(1))`], {
		timeout: 3000,
	}).status === 0;
if (!redisUp) process.stdout.write(`auth-throttle: Redis not reachable at ${REDIS}; the Redis cases are NOT RUN (skipped)\n`);
const withRedis = redisUp ? it : it.skip;

describe("failed-login throttle", () => {
	const rule = { max: 3, windowSec: 60 };

	it("blocks an account after `max` failures, counts accounts apart, and resets on success (memory)", async () => {
		const t = new FailureThrottle({ prefix: `t${randomUUID()}`, ...rule });
		for (let i = 0; i < 3; i++) {
			expect(await t.blockedFor("a@example.com")).toBe(0);
			await t.fail("a@example.com");
		}
		const wait = await t.blockedFor("a@example.com");
		expect(wait).toBeGreaterThan(0);
		expect(wait).toBeLessThanOrEqual(60);
		expect(await t.blockedFor("b@example.com")).toBe(0);
		await t.reset("a@example.com");
		expect(await t.blockedFor("a@example.com")).toBe(0);
		t.close();
	});

	withRedis("shares the count between auth nodes through Redis", async () => {
		const prefix = `t${randomUUID()}:login-fail`;
		const nodeA = new FailureThrottle({ redisUrl: REDIS, prefix, ...rule });
		const nodeB = new FailureThrottle({ redisUrl: REDIS, prefix, ...rule });
		try {
			// ioredis connects in the background and queues nothing offline: wait for both connections
			await Promise.all([nodeA.ready(), nodeB.ready()]);
			await nodeA.fail("shared@example.com");
			await nodeB.fail("shared@example.com");
			expect(await nodeA.blockedFor("shared@example.com")).toBe(0);
			await nodeA.fail("shared@example.com");
			expect(await nodeB.blockedFor("shared@example.com")).toBeGreaterThan(0);
			await nodeB.reset("shared@example.com");
			expect(await nodeA.blockedFor("shared@example.com")).toBe(0);
		} finally {
			await nodeA.reset("shared@example.com");
			nodeA.close();
			nodeB.close();
		}
	});

	it("lets attempts through when Redis is unreachable (fails open)", async () => {
		const t = new FailureThrottle({ redisUrl: "redis://127.0.0.1:1", prefix: `t${randomUUID()}`, ...rule });
		for (let i = 0; i < 5; i++) await t.fail("x@example.com");
		expect(await t.blockedFor("x@example.com")).toBe(0);
		t.close();
	});
});
