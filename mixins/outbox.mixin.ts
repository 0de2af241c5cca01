/**
 * Transactional-ish outbox for domain events (cross-service reactions must not be lost; README, "Reliable events (outbox)").
 *
 * A service mixes in `OutboxMixin({ collection: "<service>_outbox" })` and publishes every domain event
 * with `await this.publishEvent(channel, payload)`:
 *
 *  1. the event (an `eventId` and `at` are added when missing) is stored in the service's own outbox
 *     collection (a `Collection`: NeDB file, memory or Mongo, the same storage choice as DbMixin);
 *  2. it is sent with `broker.sendToChannel`; on success the row is marked `sent`;
 *  3. when the send fails the row stays `pending` and the request still succeeds: the `platform.outbox-relay`
 *     job (every minute, when a scheduler runs) and a relay timer as the fallback
 *     (every OUTBOX_RELAY_INTERVAL_MS, doubling up to 12× while sends keep failing) re-send pending rows
 *     oldest first; a channel that fails is skipped for the rest of that run, others go on. While a
 *     channel has pending rows its new events are only stored (not sent directly), so they do not overtake
 *     older ones: order holds per channel and node; the relay is kicked without being awaited.
 *  4. on `started` the relay runs at once, so what a crashed or stopped node left pending goes out;
 *  5. sent rows are pruned after OUTBOX_RETENTION_MS (a day: enough to look at what went out recently).
 *
 * A row the channel refuses every time (not an outage: e.g. a payload over the NATS size limit) holds up
 * its channel (not the others): the log names its eventId at each attempt and the row counts `attempts`
 * and keeps `lastError`; an operator fixes or deletes it. A NATS 503 (no stream captures the channel:
 * no consumer of it ever subscribed) is not retried: see `noStream`.
 *
 * Delivery is at least once: a crash between the send and the `sent` mark, or two nodes relaying the same
 * shared (Mongo) outbox at once, sends an event twice; consumers dedupe by `eventId`.
 *
 * What remains: NeDB has no multi-document transactions, so the entity write and the outbox write are
 * two writes. We store the event AFTER the entity write (the event describes a stored fact, and its payload
 * often needs the stored entity); a crash in the few milliseconds between the two loses that one event.
 * Writing the event first and relaying only rows whose entity exists would close that window but needs a
 * per-event "does the entity exist" check for every kind of event (including deletions, where the answer is
 * inverted); we judged that not worth the complexity. The window is documented in the README, "Reliable events (outbox)".
 */
import { randomUUID } from "node:crypto";
import { sendToChannel as send } from "../lib/channels";
import { config } from "../lib/config";
import { COMPACT_EVENT, OUTBOX_RELAY_EVENT } from "../lib/maintenance";
import { defineMixin, type Mixin } from "../lib/schema";
import { Collection, type CollectionOf } from "./collection";

export interface OutboxRow {
	id: string;
	channel: string;
	payload: Record<string, unknown>;
	status: "pending" | "sent";
	/** insertion order (time, then a per-process counter): the relay sends in this order */
	seq: string;
	createdAt: string;
	sentAt?: string | null;
	/** sent to a channel no stream captures (no consumer ever subscribed): dropped by JetStream */
	noStream?: boolean;
	/** failed relay attempts of this row, and the last error (for an operator looking at a stuck outbox) */
	attempts?: number;
	lastError?: string;
}

export interface OutboxOptions {
	/** the outbox collection, owned by the service: `<service>_outbox` */
	collection: string;
	/**
	 * Delete a row once sent instead of keeping it (marked `sent`) for OUTBOX_RETENTION_MS: for payloads
	 * that should not linger at rest. (NeDB appends: the row stays in the file until compaction, so no
	 * secret belongs in an outbox at all; the password-reset event carries a reference, not the token.)
	 */
	removeSent?: boolean;
	/** overrides OUTBOX_RELAY_INTERVAL_MS */
	relayIntervalMs?: number;
}

/** What the mixin adds to `this`. */
export interface OutboxMethods {
	/** Stores the event durably, then sends it (or leaves it to the relay). Never throws for a failed send. */
	publishEvent(channel: string, payload: Record<string, unknown>): Promise<void>;
	/** Sends pending events oldest first, stopping at the first failure; how many were sent. */
	relayOutbox(): Promise<number>;
}

