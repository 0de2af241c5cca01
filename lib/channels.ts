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
 */
import { Adapters } from "@moleculer/channels";
import type { ServiceBroker } from "moleculer";
import type { JsMsg } from "nats";
import type { Config } from "./config";
import { EmbeddedChannelAdapter } from "./embedded-channels";

/** Where failed messages go (prefixed with the namespace by the adapter: `<ns>.DEAD_LETTER`). */
export const DEAD_LETTER_QUEUE = "DEAD_LETTER";
const MAX_RETRY_DELAY_MS = 30_000;

type ConsumerHandler = (err: unknown, message: JsMsg | null) => Promise<void>;
// @moleculer/channels ships no typings for its adapters: the members this file uses
const NatsBase = Adapters.NATS as unknown as new (opts?: object) => {
	createConsumerHandler(chan: unknown): ConsumerHandler;
	subscribe(chan: { id: string }, svc: unknown): Promise<void>;
	stopChannelActiveMessages(channelId: string): void;
};
/** How often a subscription that lost the race to create its group's consumer binds again (see `subscribe`). */
const CONSUMER_RACE_ATTEMPTS = 5;

/**
 * The stock NATS JetStream adapter NAKs a failed message for immediate redelivery: a consumer whose
 * dependency is down burns its retries in milliseconds. This one NAKs with a delay that doubles with
 * each delivery, and survives two nodes creating one group's consumer at once.
 */
export class NatsChannelAdapter extends NatsBase {
	constructor(
		opts: object,
		private readonly retryDelayMs: number,
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

	override createConsumerHandler(chan: unknown): ConsumerHandler {
		const handle = super.createConsumerHandler(chan);
		return (err, message) => {
			if (message) {
				const nak = message.nak.bind(message);
				const delay = Math.min(this.retryDelayMs * 2 ** Math.max(0, message.info.redeliveryCount - 1), MAX_RETRY_DELAY_MS);
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
	if (cfg.TRANSPORTER) return new NatsChannelAdapter({ ...common, nats: { url: cfg.TRANSPORTER } }, cfg.CHANNELS_RETRY_DELAY_MS);
	return new EmbeddedChannelAdapter({ ...common, retryDelayMs: cfg.CHANNELS_RETRY_DELAY_MS, maxRetryDelayMs: MAX_RETRY_DELAY_MS });
}

/** Sends to a channel (at least once, through the channels middleware the broker was built with). */
export function sendToChannel(broker: ServiceBroker, channel: string, payload: unknown): Promise<void> {
	// @moleculer/channels adds `sendToChannel` to the broker at run time; Moleculer's ServiceBroker type lacks it.
	return (broker as unknown as { sendToChannel(name: string, payload: unknown): Promise<void> }).sendToChannel(channel, payload);
}
