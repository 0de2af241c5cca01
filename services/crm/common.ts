/**
 * Shared helpers of the CRM domain: event envelopes, validation fragments and small utilities.
 * Pure code only: no state. Who is calling comes from lib/context (currentTenantUser, asSystem).
 */
import { randomUUID } from "node:crypto";

/** Envelope of every CRM domain event: the public entity + tenantId + actorId + eventId + at. */
export function envelope<T extends object>(entity: T, tenantId: string, actorId: string, extra: Record<string, unknown> = {}) {
	return { ...entity, ...extra, tenantId, actorId, eventId: randomUUID(), at: new Date().toISOString() };
}

/** Validation fragments (fastest-validator). */
export { idParam } from "../../lib/validation";
export const userIdParam = { type: "string", min: 1, max: 128, trim: true } as const;
export const currencyParam = {
	type: "string",
	max: 3,
	pattern: /^[A-Z]{3}$/,
	messages: { stringPattern: "must be an ISO 4217 code (3 capital letters)" },
} as const;
/** Integer minor units; 2^53 - 1 is the bound JSON numbers keep exact. */
export const minorUnits = { type: "number", integer: true, min: 0, max: Number.MAX_SAFE_INTEGER, convert: true } as const;
export const moneyParam = {
	type: "object",
	strict: "remove",
	props: { amount: minorUnits, currency: currencyParam },
} as const;
/** customFields: at most 30 keys, short keys, string (≤ 500 chars) / number / boolean values. */
export const customFieldsParam = {
	type: "record",
	optional: true,
	key: { type: "string", max: 40, pattern: /^[A-Za-z][\w-]{0,39}$/ },
	value: { type: "multi", rules: [{ type: "string", max: 500 }, { type: "number" }, { type: "boolean" }] },
	custom: (value: Record<string, unknown> | undefined, errors: { type: string; actual: unknown; expected?: unknown }[]) => {
		if (value && Object.keys(value).length > 30) errors.push({ type: "objectMaxProps", actual: Object.keys(value).length, expected: 30 });
		return value;
	},
} as const;

/** Digits only (with a leading + kept), for matching phone numbers written differently. */
export function phoneKey(phone: string | undefined | null): string | undefined {
	if (!phone) return undefined;
	const digits = phone.replace(/[^\d]/g, "");
	return digits.length >= 5 ? digits : undefined;
}

/** `2026-11` of an ISO date (UTC). */
export function periodOf(iso: string): string {
	return iso.slice(0, 7);
}

/** [start, end) ISO bounds of a `YYYY-MM` period, UTC. */
export function periodBounds(period: string): [string, string] {
	const [y, m] = period.split("-").map(Number);
	return [new Date(Date.UTC(y, m - 1, 1)).toISOString(), new Date(Date.UTC(y, m, 1)).toISOString()];
}

export const periodParam = {
	type: "string",
	max: 7,
	pattern: /^\d{4}-(0[1-9]|1[0-2])$/,
	messages: { stringPattern: "must be a month as YYYY-MM" },
} as const;

/** Open statuses (count towards an agent's workload). */
export const OPEN_STATUSES = ["new", "contacted", "qualified"] as const;
export const STATUSES = ["new", "contacted", "qualified", "won", "lost"] as const;
export type LeadStatus = (typeof STATUSES)[number];

/** Allowed status transitions; `won|lost → qualified` is a reopening. */
export const TRANSITIONS: Record<LeadStatus, LeadStatus[]> = {
	new: ["contacted", "lost"],
	contacted: ["qualified", "lost"],
	qualified: ["won", "lost"],
	won: ["qualified"],
	lost: ["qualified"],
};

export function canTransition(from: LeadStatus, to: LeadStatus): boolean {
	return TRANSITIONS[from]?.includes(to) ?? false;
}