/** The mixin's own methods, beside the ones it publishes. */
interface OutboxInternals extends OutboxMethods {
	kickRelay(): void;
	markSent(id: string, noStream?: boolean): Promise<void>;
	pruneOutbox(): Promise<void>;
	scheduleRelay(delay: number): void;
}

/** What the mixin keeps on `this`. */
export interface OutboxVars {
	outbox: CollectionOf<OutboxRow>;
	outboxState: {
		interval: number;
		failures: number;
		backlogAll: boolean;
		backlog: Set<string>;
		timer?: NodeJS.Timeout;
		relaying?: Promise<number>;
		stopped: boolean;
		lastPrune: number;
	};
}

const MAX_BACKOFF_FACTOR = 12;
export const OUTBOX_RETENTION_MS = 24 * 3600_000;
const PRUNE_EVERY_MS = 3600_000;
const BATCH = 200;
/** A pending row this young may be a direct send in flight: the periodic relay leaves it alone. */
const IN_FLIGHT_GRACE_MS = 10_000;

let counter = 0;
const nextSeq = () => `${Date.now().toString().padStart(15, "0")}-${(counter++ % 1e9).toString().padStart(9, "0")}`;

const PENDING = { status: { $ne: "sent" } };

/**
 * NATS answers 503 (no responders) when no JetStream stream captures the subject: @moleculer/channels
 * creates a channel's stream when a consumer first subscribes, and the stream outlives its consumers, so
 * this means no consumer of the channel was ever started in this namespace. JetStream would keep the
 * event for nobody; we drop it (marked `noStream`) instead of holding the channel's later events forever.
 */
const noStream = (err: unknown) => String((err as { code?: unknown })?.code) === "503";

