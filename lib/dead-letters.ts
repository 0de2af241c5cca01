/**
 * The operator's view over dead letters, whichever channels adapter this broker runs:
 * - embedded (`EmbeddedChannelAdapter`): its in-process store;
 * - NATS JetStream: the `<namespace>_DEAD_LETTER` stream, where the adapter moves a message after
 *   `maxRetries` deliveries, with the original channel and group in the `x-original-channel` and
 *   `x-original-group` headers.
 *
 * Replaying re-publishes the message, unchanged, to its original channel and then removes the dead
 * letter. Every consumer group of that channel receives it again: consumers are idempotent.
 * Used by the REPL commands (`lib/repl-commands.ts`) and the tests.
 */
import { Adapters } from "@moleculer/channels";
import type { ServiceBroker } from "moleculer";
import type { JetStreamManager, StoredMsg } from "nats";
import { DEAD_LETTER_QUEUE } from "./channels";
import { EmbeddedChannelAdapter, HEADER_ORIGINAL_CHANNEL, HEADER_ORIGINAL_GROUP } from "./embedded-channels";

export interface DeadLetter {
	id: string;
	/** the channel without the namespace prefix, as services name it (`users.followed`) */
	channel: string;
	/** the channel as published (`<namespace>.users.followed`) */
	subject: string;
	group: string | null;
	payload: unknown;
	failedAt: string;
	error?: string;
	attempts?: number;
}

export interface ReplayResult {
	replayed: string[];
	missing: string[];
}

interface NatsAdapterLike {
	manager: JetStreamManager | null;
	opts: { prefix?: string | null; deadLettering?: { queueName?: string } };
	serializer: { deserialize(buf: Buffer): unknown };
	addPrefixTopic(topic: string): string;
	publish(channel: string, payload: unknown, opts?: { raw?: boolean; headers?: Record<string, unknown> }): Promise<void>;
}

type AnyAdapter = EmbeddedChannelAdapter | NatsAdapterLike;

function adapterOf(broker: ServiceBroker): AnyAdapter {
	// @moleculer/channels sets `channelAdapter` on the broker at run time; ServiceBroker's type lacks it
	const adapter = (broker as unknown as { channelAdapter?: unknown }).channelAdapter;
	if (adapter instanceof EmbeddedChannelAdapter) return adapter;
	// the NATS adapter class is not in @moleculer/channels' typings, nor are the members NatsAdapterLike names
	if (adapter instanceof (Adapters.NATS as unknown as new () => object)) return adapter as unknown as NatsAdapterLike;
	throw new Error("Dead letters: this broker has no embedded or NATS channels adapter.");
}

function unprefixed(adapter: { opts: { prefix?: string | null } }, subject: string): string {
	const prefix = adapter.opts.prefix;
	return prefix && subject.startsWith(`${prefix}.`) ? subject.slice(prefix.length + 1) : subject;
}

/** The JetStream stream holding this namespace's dead letters (stream names cannot contain dots). */
export function deadLetterStreamName(adapter: NatsAdapterLike): string {
	return adapter
		.addPrefixTopic(adapter.opts.deadLettering?.queueName ?? DEAD_LETTER_QUEUE)
		.split(".")
		.join("_");
}

const isNotFound = (err: unknown) => {
	const e = err as { code?: string | number; api_error?: { code?: number }; message?: string };
	return e?.api_error?.code === 404 || e?.code === "404" || e?.code === 404 || /not found/i.test(e?.message ?? "");
};

async function streamBounds(jsm: JetStreamManager, stream: string): Promise<{ first: number; last: number } | null> {
	try {
		const info = await jsm.streams.info(stream);
		if (!info.state.messages) return null;
		return { first: info.state.first_seq, last: info.state.last_seq };
	} catch (err) {
		if (isNotFound(err)) return null;
		throw err;
	}
}

async function storedMsg(jsm: JetStreamManager, stream: string, seq: number): Promise<StoredMsg | null> {
	try {
		return await jsm.streams.getMessage(stream, { seq });
	} catch (err) {
		if (isNotFound(err)) return null;
		throw err;
	}
}

function fromNats(adapter: NatsAdapterLike, m: StoredMsg): DeadLetter {
	const subject = m.header?.get(HEADER_ORIGINAL_CHANNEL) || "";
	let payload: unknown;
	try {
		payload = adapter.serializer.deserialize(Buffer.from(m.data));
	} catch {
		payload = Buffer.from(m.data).toString("base64");
	}
	return {
		id: String(m.seq),
		channel: unprefixed(adapter, subject),
		subject,
		group: m.header?.get(HEADER_ORIGINAL_GROUP) || null,
		payload,
		failedAt: m.time.toISOString(),
	};
}

