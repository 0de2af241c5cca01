/**
 * The platform jobs the scheduler service owns (README, "Jobs, schedules and analytics" → "Platform jobs").
 * A job runs on one node while stores and outboxes are on every node, so each handler broadcasts and the
 * nodes' DbMixin / OutboxMixin do the work themselves (lib/maintenance.ts).
 */
import { COMPACT_EVENT, OUTBOX_RELAY_EVENT } from "../../../lib/maintenance";
import { JobHandlersMixin } from "../jobs/handlers";
import { PlatformSchedulesMixin } from "./platform-schedules";

export const COMPACT_JOB = "platform.compact";
export const OUTBOX_RELAY_JOB = "platform.outbox-relay";

export const platformJobMixins = [
	JobHandlersMixin({
		[COMPACT_JOB]: {
			async handler() {
				await this.broker.broadcast(COMPACT_EVENT, {});
				return { broadcast: COMPACT_EVENT };
			},
		},
		[OUTBOX_RELAY_JOB]: {
			async handler() {
				await this.broker.broadcast(OUTBOX_RELAY_EVENT, {});
				return { broadcast: OUTBOX_RELAY_EVENT };
			},
		},
	}),
	PlatformSchedulesMixin([
		{ id: "platform-compact", name: "Compact the embedded store", cron: "30 3 * * *", jobType: COMPACT_JOB },
		{ id: "platform-outbox-relay", name: "Relay pending outbox events", cron: "* * * * *", jobType: OUTBOX_RELAY_JOB },
	]),
];
