/**
 * Broadcasts of the platform jobs (README, "Jobs, schedules and analytics" → "Platform jobs"). A job runs
 * on one node, but stores and outboxes live on every node: the job's handler broadcasts one of these and
 * each node's mixins act on their own (DbMixin compacts its NeDB file, OutboxMixin relays now).
 */

/** Every db-backed service compacts its NeDB datafile (`platform.compact`). */
export const COMPACT_EVENT = "platform.compactRequested";

/** Every outbox relays its pending rows now (`platform.outbox-relay`). */
export const OUTBOX_RELAY_EVENT = "platform.outboxRelayRequested";
