/**
 * The in-process channels adapter for the embedded mode (no TRANSPORTER).
 *
 * @moleculer/channels' own `Fake` adapter delivers a message once (as a balanced local event) and
 * drops it when the handler throws. This one extends it, delivers directly to one consumer of each
 * group, and adds what the cluster adapter (NATS JetStream) gives us:
 * - retries with exponential backoff: a failed message is delivered again after
 *   `retryDelayMs · 2^(n-1)` (capped by `maxRetryDelayMs`), up to `chan.maxRetries` retries,
 *   so at most `maxRetries + 1` deliveries in all; a failure for an unreachable service (`awaitsService`)
 *   is retried the same way however many deliveries there were, until `serviceWaitMs` after publication;
 * - then dead-lettering (when `chan.deadLettering.enabled`) into an in-process dead-letter store that
 *   `lib/dead-letters.ts` lists and replays (a message without dead-lettering is dropped and logged);
 * - `chan.maxInFlight`: at most that many messages of a channel group are being handled at once; the
 *   others wait in a queue (a message waiting for its retry does not hold a slot).
 *
 * The store lives in this process: embedded mode has one process, and a restart loses what was in
 * flight or dead-lettered (the cluster keeps both in JetStream).
 */
import { randomUUID } from "node:crypto";
import { Adapters } from "@moleculer/channels";
import type { ServiceBroker } from "moleculer";
import { awaitsService } from "./channel-retry";

const METRIC_ERRORS = "moleculer.channels.messages.errors.total";
const METRIC_RETRIES = "moleculer.channels.messages.retries.total";
const METRIC_DEAD_LETTERING = "moleculer.channels.messages.deadLettering.total";

/** The header names the NATS adapter uses for a dead letter's origin (kept the same here). */
export const HEADER_ORIGINAL_CHANNEL = "x-original-channel";
export const HEADER_ORIGINAL_GROUP = "x-original-group";

export interface ChannelDef {
	id: string;
	name: string;
	group: string;
	unsubscribing?: boolean;
	maxInFlight?: number | null;
	maxRetries?: number | null;
	deadLettering?: { enabled?: boolean; queueName?: string };
	handler(payload: unknown, raw: RawMessage): Promise<unknown>;
}

export interface RawMessage {
	payload: unknown;
	headers?: Record<string, unknown>;
}

/** One dead letter: the message, where it failed and why. */
export interface StoredDeadLetter {
	id: string;
	/** the channel as published (namespace prefix included) */
	channel: string;
	group: string;
	payload: unknown;
	headers?: Record<string, unknown>;
	error: string;
	attempts: number;
	failedAt: string;
}

export interface EmbeddedChannelOptions {
	prefix?: string;
	maxRetries?: number;
	maxInFlight?: number;
	deadLettering?: { enabled?: boolean; queueName?: string };
	/** first retry delay; doubles on every retry */
	retryDelayMs?: number;
	maxRetryDelayMs?: number;
	/** how long after publication a failure for an unreachable service is retried, however many deliveries (ms) */
	serviceWaitMs?: number;
	/** the dead-letter store keeps at most this many (the oldest go first, logged) */
	deadLetterLimit?: number;
}

interface Pending {
	raw: RawMessage;
	/** deliveries so far */
	attempts: number;
	publishedAt: number;
}

interface Lane {
	chan: ChannelDef;
	queue: Pending[];
	active: number;
	timers: Set<NodeJS.Timeout>;
	idle: (() => void)[];
}

interface FakeBase {
	opts: EmbeddedChannelOptions & { servicePrefix: string; eventPrefix: string } & Record<string, unknown>;
	broker: ServiceBroker;
	logger: ServiceBroker["logger"];
	addPrefixTopic(topic: string): string;
	initChannelActiveMessages(id: string, toThrow?: boolean): void;
	stopChannelActiveMessages(id: string): void;
	addChannelActiveMessages(id: string, ids: (string | number)[]): void;
	removeChannelActiveMessages(id: string, ids: (string | number)[]): void;
	metricsIncrement(metric: string, chan: ChannelDef): void;
	publish(channelName: string, payload: unknown, opts?: { headers?: Record<string, unknown> }): Promise<void>;
}

