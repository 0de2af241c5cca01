/**
 * The purge of expired OAuth flow states (README, "Platform jobs"): `oauthsignin.purge` and
 * `integrations.purge` are platform schedules run by the scheduler through the jobs engine (no timers of
 * their own); each removes the flows past their expiry and keeps live ones.
 */
import type { Service } from "moleculer";
import type { CollectionOf } from "../../mixins/collection";
import { startPlatform, type Platform } from "../helpers/platform";
import { platformSchedule, runPlatformJob } from "../helpers/platform-jobs";

type Pending = { id: string; expiresAt: string };

describe("oauth: expired flow states are purged by platform jobs", () => {
	let p: Platform;

	beforeAll(async () => {
		p = await startPlatform({
			services: ["oauthsignin", "integrations", "jobs", "scheduler"],
			gateway: false,
			env: { DB_DRIVER: "nedb", SCHEDULER_TICK_MS: "1000" },
		});
	});
	afterAll(() => p?.stop());

	const runJob = (type: string) => runPlatformJob(p.broker, type);

	it("registers both purges as platform schedules", async () => {
		for (const [id, jobType] of [
			["oauthsignin-purge", "oauthsignin.purge"],
			["integrations-purge", "integrations.purge"],
		])
			expect((await platformSchedule(p.broker, id)).jobType).toBe(jobType);
	});

	it.each([
		["oauthsignin", "oauthsignin.purge"],
		["integrations", "integrations.purge"],
	])("%s: its purge job removes expired flows and keeps live ones", async (service, jobType) => {
		const pending = (p.broker.getLocalService(service) as Service & { pending: CollectionOf<Pending> }).pending;
		const past = new Date(Date.now() - 60_000).toISOString();
		const future = new Date(Date.now() + 600_000).toISOString();
		const row = (id: string, expiresAt: string) => ({ id, stateHash: `sh-${id}`, provider: "x", expiresAt }) as unknown as Pending;
		await pending.insert(row(`${service}-old`, past));
		await pending.insert(row(`${service}-live`, future));

		const job = await runJob(jobType);
		expect(job.status).toBe("completed");
		expect(job.result).toEqual({ flows: 1 });
		expect((await pending.find({})).map(r => r.id)).toEqual([`${service}-live`]);
	});
});