function natsManager(adapter: NatsAdapterLike): JetStreamManager {
	if (!adapter.manager) throw new Error("Dead letters: the NATS channels adapter is not connected (start the broker first).");
	return adapter.manager;
}

/** Dead letters, oldest first (at most `limit`). */
export async function listDeadLetters(broker: ServiceBroker, opts: { limit?: number } = {}): Promise<DeadLetter[]> {
	const limit = opts.limit ?? 100;
	const adapter = adapterOf(broker);
	if (adapter instanceof EmbeddedChannelAdapter) {
		return adapter
			.listDeadLetters()
			.slice(0, limit)
			.map(d => ({
				id: d.id,
				channel: unprefixed(adapter as unknown as NatsAdapterLike, d.channel),
				subject: d.channel,
				group: d.group,
				payload: d.payload,
				failedAt: d.failedAt,
				error: d.error,
				attempts: d.attempts,
			}));
	}
	const jsm = natsManager(adapter);
	const stream = deadLetterStreamName(adapter);
	const bounds = await streamBounds(jsm, stream);
	const out: DeadLetter[] = [];
	if (!bounds) return out;
	for (let seq = bounds.first; seq <= bounds.last && out.length < limit; seq++) {
		const m = await storedMsg(jsm, stream, seq);
		if (m) out.push(fromNats(adapter, m));
	}
	return out;
}

/** Re-publish one dead letter (by id) or `"all"` to the original channel, then remove it. */
export async function replayDeadLetters(broker: ServiceBroker, which: string): Promise<ReplayResult> {
	const adapter = adapterOf(broker);
	const result: ReplayResult = { replayed: [], missing: [] };
	if (adapter instanceof EmbeddedChannelAdapter) {
		const ids = which === "all" ? adapter.listDeadLetters().map(d => d.id) : [which];
		for (const id of ids) {
			const d = adapter.getDeadLetter(id);
			if (!d) {
				result.missing.push(id);
				continue;
			}
			await adapter.publish(d.channel, d.payload, { headers: d.headers });
			adapter.removeDeadLetter(id);
			result.replayed.push(id);
		}
		return result;
	}

	const jsm = natsManager(adapter);
	const stream = deadLetterStreamName(adapter);
	let seqs: number[];
	if (which === "all") {
		const bounds = await streamBounds(jsm, stream);
		seqs = [];
		if (bounds) for (let s = bounds.first; s <= bounds.last; s++) seqs.push(s);
	} else {
		const seq = Number(which);
		if (!Number.isSafeInteger(seq) || seq < 1) return { replayed: [], missing: [which] };
		seqs = [seq];
	}
	for (const seq of seqs) {
		const m = await storedMsg(jsm, stream, seq);
		const subject = m?.header?.get(HEADER_ORIGINAL_CHANNEL);
		if (!m || !subject) {
			if (which !== "all") result.missing.push(String(seq));
			continue;
		}
		// Published first, removed after: a crash in between replays it twice, which idempotent consumers absorb.
		await adapter.publish(subject, Buffer.from(m.data), { raw: true });
		await jsm.streams.deleteMessage(stream, seq);
		result.replayed.push(String(seq));
	}
	return result;
}

/** Delete one dead letter (by id) or `"all"` without replaying: for messages that can never succeed. */
export async function discardDeadLetters(broker: ServiceBroker, which: string): Promise<{ discarded: string[]; missing: string[] }> {
	const adapter = adapterOf(broker);
	const result = { discarded: [] as string[], missing: [] as string[] };
	if (adapter instanceof EmbeddedChannelAdapter) {
		const ids = which === "all" ? adapter.listDeadLetters().map(d => d.id) : [which];
		for (const id of ids) (adapter.removeDeadLetter(id) ? result.discarded : result.missing).push(id);
		return result;
	}
	const jsm = natsManager(adapter);
	const stream = deadLetterStreamName(adapter);
	if (which === "all") {
		const bounds = await streamBounds(jsm, stream);
		if (!bounds) return result;
		for (let seq = bounds.first; seq <= bounds.last; seq++)
			if (await storedMsg(jsm, stream, seq)) {
				await jsm.streams.deleteMessage(stream, seq);
				result.discarded.push(String(seq));
			}
		return result;
	}
	const seq = Number(which);
	if (!Number.isSafeInteger(seq) || seq < 1 || !(await storedMsg(jsm, stream, seq))) return { discarded: [], missing: [which] };
	await jsm.streams.deleteMessage(stream, seq);
	return { discarded: [which], missing: [] };
}