// @moleculer/channels' typings declare the adapters' public surface only, not the Fake one this extends
const Fake = Adapters.Fake as unknown as new (opts?: object) => FakeBase;

export class EmbeddedChannelAdapter extends Fake {
	private readonly lanes = new Map<string, Lane>();
	private readonly deadLetters = new Map<string, StoredDeadLetter>();
	private deliveries = 0;
	private turn = 0;

	constructor(opts: EmbeddedChannelOptions = {}) {
		super({ retryDelayMs: 200, maxRetryDelayMs: 30_000, serviceWaitMs: 600_000, deadLetterLimit: 10_000, ...opts });
	}

	/**
	 * Registers the consumer in this process. Unlike the Fake adapter, no `$channel:…` service and
	 * event are created per consumer (services appearing and vanishing would churn the registry and
	 * the gateway's aliases): `publish` hands the message to one consumer of each group directly.
	 */
	async subscribe(chan: ChannelDef): Promise<void> {
		if (chan.maxInFlight == null) chan.maxInFlight = this.opts.maxInFlight ?? 1;
		if (chan.maxRetries == null) chan.maxRetries = this.opts.maxRetries ?? 0;
		chan.deadLettering = { ...this.opts.deadLettering, ...chan.deadLettering };
		if (chan.deadLettering.enabled) chan.deadLettering.queueName = this.addPrefixTopic(chan.deadLettering.queueName ?? "DEAD_LETTER");
		this.initChannelActiveMessages(chan.id);
		this.lanes.set(chan.id, { chan, queue: [], active: 0, timers: new Set(), idle: [] });
	}

	async unsubscribe(chan: ChannelDef): Promise<void> {
		if (chan.unsubscribing) return;
		chan.unsubscribing = true;
		const lane = this.lanes.get(chan.id);
		if (!lane) return;
		for (const t of lane.timers) clearTimeout(t);
		const lost = lane.queue.length + lane.timers.size;
		if (lost)
			this.logger.warn(
				`Channel '${chan.name}' (${chan.group}) stops with ${lost} message(s) not yet handled: they are lost (embedded adapter).`,
			);
		lane.timers.clear();
		lane.queue.length = 0;
		if (lane.active > 0) await new Promise<void>(resolve => lane.idle.push(resolve));
		this.lanes.delete(chan.id);
		this.stopChannelActiveMessages(chan.id);
	}

	async disconnect(): Promise<void> {
		for (const lane of this.lanes.values()) for (const t of lane.timers) clearTimeout(t);
		// the base adapter's `connected` flag is not in its typings
		(this as unknown as { connected: boolean }).connected = false;
	}

	/**
	 * One copy of the message (serialized and back, as over NATS) to one consumer of each group
	 * subscribed to the channel. Without any consumer the message is dropped, as with the Fake adapter.
	 */
	override async publish(channelName: string, payload: unknown, opts: { headers?: Record<string, unknown> } = {}): Promise<void> {
		const groups = new Map<string, Lane[]>();
		for (const lane of this.lanes.values()) {
			if (lane.chan.name !== channelName || lane.chan.unsubscribing) continue;
			groups.set(lane.chan.group, [...(groups.get(lane.chan.group) ?? []), lane]);
		}
		if (!groups.size) {
			this.logger.debug(`No consumer for '${channelName}': message dropped.`);
			return;
		}
		const serializer = (this as unknown as { serializer: { serialize(o: unknown): Buffer; deserialize(b: Buffer): unknown } }).serializer;
		const bytes = serializer.serialize(payload ?? null);
		for (const lanes of groups.values()) {
			const lane = lanes[this.turn++ % lanes.length];
			this.enqueue(lane.chan.id, {
				raw: { payload: serializer.deserialize(bytes), headers: opts.headers ? { ...opts.headers } : undefined },
				attempts: 0,
				publishedAt: Date.now(),
			});
		}
	}