export function OutboxMixin(opts: OutboxOptions): Mixin {
	return defineMixin<object, OutboxInternals, OutboxVars>({
		events: {
			// the `platform.outbox-relay` job (README, "Platform jobs"): relay now, even while backing off; the timer stays
			[OUTBOX_RELAY_EVENT]() {
				if (!this.outboxState.stopped) void this.relayOutbox();
			},
			// the `platform.compact` job: an outbox appends a line per send, its file is worth compacting too
			async [COMPACT_EVENT]() {
				if (!this.outboxState.stopped) await this.outbox.compact();
			},
		},
		methods: {
			async publishEvent(channel: string, data: Record<string, unknown>) {
				const payload = {
					...data,
					eventId: (data.eventId as string | undefined) ?? randomUUID(),
					at: (data.at as string | undefined) ?? new Date().toISOString(),
				};
				const id = payload.eventId;
				await this.outbox.insert({ id, channel, payload, status: "pending", seq: nextSeq(), sentAt: null });
				const st = this.outboxState;
				// Older events of this channel wait: sending this one now would overtake them. The relay sends them in order.
				if (st.backlogAll || st.backlog.has(channel)) {
					this.kickRelay();
					return;
				}
				try {
					await send(this.broker, channel, payload);
					await this.markSent(id);
				} catch (err) {
					if (noStream(err)) return this.markSent(id, true);
					st.backlog.add(channel);
					this.logger.warn("event kept in the outbox, the relay will send it", { channel, eventId: id, error: (err as Error).message });
				}
			},

			/**
			 * Sends pending events oldest first. A channel whose send fails is skipped for the rest of the run
			 * (its later events must not overtake it); other channels go on. How many were sent.
			 */
			relayOutbox() {
				const st = this.outboxState;
				st.relaying ??= (async () => {
					let sent = 0;
					const blocked = new Map<string, string>();
					try {
						const all = st.backlogAll;
						const held = [...st.backlog];
						for (;;) {
							// Rows of channels without a backlog that are younger than the grace period belong to a direct send in flight.
							const cutoff = new Date(Date.now() - IN_FLIGHT_GRACE_MS).toISOString();
							const query: Record<string, unknown> = all
								? { ...PENDING }
								: { ...PENDING, $or: [{ channel: { $in: held } }, { createdAt: { $lt: cutoff } }] };
							if (blocked.size) query.channel = { $nin: [...blocked.keys()] };
							const rows = await this.outbox.find(query, { sort: ["seq"], limit: BATCH });
							if (!rows.length) break; // until none is left, including events stored meanwhile
							for (const row of rows) {
								if (blocked.has(row.channel)) continue;
								try {
									await send(this.broker, row.channel, row.payload);
									await this.markSent(row.id);
									sent++;
								} catch (err) {
									if (noStream(err)) {
										await this.markSent(row.id, true);
										continue;
									}
									const error = (err as Error).message;
									blocked.set(row.channel, row.id);
									this.logger.warn("outbox: sending failed, will retry", {
										channel: row.channel,
										eventId: row.id,
										attempts: (row.attempts ?? 0) + 1,
										error,
									});
									await this.outbox
										.update({ id: row.id }, { attempts: (row.attempts ?? 0) + 1, lastError: error })
										.catch(() => undefined);
								}
							}
						}
						st.backlogAll = false;
						// channels whose direct send failed while this run went on stay held too
						st.backlog = new Set([...blocked.keys(), ...[...st.backlog].filter(c => !held.includes(c))]);
						st.failures = blocked.size ? st.failures + 1 : 0;
						if (sent) this.logger.info("outbox: pending events sent", { sent });
					} catch (err) {
						// the outbox store itself failed: try again later, holding every channel meanwhile
						st.backlogAll = true;
						st.failures++;
						this.logger.warn("outbox: relay failed, will retry", { sent, error: (err as Error).message });
					} finally {
						st.relaying = undefined;
					}
					await this.pruneOutbox();
					return sent;
				})();
				return st.relaying;
			},

			async markSent(id: string, noStreamFor = false) {
				if (noStreamFor)
					this.logger.warn("outbox: no stream captures this channel (no consumer ever subscribed): event dropped", { eventId: id });
				if (opts.removeSent) await this.outbox.remove({ id });
				else await this.outbox.update({ id }, { status: "sent", sentAt: new Date().toISOString(), ...(noStreamFor && { noStream: true }) });
			},

			/** Runs the relay soon (not awaited by the caller); at most one run at a time. */
			kickRelay() {
				// While the relay is backing off, the timer decides when to try again.
				if (!this.outboxState.stopped && this.outboxState.failures === 0) void this.relayOutbox();
			},

			async pruneOutbox() {
				const now = Date.now();
				if (now - this.outboxState.lastPrune < PRUNE_EVERY_MS) return;
				this.outboxState.lastPrune = now;
				try {
					await this.outbox.remove({ status: "sent", sentAt: { $lt: new Date(now - OUTBOX_RETENTION_MS).toISOString() } });
				} catch (err) {
					this.logger.warn("outbox: could not prune sent events", { error: (err as Error).message });
				}
			},

			scheduleRelay(delay: number) {
				const st = this.outboxState;
				if (st.stopped) return;
				st.timer = setTimeout(() => {
					void this.relayOutbox().finally(() => {
						const factor = Math.min(2 ** st.failures, MAX_BACKOFF_FACTOR);
						this.scheduleRelay(st.interval * factor);
					});
				}, delay);
				st.timer.unref();
			},
		},

		created() {
			this.outbox = new Collection<OutboxRow>({ collection: opts.collection, indexes: [{ fields: ["status"] }, { fields: ["seq"] }] });
			this.outboxState = {
				interval: opts.relayIntervalMs ?? config().OUTBOX_RELAY_INTERVAL_MS,
				failures: 0,
				backlogAll: false,
				backlog: new Set(),
				stopped: false,
				lastPrune: 0,
			};
		},

		async started() {
			await this.outbox.open(this.broker);
			this.outboxState.stopped = false;
			// What a previous run left pending goes out first: mark the backlog until the relay has run.
			this.outboxState.backlogAll = (await this.outbox.count(PENDING)) > 0;
			this.scheduleRelay(0);
		},

		async stopped() {
			this.outboxState.stopped = true;
			clearTimeout(this.outboxState.timer);
			await this.outboxState.relaying;
			await this.outbox.close();
		},
	});
}
