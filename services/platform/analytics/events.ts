/**
 * Analytics events: their validation (the same for the HTTP batch and the channel) and the buckets
 * each one counts in (README, "Jobs, schedules and analytics" → "Analytics"). Buckets are UTC hours and
 * days. Every event counts in the bucket of its name with no dimension, and in one bucket per string or
 * boolean property (the dimension `by=` selects); numeric properties are summed in each of them.
 */
import FastestValidator from "fastest-validator";
import { InvalidInputError } from "../../../lib/errors";
import { harden } from "../../../lib/validation";

export const MAX_BATCH = 500;
export const MAX_PROPERTIES = 20;
export type Granularity = "hour" | "day";
export const GRANULARITIES: Granularity[] = ["hour", "day"];

export const EVENT_NAME = /^[a-z][a-z0-9_.:-]*$/i;
const PROPERTY_KEY = /^[A-Za-z_][\w.-]*$/;

export const eventRule = {
	type: "object",
	strict: "remove",
	props: {
		id: { type: "string", min: 1, max: 64, optional: true },
		name: { type: "string", min: 1, max: 64, pattern: EVENT_NAME },
		at: { type: "date", convert: true, optional: true },
		userId: { type: "string", min: 1, max: 128, optional: true },
		properties: {
			type: "record",
			optional: true,
			key: { type: "string", min: 1, max: 64, pattern: PROPERTY_KEY },
			value: { type: "multi", rules: [{ type: "string", max: 200 }, { type: "number" }, { type: "boolean" }] },
		},
	},
} as const;

export interface EventInput {
	id?: string;
	name: string;
	at?: Date;
	userId?: string;
	properties?: Record<string, string | number | boolean>;
}

/** A stored raw event (tenantId is the mixin's). */
export interface RawEvent {
	eventId: string;
	name: string;
	at: string;
	userId: string | null;
	properties: Record<string, string | number | boolean>;
}

const check = harden(new FastestValidator({ useNewCustomCheckerFunction: true })).compile({ event: eventRule });

/** For the channel: one event as others publish it, validated like the HTTP batch. */
export function validateEvent(value: unknown): EventInput {
	const holder = { event: value };
	const result = check(holder);
	if (result !== true) {
		const errors = (result as { field: string; message: string }[]).map(e => ({ field: e.field, message: e.message }));
		throw new InvalidInputError("The event is not valid.", errors);
	}
	return holder.event as EventInput;
}

/** The rules fastest-validator cannot say: time window, number of properties, finite numbers. */
export function checkEvents(events: EventInput[], now: number, retentionDays: number): void {
	const errors: { field: string; message: string }[] = [];
	const earliest = now - retentionDays * 86_400_000;
	events.forEach((e, i) => {
		const at = e.at ? e.at.getTime() : now;
		if (at < earliest || at > now + 3600_000)
			errors.push({ field: `events[${i}].at`, message: `must be within the last ${retentionDays} days and not in the future` });
		const props = Object.entries(e.properties ?? {});
		if (props.length > MAX_PROPERTIES) errors.push({ field: `events[${i}].properties`, message: `at most ${MAX_PROPERTIES} properties` });
		for (const [k, v] of props)
			if (typeof v === "number" && !Number.isFinite(v))
				errors.push({ field: `events[${i}].properties.${k}`, message: "must be a finite number" });
	});
	if (errors.length) throw new InvalidInputError("Some events are not valid.", errors);
}

/** Start of the UTC hour or day holding `ms`, as ISO. */
export function bucketStart(ms: number, g: Granularity): string {
	const size = g === "hour" ? 3600_000 : 86_400_000;
	return new Date(Math.floor(ms / size) * size).toISOString();
}

export interface BucketDelta {
	key: string;
	name: string;
	granularity: Granularity;
	start: string;
	dim: string;
	value: string;
	count: number;
	sums: Record<string, number>;
}

export const bucketKey = (g: Granularity, start: string, name: string, dim: string, value: string) => JSON.stringify([g, start, name, dim, value]);

/** The bucket increments of a batch of events, merged by bucket. */
export function bucketDeltas(events: RawEvent[]): BucketDelta[] {
	const out = new Map<string, BucketDelta>();
	for (const e of events) {
		const ms = Date.parse(e.at);
		const numbers = Object.entries(e.properties).filter((p): p is [string, number] => typeof p[1] === "number");
		const dims: [string, string][] = [
			["", ""],
			...Object.entries(e.properties)
				.filter(([, v]) => typeof v !== "number")
				.map(([k, v]) => [k, String(v)] as [string, string]),
		];
		for (const g of GRANULARITIES) {
			const start = bucketStart(ms, g);
			for (const [dim, value] of dims) {
				const key = bucketKey(g, start, e.name, dim, value);
				let d = out.get(key);
				if (!d) out.set(key, (d = { key, name: e.name, granularity: g, start, dim, value, count: 0, sums: {} }));
				d.count++;
				for (const [k, n] of numbers) d.sums[k] = (d.sums[k] ?? 0) + n;
			}
		}
	}
	return [...out.values()];
}
