/**
 * Durable work between services (@moleculer/channels): NATS JetStream in a cluster, an in-process
 * adapter embedded (`lib/embedded-channels.ts`: the Fake adapter plus retries with backoff,
 * `maxInFlight` and a dead-letter store). Channel names are prefixed with the namespace so clusters
 * sharing one NATS never see each other's messages. Dead letters of both: `lib/dead-letters.ts`.
 *
 * Both adapters retry a failed message with exponential backoff (CHANNELS_RETRY_DELAY_MS, doubling,
 * at most 30 s) and dead-letter it after `maxRetries`. Counting differs by one: NATS dead-letters when
 * the delivery count reaches `maxRetries` (so `maxRetries` deliveries in all), the embedded adapter
 * after `maxRetries` retries (`maxRetries + 1` deliveries).
 *
 * A failure because a service the handler calls has no live node (`awaitsService`: a node restarting,
 * a deploy) is not the message's fault: it never dead-letters the message until CHANNELS_SERVICE_WAIT_MS
 * after its publication; it is retried with the same backoff however many deliveries that takes. The
 * deliveries still count: a message that then fails for another reason past `maxRetries` dead-letters.
 * Counted retries alone (≈ 3 s with the defaults) are shorter than a node's restart.
 */
import { Adapters } from "@moleculer/channels";
import type { ServiceBroker } from "moleculer";
import type { JsMsg } from "nats";
import type { Config } from "./config";
import { awaitsService } from "./channel-retry";
import { EmbeddedChannelAdapter } from "./embedded-channels";

/** Where failed messages go (prefixed with the namespace by the adapter: `<ns>.DEAD_LETTER`). */
export const DEAD_LETTER_QUEUE = "DEAD_LETTER";
const MAX_RETRY_DELAY_MS = 30_000;

type ConsumerHandler = (err: unknown, message: JsMsg | null) => Promise<void>;
interface NatsChannel {
	id: string;
	name: string;
	group: string;
	handler(payload: unknown, message: JsMsg): Promise<unknown>;
}
// @moleculer/channels ships no typings for its adapters: the members this file uses
const NatsBase = Adapters.NATS as unknown as new (opts?: object) => {
	logger: ServiceBroker["logger"];
	createConsumerHandler(chan: NatsChannel): ConsumerHandler;
	subscribe(chan: { id: string }, svc: unknown): Promise<void>;
	stopChannelActiveMessages(channelId: string): void;
	metricsIncrement(metric: string, chan: NatsChannel): void;
};
/** How often a subscription that lost the race to create its group's consumer binds again (see `subscribe`). */
const CONSUMER_RACE_ATTEMPTS = 5;
const METRIC_RETRIES = "moleculer.channels.messages.retries.total";

export interface NatsRetryOptions {
	/** first retry delay (ms); doubles with each delivery, at most 30 s */
	retryDelayMs: number;
	/** how long after its publication a message that fails for an unreachable service is retried, however many deliveries (ms) */
	serviceWaitMs: number;
}

/**
 * The stock NATS JetStream adapter NAKs a failed message for immediate redelivery: a consumer whose
 * dependency is down burns its retries in milliseconds. This one NAKs with a delay that doubles with
 * each delivery, waits out an unreachable service instead of dead-lettering, and survives two nodes creating
 * one group's consumer at once.
 */
export class NatsChannelAdapter extends NatsBase {
	constructor(
		opts: object,
		private readonly retry: NatsRetryOptions,
	) {
		super(opts);
	}

	/**
	 * Two nodes of a group starting at once both create the group's durable consumer, and JetStream answers
	 * the second "consumer name already in use" (its node then failed to start). The consumer exists by
	 * then: subscribing again binds to it.
	 */
	override async subscribe(chan: { id: string }, svc: unknown): Promise<void> {
		for (let attempt = 1; ; attempt++) {
			try {
				return await super.subscribe(chan, svc);
			} catch (err) {
				if (attempt >= CONSUMER_RACE_ATTEMPTS || !/consumer name already in use/i.test((err as Error)?.message ?? "")) throw err;
				this.stopChannelActiveMessages(chan.id); // the failed attempt began tracking it
				await new Promise(resolve => setTimeout(resolve, 50 * attempt + Math.random() * 100));
			}
		}
	}

	override createConsumerHandler(chan: NatsChannel): ConsumerHandler {
		// The stock handler dead-letters by delivery count alone. A failure for an unreachable service within the
		// wait is NAKed here and not rethrown: the stock handler's ack that follows is a no-op after a NAK.
		// Object.create keeps the channel's live flags (`unsubscribing`) visible to the stock handler.
		const patient: NatsChannel = Object.create(chan, {
			handler: {
				value: async (payload: unknown, message: JsMsg) => {
					try {
						return await chan.handler(payload, message);
					} catch (err) {
						const waited = Date.now() - message.info.timestampNanos / 1e6;
						if (!awaitsService(err) || waited >= this.retry.serviceWaitMs) throw err;
						this.metricsIncrement(METRIC_RETRIES, chan);
						this.logger.warn(
							`Channel '${chan.name}' (${chan.group}): ${(err as Error).message}; waiting for the service (${Math.round(waited / 1000)} s so far).`,
						);
						message.nak();
					}
				},
			},
		});
		const handle = super.createConsumerHandler(patient);
		return (err, message) => {
			if (message) {
				const nak = message.nak.bind(message);
				const delay = Math.min(this.retry.retryDelayMs * 2 ** Math.max(0, message.info.redeliveryCount - 1), MAX_RETRY_DELAY_MS);
				message.nak = (millis?: number) => nak(millis ?? delay);
			}
			return handle(err, message);
		};
	}
}

export function channelAdapter(cfg: Config): NatsChannelAdapter | EmbeddedChannelAdapter {
	const common = {
		prefix: cfg.NAMESPACE,
		maxRetries: 5,
		maxInFlight: 10,
		deadLettering: { enabled: true, queueName: DEAD_LETTER_QUEUE },
	};
	const retryDelayMs = cfg.CHANNELS_RETRY_DELAY_MS;
	const serviceWaitMs = cfg.CHANNELS_SERVICE_WAIT_MS;
	if (cfg.TRANSPORTER) return new NatsChannelAdapter({ ...common, nats: { url: cfg.TRANSPORTER } }, { retryDelayMs, serviceWaitMs });
	return new EmbeddedChannelAdapter({ ...common, retryDelayMs, serviceWaitMs, maxRetryDelayMs: MAX_RETRY_DELAY_MS });
}

/** Sends to a channel (at least once, through the channels middleware the broker was built with). */
export function sendToChannel(broker: ServiceBroker, channel: string, payload: unknown): Promise<void> {
	// @moleculer/channels adds `sendToChannel` to the broker at run time; Moleculer's ServiceBroker type lacks it.
	return (broker as unknown as { sendToChannel(name: string, payload: unknown): Promise<void> }).sendToChannel(channel, payload);
}
