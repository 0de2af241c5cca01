/**
 * Shared helpers of the CRM domain: identities for channel handlers, event envelopes, validation
 * fragments and small utilities. Pure code only: no state.
 */
import { randomUUID } from "node:crypto";
import { Errors, type Context } from "moleculer";
import type { AuthUser } from "../../lib/access";

export type Meta = { user?: AuthUser | null; $statusCode?: number } & Record<string, unknown>;
export type Ctx<P = Record<string, any>> = Context<P, Meta>;

/** The identity a channel handler acts with inside one tenant (handlers run without a user). */
export function systemUser(tenantId: string): AuthUser {
	return { id: "system", tenantId, roles: ["owner"] };
}

/** Call options that run a call as the system identity of a tenant. */
export function asSystem(tenantId: string) {
	return { meta: { user: systemUser(tenantId) } };
}

export function userOf(ctx: Ctx): AuthUser & { tenantId: string } {
	const u = ctx.meta.user;
	if (!u?.tenantId) throw new Errors.MoleculerClientError("This action needs a tenant.", 403, "TENANT_REQUIRED");
	return u as AuthUser & { tenantId: string };
}

/** Envelope of every CRM domain event: the public entity + tenantId + actorId + eventId + at. */
export function envelope<T extends object>(entity: T, tenantId: string, actorId: string, extra: Record<string, unknown> = {}) {
	return { ...entity, ...extra, tenantId, actorId, eventId: randomUUID(), at: new Date().toISOString() };
}

export const clientError = (message: string, status: number, code: string, data?: unknown) =>
	new Errors.MoleculerClientError(message, status, code, data);

/** Validation fragments (fastest-validator). */
export const idParam = { type: "string", min: 1, max: 64 } as const;
export const userIdParam = { type: "string", min: 1, max: 128, trim: true } as const;
export const currencyParam = { type: "string", max: 3, pattern: /^[A-Z]{3}$/, messages: { stringPattern: "must be an ISO 4217 code (3 capital letters)" } } as const;
/** Integer minor units; 2^53 - 1 is the bound JSON numbers keep exact. */
export const minorUnits = { type: "number", integer: true, min: 0, max: Number.MAX_SAFE_INTEGER, convert: true } as const;
export const moneyParam = {
	type: "object",
	strict: "remove",
	props: { amount: minorUnits, currency: currencyParam },
} as const;
export const pageParams = {
	page: { type: "number", integer: true, min: 1, max: 100_000, default: 1, convert: true },
	pageSize: { type: "number", integer: true, min: 1, max: 100, default: 20, convert: true },
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

export function escapeRegex(s: string): string {
	return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

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

export const periodParam = { type: "string", max: 7, pattern: /^\d{4}-(0[1-9]|1[0-2])$/, messages: { stringPattern: "must be a month as YYYY-MM" } } as const;

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

/** A per-key promise chain: serialises work on one key inside this process. */
export class KeyedMutex {
	private tails = new Map<string, Promise<unknown>>();
	async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
		const prev = this.tails.get(key) ?? Promise.resolve();
		const next = prev.then(fn, fn);
		const tail = next.catch(() => undefined);
		this.tails.set(key, tail);
		try {
			return await next;
		} finally {
			if (this.tails.get(key) === tail) this.tails.delete(key);
		}
	}
}

/**
 * moleculer-db computes limit/offset from page/pageSize only inside its own `list` action, not in
 * the `_list` method we call: pass them explicitly.
 */
export function pageOf(p: { page: number; pageSize: number; sort?: string }) {
	return { page: p.page, pageSize: p.pageSize, limit: p.pageSize, offset: (p.page - 1) * p.pageSize, ...(p.sort ? { sort: [p.sort] } : {}) };
}
