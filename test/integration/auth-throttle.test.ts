/**
 * Failed sign-in throttling: per (account, client address) with a growing delay, a high per-account
 * ceiling that known addresses pass, shared by every auth node through Redis, failing open when Redis
 * is unreachable. The memory cases move a fake clock instead of sleeping. The Redis cases need a Redis
 * at REDIS_URL (default redis://127.0.0.1:6379); without one they are reported as skipped, never passed.
 */
import { randomUUID } from "node:crypto";
import { spawnSync } from "node:child_process";
import { FailureThrottle } from "../../services/identity/throttle";

const REDIS = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const { hostname, port } = new URL(REDIS);
const redisUp =
	spawnSync(
		process.execPath,
		[
			"-e",
			`require("net").connect(${Number(port) || 6379}, "${hostname}").on("connect", () => process.exit(0)).on("error", () => process.exit(1))`,
		],
		{
			timeout: 3000,
		},
	).status === 0;
if (!redisUp) process.stdout.write(`auth-throttle: Redis not reachable at ${REDIS}; the Redis cases are NOT RUN (skipped)\n`);
const withRedis = redisUp ? it : it.skip;

const ACCOUNT = "victim@example.com";
const STRANGER = "203.0.113.66";
const OWNER = "198.51.100.7";

describe("failed sign-in throttle", () => {
	let clock = 1_000_000;
	const now = () => clock;
	const policy = { freeFailures: 3, baseDelaySec: 1, maxDelaySec: 60, windowSec: 600, accountMax: 10, knownAddressSec: 3600 };

	it("slows one address with a growing delay while the owner, from another address, is not affected", async () => {
		const t = new FailureThrottle({ prefix: `t${randomUUID()}`, now, ...policy, accountMax: 100 });
		for (let i = 0; i < 3; i++) {
			expect(await t.blockedFor(ACCOUNT, STRANGER)).toBe(0);
			expect((await t.fail(ACCOUNT, STRANGER)).retryAfterSec).toBe(0);
		}
		// each failure past the free ones doubles the wait of this (account, address) pair
		const waits: number[] = [];
		for (let i = 0; i < 7; i++) {
			expect(await t.blockedFor(ACCOUNT, STRANGER)).toBe(0);
			const { retryAfterSec } = await t.fail(ACCOUNT, STRANGER);
			waits.push(retryAfterSec);
			expect(await t.blockedFor(ACCOUNT, STRANGER)).toBe(retryAfterSec);
			expect(await t.blockedFor(ACCOUNT, OWNER)).toBe(0); // the owner signs in from elsewhere, unhindered
			expect(await t.blockedFor("someone-else@example.com", STRANGER)).toBe(0);
			clock += retryAfterSec * 1000 - 1;
			expect(await t.blockedFor(ACCOUNT, STRANGER)).toBe(1); // not a millisecond early
			clock += 1;
		}
		expect(waits).toEqual([1, 2, 4, 8, 16, 32, 60]); // capped at maxDelaySec
		t.close();
	});

	it("starts a pair over after a successful sign-in, and forgets it after the window", async () => {
		const t = new FailureThrottle({ prefix: `t${randomUUID()}`, now, ...policy, accountMax: 100 });
		for (let i = 0; i < 4; i++) await t.fail(ACCOUNT, OWNER);
		expect(await t.blockedFor(ACCOUNT, OWNER)).toBe(1);
		clock += 1000;
		await t.succeeded(ACCOUNT, OWNER);
		for (let i = 0; i < 3; i++) expect((await t.fail(ACCOUNT, OWNER)).retryAfterSec).toBe(0);

		for (let i = 0; i < 4; i++) await t.fail(ACCOUNT, STRANGER);
		clock += 600_000 + 1000; // the window plus the delay earned: the pair's count is gone
		expect((await t.fail(ACCOUNT, STRANGER)).retryAfterSec).toBe(0);
		t.close();
	});

	it("stops unknown addresses at the per-account ceiling; addresses the owner signed in from still get through", async () => {
		const t = new FailureThrottle({ prefix: `t${randomUUID()}`, now, ...policy });
		await t.succeeded(ACCOUNT, OWNER); // the owner's usual address
		// a distributed guess: ten addresses, one failure each (none of them is slowed on its own)
		for (let i = 0; i < 10; i++) {
			expect(await t.blockedFor(ACCOUNT, `192.0.2.${i}`)).toBe(0);
			await t.fail(ACCOUNT, `192.0.2.${i}`);
		}
		const wait = await t.blockedFor(ACCOUNT, "192.0.2.200");
		expect(wait).toBeGreaterThan(0);
		expect(wait).toBeLessThanOrEqual(600);
		expect(await t.blockedFor(ACCOUNT, OWNER)).toBe(0);
		expect(await t.blockedFor("other@example.com", "192.0.2.200")).toBe(0);
		clock += 600_000;
		expect(await t.blockedFor(ACCOUNT, "192.0.2.200")).toBe(0);
		t.close();
	});

	withRedis("shares the counts between auth nodes through Redis", async () => {
		const prefix = `t${randomUUID()}:login-fail`;
		const nodeA = new FailureThrottle({ redisUrl: REDIS, prefix, ...policy });
		const nodeB = new FailureThrottle({ redisUrl: REDIS, prefix, ...policy });
		try {
			// ioredis connects in the background and queues nothing offline: wait for both connections
			await Promise.all([nodeA.ready(), nodeB.ready()]);
			// concurrent failures all count (one script per failure)
			await Promise.all([nodeA.fail(ACCOUNT, STRANGER), nodeB.fail(ACCOUNT, STRANGER), nodeA.fail(ACCOUNT, STRANGER)]);
			expect(await nodeB.blockedFor(ACCOUNT, STRANGER)).toBe(0);
			expect((await nodeB.fail(ACCOUNT, STRANGER)).retryAfterSec).toBe(1);
			expect(await nodeA.blockedFor(ACCOUNT, STRANGER)).toBe(1);
			expect(await nodeA.blockedFor(ACCOUNT, OWNER)).toBe(0);
			await nodeB.succeeded(ACCOUNT, STRANGER);
			expect(await nodeA.blockedFor(ACCOUNT, STRANGER)).toBe(0);
			// the ceiling is shared too; the known address passes it on the other node
			for (let i = 0; i < 10; i++) await (i % 2 ? nodeA : nodeB).fail(ACCOUNT, `192.0.2.${i}`);
			expect(await nodeA.blockedFor(ACCOUNT, "192.0.2.99")).toBeGreaterThan(0);
			expect(await nodeA.blockedFor(ACCOUNT, STRANGER)).toBe(0);
			await nodeB.reset(ACCOUNT);
			expect(await nodeA.blockedFor(ACCOUNT, "192.0.2.99")).toBe(0);
		} finally {
			await nodeA.reset(ACCOUNT, STRANGER);
			nodeA.close();
			nodeB.close();
		}
	});

	it("lets attempts through when Redis is unreachable (fails open)", async () => {
		const t = new FailureThrottle({ redisUrl: "redis://127.0.0.1:1", prefix: `t${randomUUID()}`, ...policy });
		for (let i = 0; i < 5; i++) await t.fail(ACCOUNT, STRANGER);
		expect(await t.blockedFor(ACCOUNT, STRANGER)).toBe(0);
		t.close();
	});
});
