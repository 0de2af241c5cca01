/**
 * The platform jobs (README, "Jobs, schedules and analytics" → "Platform jobs"), in-process on the
 * embedded NeDB files: `identity.purge` removes expired sessions and expired or spent reset tokens and
 * keeps live ones; `platform.compact` reaches the db-backed services, which compact their datafiles;
 * `platform.outbox-relay` makes an outbox relay a pending row at once (its own timer set to an hour).
 * Each is registered as a platform schedule with the scheduler.
 */
import fs from "node:fs";
import type { Service, ServiceSchema } from "moleculer";
import type { CollectionOf } from "../../mixins/collection";
import { OutboxMixin, type OutboxRow } from "../../mixins/outbox.mixin";
import type { SessionRow } from "../../services/identity/sessions";
import type { ResetRow } from "../../services/identity/auth/types";
import { config, dataPath } from "../../lib/config";
import { startPlatform, type Platform } from "../helpers/platform";
import { runPlatformJob } from "../helpers/platform-jobs";
import { waitFor } from "../helpers/wait";

describe("platform jobs", () => {
	let p: Platform;
	const relayed: unknown[] = [];

	beforeAll(async () => {
		const outboxService = {
			name: "outboxprobe",
			mixins: [OutboxMixin({ collection: "outboxprobe_outbox", relayIntervalMs: 3600_000 })],
			channels: {
				"test.relayed": {
					group: "outboxprobe",
					handler(ctx: { params: unknown }) {
						relayed.push(ctx.params);
					},
				},
			},
		} as ServiceSchema;
		p = await startPlatform({
			services: ["auth", "jobs", "scheduler", "notes"],
			extra: [outboxService],
			gateway: false,
			env: { DB_DRIVER: "nedb", SCHEDULER_TICK_MS: "1000" },
		});
	});
	afterAll(() => p?.stop());

	const runJob = (type: string) => runPlatformJob(p.broker, type);

	it("registers each platform job as a platform schedule", async () => {
		const store = (
			p.broker.getLocalService("scheduler") as Service & { store: { get(id: string): Promise<{ jobType: string; cron: string } | null> } }
		).store;
		for (const [id, jobType, cron] of [
			["identity-purge", "identity.purge", "0 * * * *"],
			["platform-compact", "platform.compact", "30 3 * * *"],
			["platform-outbox-relay", "platform.outbox-relay", "* * * * *"],
		])
			await waitFor(
				async () => {
					const row = await store.get(id);
					return row?.jobType === jobType && row.cron === cron;
				},
				{ what: `schedule ${id}` },
			);
	});

	it("identity.purge removes expired sessions and expired or spent reset tokens, and keeps live ones", async () => {
		const auth = p.broker.getLocalService("auth") as Service & { sessionRows: CollectionOf<SessionRow>; resets: CollectionOf<ResetRow> };
		const past = new Date(Date.now() - 60_000).toISOString();
		const future = new Date(Date.now() + 3600_000).toISOString();
		const session = (id: string, expiresAt: string) => ({
			id,
			userId: "u1",
			familyId: `f-${id}`,
			familyCreatedAt: past,
			tokenHash: `hash-${id}`,
			tenantId: null,
			expiresAt,
			revokedAt: null,
			replacedBy: null,
			userAgent: null,
			ip: null,
		});
		await auth.sessionRows.insert(session("s-expired", past));
		await auth.sessionRows.insert(session("s-live", future));
		const reset = (id: string, expiresAt: string, usedAt: string | null) => ({ id, userId: "u1", tokenHash: `rh-${id}`, expiresAt, usedAt });
		await auth.resets.insert(reset("r-expired", past, null));
		await auth.resets.insert(reset("r-spent", future, past));
		await auth.resets.insert(reset("r-live", future, null));

		const job = await runJob("identity.purge");
		expect(job?.status).toBe("completed");
		expect(job?.result).toMatchObject({ sessions: 1, resetTokens: 2 });
		expect((await auth.sessionRows.find({})).map(r => r.id)).toEqual(["s-live"]);
		expect((await auth.resets.find({})).map(r => r.id)).toEqual(["r-live"]);
	});

	it("platform.compact reaches the db-backed services: their datafiles (main, secondary, outbox) lose removed rows", async () => {
		const notes = p.broker.getLocalService("notes") as Service & {
			adapter: { db: { filename: string; insertAsync(d: object): Promise<unknown>; removeAsync(q: object, o: object): Promise<number> } };
		};
		const db = notes.adapter.db;
		for (let i = 0; i < 20; i++) await db.insertAsync({ _id: `gone-${i}`, title: "x" });
		await db.removeAsync({ title: "x" }, { multi: true });
		const file = () => fs.readFileSync(db.filename, "utf8");
		expect(file()).toContain('"$$deleted":true');
		// auth's sessions and the probe's outbox: collections beside the main one
		const auth = p.broker.getLocalService("auth") as Service & { sessionRows: CollectionOf<SessionRow> };
		await auth.sessionRows.insert({ id: "gone-session", userId: "u2", familyId: "f", familyCreatedAt: "", tokenHash: "gone-hash" } as SessionRow);
		await auth.sessionRows.remove({ id: "gone-session" });
		const probe = p.broker.getLocalService("outboxprobe") as Service & { outbox: CollectionOf<OutboxRow> };
		await probe.outbox.insert({ id: "gone-event", channel: "x", payload: {}, status: "sent", seq: "0" });
		await probe.outbox.remove({ id: "gone-event" });
		const sessionsFile = () => fs.readFileSync(dataPath(config(), "db", "sessions.db"), "utf8");
		const outboxFile = () => fs.readFileSync(dataPath(config(), "db", "outboxprobe_outbox.db"), "utf8");
		expect(sessionsFile()).toContain("gone-session");
		expect(outboxFile()).toContain("gone-event");

		const job = await runJob("platform.compact");
		expect(job?.status).toBe("completed");
		await waitFor(() => !file().includes("gone-") && !sessionsFile().includes("gone-") && !outboxFile().includes("gone-"), {
			what: "the notes, sessions and outbox datafiles compacted",
		});
	});

	it("platform.outbox-relay makes an outbox relay a pending row now", async () => {
		const probe = p.broker.getLocalService("outboxprobe") as Service & { outbox: CollectionOf<OutboxRow> };
		// a row left pending by a failed send a while ago (older than a direct send in flight)
		await probe.outbox.insert({
			id: "evt-pending",
			channel: "test.relayed",
			payload: { eventId: "evt-pending", n: 1 },
			status: "pending",
			seq: "000000000000000-000000000",
			createdAt: new Date(Date.now() - 120_000).toISOString(),
			sentAt: null,
		});
		expect(relayed).toHaveLength(0);

		const job = await runJob("platform.outbox-relay");
		expect(job?.status).toBe("completed");
		await waitFor(() => relayed.length === 1, { what: "the pending event relayed" });
		expect(relayed[0]).toMatchObject({ eventId: "evt-pending" });
		expect((await probe.outbox.findOne({ id: "evt-pending" }))?.status).toBe("sent");
	});
});
