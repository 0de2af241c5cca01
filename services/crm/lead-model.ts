/**
 * What a lead is, shared by the leads service and its mixins (capture, assignment, reports): the
 * entity, the stored row, the inputs the actions take, and the methods the service gives its mixins.
 */
import type { Ctx } from "../../lib/context";
import type { OutboxMethods } from "../../mixins/outbox.mixin";
import type { Row, TenantDbMethods } from "../../mixins/tenant.mixin";
import type { ActivityType } from "./activities.service";
import { customFieldsParam, moneyParam, type LeadStatus } from "./common";

export const PUBLIC_FIELDS = [
	"id",
	"name",
	"email",
	"phone",
	"company",
	"country",
	"source",
	"value",
	"status",
	"assignedTo",
	"assignedAt",
	"createdBy",
	"customFields",
	"wonAt",
	"lostAt",
	"wonCount",
	"createdAt",
	"updatedAt",
];

export interface Lead {
	id: string;
	name: string;
	email?: string | null;
	phone?: string | null;
	company?: string | null;
	country?: string | null;
	source: string;
	value: { amount: number; currency: string } | null;
	status: LeadStatus;
	assignedTo: string | null;
	assignedAt: string | null;
	createdBy: string;
	customFields: Record<string, string | number | boolean>;
	wonAt: string | null;
	lostAt: string | null;
	wonCount: number;
	createdAt: string;
	updatedAt: string;
}
/** A lead as stored: the entity plus the keys only this service reads. */
export type LeadRow = Omit<Lead, "id"> & Row & { emailKey?: string | null; phoneKey?: string | null; assignedByEvent?: string | null };

export type Money = { amount: number; currency: string };

/** The contact fields of a lead as create, import and capture take them (`leadInputParams`). */
export interface LeadInput {
	name: string;
	email?: string;
	phone?: string;
	company?: string;
	country?: string;
	source?: string;
	value?: Money;
	customFields?: Record<string, string | number | boolean>;
}

/** Contact fields shared by create, import and capture. */
export const leadInputParams = {
	name: { type: "string", min: 1, max: 200, trim: true },
	email: { type: "email", optional: true, normalize: true, max: 254 },
	phone: { type: "string", optional: true, max: 40, trim: true, pattern: /^\+?[\d\s().-]{5,40}$/ },
	company: { type: "string", optional: true, max: 200, trim: true },
	country: { type: "string", optional: true, max: 2, pattern: /^[A-Z]{2}$/, messages: { stringPattern: "must be an ISO 3166 alpha-2 code" } },
	source: { type: "string", min: 1, max: 64, trim: true, optional: true },
	value: { ...moneyParam, optional: true },
	customFields: customFieldsParam,
} as const;

export interface AssignOptions {
	/** the event that caused it (a redelivery of it changes nothing) */
	eventId?: string;
	ruleId?: string;
	/** keep an assignee already there (a manual choice wins over a rule) */
	onlyIfUnassigned?: boolean;
}

/** The leads service's own methods, which its mixins call. */
export interface LeadsMethods extends OutboxMethods, TenantDbMethods {
	/** The stored row of the caller's tenant, or null (the `entity:` loader of the actions on one lead). */
	findLead(ctx: Ctx<unknown>, id: string): Promise<LeadRow | null>;
	/** The stored row, or 404. */
	loadRaw(ctx: Ctx<unknown>, id: string): Promise<LeadRow>;
	/** Compare-and-set: applies `set` only if the row is still exactly as read (409 CONCURRENT_UPDATE otherwise). */
	cas(ctx: Ctx<unknown>, current: LeadRow, set: Record<string, unknown>): Promise<Lead>;
	publish(name: string, payload: object): Promise<void>;
	record(ctx: Ctx<unknown>, leadId: string, type: ActivityType, summary: string, data?: Record<string, unknown>, key?: string): Promise<void>;
	createLead(ctx: Ctx<unknown>, input: LeadInput, createdBy: string): Promise<Lead>;
	assignLead(ctx: Ctx<unknown>, id: string, userId: string, opts: AssignOptions): Promise<{ changed: boolean; lead: Lead }>;
}