	private enqueue(chanId: string, msg: Pending): void {
		const lane = this.lanes.get(chanId);
		if (!lane || lane.chan.unsubscribing) return;
		lane.queue.push(msg);
		this.pump(lane);
	}

	private pump(lane: Lane): void {
		const limit = Math.max(1, lane.chan.maxInFlight ?? 1);
		while (lane.active < limit && lane.queue.length) {
			const msg = lane.queue.shift()!;
			lane.active++;
			void this.deliver(lane, msg).finally(() => {
				lane.active--;
				if (lane.active === 0 && !lane.queue.length) for (const resolve of lane.idle.splice(0)) resolve();
				this.pump(lane);
			});
		}
	}

	private async deliver(lane: Lane, msg: Pending): Promise<void> {
		const { chan } = lane;
		const deliveryId = ++this.deliveries;
		msg.attempts++;
		this.addChannelActiveMessages(chan.id, [deliveryId]);
		try {
			await chan.handler(msg.raw.payload, msg.raw);
		} catch (err) {
			this.metricsIncrement(METRIC_ERRORS, chan);
			this.handleFailure(lane, msg, err as Error);
		} finally {
			this.removeChannelActiveMessages(chan.id, [deliveryId]);
		}
	}

	private handleFailure(lane: Lane, msg: Pending, err: Error): void {
		const { chan } = lane;
		const retries = chan.maxRetries ?? 0;
		const waiting = awaitsService(err) && Date.now() - msg.publishedAt < this.opts.serviceWaitMs!;
		if ((waiting || msg.attempts <= retries) && !chan.unsubscribing) {
			const delay = Math.min(this.opts.retryDelayMs! * 2 ** (msg.attempts - 1), this.opts.maxRetryDelayMs!);
			this.metricsIncrement(METRIC_RETRIES, chan);
			this.logger.warn(`Channel '${chan.name}' (${chan.group}): delivery ${msg.attempts} failed (${err?.message}); retry in ${delay} ms.`);
			const timer = setTimeout(() => {
				lane.timers.delete(timer);
				if (!chan.unsubscribing) {
					lane.queue.push(msg);
					this.pump(lane);
				}
			}, delay);
			lane.timers.add(timer);
			return;
		}
		if (chan.deadLettering?.enabled) {
			this.storeDeadLetter({
				id: randomUUID(),
				channel: chan.name,
				group: chan.group,
				payload: msg.raw.payload,
				headers: msg.raw.headers,
				error: err?.message ?? String(err),
				attempts: msg.attempts,
				failedAt: new Date().toISOString(),
			});
			this.metricsIncrement(METRIC_DEAD_LETTERING, chan);
			this.logger.warn(`Channel '${chan.name}' (${chan.group}): failed ${msg.attempts} time(s) (${err?.message}); moved to the dead letters.`);
		} else {
			this.logger.error(
				`Channel '${chan.name}' (${chan.group}): failed ${msg.attempts} time(s) (${err?.message}); dropped (no dead-lettering).`,
			);
		}
	}

	private storeDeadLetter(dl: StoredDeadLetter): void {
		this.deadLetters.set(dl.id, dl);
		const limit = this.opts.deadLetterLimit!;
		while (this.deadLetters.size > limit) {
			const [oldest] = this.deadLetters.keys();
			this.logger.error(`Dead-letter store full (${limit}): dropping the oldest, ${oldest}.`);
			this.deadLetters.delete(oldest);
		}
	}

	/** Dead letters, oldest first. */
	listDeadLetters(): StoredDeadLetter[] {
		return [...this.deadLetters.values()];
	}

	getDeadLetter(id: string): StoredDeadLetter | undefined {
		return this.deadLetters.get(id);
	}

	removeDeadLetter(id: string): boolean {
		return this.deadLetters.delete(id);
	}
}
