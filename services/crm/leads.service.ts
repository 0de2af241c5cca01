/**
 * Leads: tenant-scoped CRUD, the status workflow, assignment, the timeline (through `activities`),
 * web-form capture (through `intake`), CSV import and the aggregates reporting needs.
 *
 * Writes that depend on the current state (status transitions, assignment) are compare-and-set
 * updates on (id, tenantId, status, assignedTo, updatedAt): two concurrent writers cannot both win,
 * the loser gets 409 CONCURRENT_UPDATE. Domain events go through @moleculer/channels after the write.
 */
import Validator from "fastest-validator";
import type { Service } from "moleculer";
import { bodyLimitBytes } from "../../lib/body";
import { config } from "../../lib/config";
import type { Schema } from "../../lib/schema";
import { harden } from "../../lib/validation";
import { OutboxMixin, type OutboxMethods } from "../../mixins/outbox.mixin";
import { notFound, TenantDbMixin, tenantOf, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { MANUAL_TYPES } from "./activities.service";
import {
	canTransition,
	clientError,
	customFieldsParam,
	envelope,
	escapeRegex,
	idParam,
	KeyedMutex,
	moneyParam,
	OPEN_STATUSES,
	pageOf,
	pageParams,
	phoneKey,
	STATUSES,
	userIdParam,
	userOf,
	type Ctx,
	type LeadStatus,
} from "./common";
import { parseCsv, TooManyRowsError } from "./csv";
import { requireMembers } from "./membership";

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
type Raw = Lead & { _id: string; tenantId: string; emailKey?: string; phoneKey?: string; assignedByEvent?: string | null };

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

const IMPORT_MAX_ROWS = 5000;
/** One CSV row: room for every column at its longest (30 custom fields of 500 characters, …). */
const IMPORT_MAX_RECORD_CHARS = 64 * 1024;
// CSV rows get the broker's rules too: length before pattern, null only where nullable (README: Security).
const check = harden(new Validator({ useNewCustomCheckerFunction: true })).compile({ $$strict: "remove", ...leadInputParams });

interface LeadsThis extends OutboxMethods, TenantDbMethods {
	mutex: KeyedMutex;
	loadRaw(ctx: Ctx, id: string): Promise<Raw>;
	cas(ctx: Ctx, current: Raw, set: Record<string, unknown>): Promise<Lead>;
	publish(name: string, payload: object): Promise<void>;
	record(ctx: Ctx, leadId: string, type: string, summary: string, data?: Record<string, unknown>, key?: string): Promise<void>;
	createLead(ctx: Ctx, input: Record<string, any>, createdBy: string): Promise<Lead>;
	assignLead(ctx: Ctx, id: string, userId: string, opts: { eventId?: string; ruleId?: string; onlyIfUnassigned?: boolean }): Promise<{ changed: boolean; lead: Lead }>;
}

const listQuery = (p: Record<string, any>): Record<string, unknown> => {
	const q: Record<string, unknown> = {};
	if (p.status) q.status = Array.isArray(p.status) ? { $in: p.status } : p.status;
	if (p.source) q.source = p.source;
	if (p.assignedTo) q.assignedTo = p.assignedTo;
	if (p.unassigned) q.assignedTo = null;
	if (p.createdFrom || p.createdTo)
		q.createdAt = {
			...(p.createdFrom && { $gte: new Date(p.createdFrom).toISOString() }),
			...(p.createdTo && { $lte: new Date(p.createdTo).toISOString() }),
		};
	if (p.q) {
		const re = new RegExp(escapeRegex(p.q), "i");
		q.$or = [{ name: re }, { email: re }, { company: re }];
	}
	return q;
};

const startOfDay = (d: Date) => new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
/** Monday 00:00 UTC of the week of `d`. */
const startOfWeek = (d: Date) => {
	const day = startOfDay(d);
	return new Date(day.getTime() - ((day.getUTCDay() + 6) % 7) * 86_400_000);
};

const LeadsService: Schema<LeadsThis> = {
	name: "leads",
	mixins: [
		TenantDbMixin({
			collection: "leads",
			indexes: [{ fields: ["tenantId"] }, { fields: ["emailKey"] }, { fields: ["phoneKey"] }, { fields: ["assignedTo"] }],
		}),
		OutboxMixin({ collection: "leads_outbox" }),
	],
	settings: { fields: PUBLIC_FIELDS },

	actions: {
		listLeads: {
			rest: "GET /",
			roles: ["member"],
			summary: "List leads with filters, text search, sort and pagination.",
			cache: {
				keys: ["#user.tenantId", "page", "pageSize", "sort", "status", "source", "assignedTo", "unassigned", "createdFrom", "createdTo", "q"],
			},
			params: {
				...pageParams,
				sort: {
					type: "enum",
					values: ["createdAt", "-createdAt", "updatedAt", "-updatedAt", "name", "-name", "value.amount", "-value.amount"],
					default: "-createdAt",
				},
				status: [
					{ type: "enum", values: [...STATUSES], optional: true },
					{ type: "array", items: { type: "enum", values: [...STATUSES] }, max: 5, optional: true },
				],
				source: { type: "string", max: 64, optional: true },
				assignedTo: { type: "string", max: 128, optional: true },
				unassigned: { type: "boolean", convert: true, optional: true },
				createdFrom: { type: "date", convert: true, optional: true },
				createdTo: { type: "date", convert: true, optional: true },
				q: { type: "string", min: 1, max: 100, trim: true, optional: true },
				$$strict: "remove",
			},
			handler(this: LeadsThis, ctx: Ctx) {
				const { page, pageSize, sort } = ctx.params;
				return this._list(ctx, { ...pageOf({ page, pageSize, sort }), query: listQuery(ctx.params) });
			},
		},

		getLead: {
			rest: "GET /:id",
			roles: ["member"],
			cache: { keys: ["#user.tenantId", "id"] },
			params: { id: idParam, $$strict: "remove" },
			handler(this: LeadsThis, ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},

		createLead: {
			rest: "POST /",
			roles: ["member"],
			params: { ...leadInputParams, $$strict: "remove" },
			async handler(this: LeadsThis, ctx: Ctx) {
				const lead = await this.createLead(ctx, ctx.params, userOf(ctx).id);
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/leads/${lead.id}`;
				return lead;
			},
		},

		updateLead: {
			rest: "PATCH /:id",
			roles: ["member"],
			summary: "Change contact fields, value, custom fields and/or the status (allowed transitions only).",
			params: {
				id: idParam,
				name: { ...leadInputParams.name, optional: true },
				email: { type: "email", optional: true, nullable: true, normalize: true, max: 254 },
				phone: { ...leadInputParams.phone, nullable: true },
				company: { ...leadInputParams.company, nullable: true },
				country: { ...leadInputParams.country, nullable: true },
				source: leadInputParams.source,
				value: { ...moneyParam, optional: true, nullable: true },
				customFields: customFieldsParam,
				status: { type: "enum", values: [...STATUSES], optional: true },
				$$strict: "remove",
			},
			async handler(this: LeadsThis, ctx: Ctx) {
				const { id, status, ...fields } = ctx.params;
				const user = userOf(ctx);
				const current = await this.loadRaw(ctx, id);
				const set: Record<string, unknown> = { ...fields };
				if ("email" in fields) set.emailKey = fields.email ?? null;
				if ("phone" in fields) set.phoneKey = phoneKey(fields.phone) ?? null;
				const from = current.status;
				const changing = status !== undefined && status !== from;
				if (changing) {
					if (!canTransition(from, status)) throw clientError(`A lead cannot go from '${from}' to '${status}'.`, 409, "INVALID_TRANSITION", { from, to: status });
					const now = new Date().toISOString();
					set.status = status;
					if (status === "won") Object.assign(set, { wonAt: now, wonCount: (current.wonCount ?? 0) + 1 });
					if (status === "lost") set.lostAt = now;
					if (from === "won" || from === "lost") Object.assign(set, { wonAt: null, lostAt: null });
				}
				if (Object.keys(set).length === 0) return this.toEntity(current);
				const lead = await this.cas(ctx, current, set);
				if (changing) {
					const extra = { from, to: status, ...(status === "won" || from === "won" ? { cycle: lead.wonCount } : {}) };
					const changed = envelope(lead, user.tenantId, user.id, extra);
					await this.record(ctx, id, "status_changed", `${from} → ${status}`, { from, to: status }, `${changed.eventId}:status`);
					await this.publish("leads.statusChanged", changed);
					if (status === "won") await this.publish("leads.won", envelope(lead, user.tenantId, user.id, extra));
					if (status === "lost") await this.publish("leads.lost", envelope(lead, user.tenantId, user.id, extra));
					if (from === "won" || from === "lost")
						await this.publish("leads.reopened", envelope(lead, user.tenantId, user.id, { ...extra, reopenedFrom: from }));
				}
				return lead;
			},
		},

		deleteLead: {
			rest: "DELETE /:id",
			roles: ["admin"],
			params: { id: idParam },
			async handler(this: LeadsThis, ctx: Ctx<{ id: string }>) {
				await this._remove(ctx, { id: ctx.params.id });
				await ctx.call("activities.removeForLead", { leadId: ctx.params.id });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		addActivity: {
			rest: "POST /:id/activities",
			roles: ["member"],
			params: {
				id: idParam,
				type: { type: "enum", values: [...MANUAL_TYPES] },
				summary: { type: "string", min: 1, max: 2000, trim: true },
				at: { type: "date", convert: true, optional: true },
				$$strict: "remove",
			},
			async handler(this: LeadsThis, ctx: Ctx) {
				const { id, type, summary, at } = ctx.params;
				await this.loadRaw(ctx, id);
				const activity = await ctx.call("activities.record", { leadId: id, type, summary, at, actorId: userOf(ctx).id });
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/leads/${id}/activities`;
				return activity;
			},
		},

		listActivities: {
			rest: "GET /:id/activities",
			roles: ["member"],
			params: { id: idParam, ...pageParams, sort: { type: "enum", values: ["at", "-at"], default: "-at" }, $$strict: "remove" },
			async handler(this: LeadsThis, ctx: Ctx) {
				const { id, page, pageSize, sort } = ctx.params;
				await this.loadRaw(ctx, id);
				return ctx.call("activities.listForLead", { leadId: id, page, pageSize, sort });
			},
		},

		assignTo: {
			rest: "POST /:id/assign",
			roles: ["admin"],
			summary: "Manual (re)assignment by an admin.",
			params: { id: idParam, userId: userIdParam, $$strict: "remove" },
			async handler(this: LeadsThis, ctx: Ctx) {
				await requireMembers(this as unknown as Service, ctx, tenantOf(ctx), [ctx.params.userId], "userId");
				const { lead } = await this.assignLead(ctx, ctx.params.id, ctx.params.userId, {});
				return lead;
			},
		},

		importCsv: {
			rest: "POST /import",
			roles: ["member"],
			summary: `Bulk import from CSV text (header row; columns name,email,phone,company,country,source,amount,currency and cf_<key> for custom fields; at most ${IMPORT_MAX_ROWS} rows).`,
			// No longer than the body that carries it can be (README: Security).
			params: { csv: { type: "string", min: 1, max: bodyLimitBytes(config().BODY_LIMIT) }, $$strict: "remove" },
			// Thousands of rows (each a lead, its timeline entry and its event) outlast the default request
			// timeout. Moleculer's Timeout middleware reads `action.timeout`; its typings do not declare it.
			...({ timeout: 120_000 } as Record<string, unknown>),
			async handler(this: LeadsThis, ctx: Ctx<{ csv: string }>) {
				const user = userOf(ctx);
				let records: Record<string, string>[];
				try {
					records = await parseCsv(ctx.params.csv, {
						columns: (h: string[]) => h.map(c => c.trim()),
						skip_empty_lines: true,
						trim: true,
						bom: true,
						relax_column_count: true,
						maxRows: IMPORT_MAX_ROWS,
						maxRecordSize: IMPORT_MAX_RECORD_CHARS,
					});
				} catch (err) {
					if (err instanceof TooManyRowsError) throw clientError(`At most ${IMPORT_MAX_ROWS} rows per import.`, 413, "TOO_MANY_ROWS");
					throw clientError(`The CSV could not be parsed: ${(err as Error).message}`, 422, "INVALID_CSV");
				}
				let accepted = 0;
				const rejected: { row: number; errors: { field: string; message: string }[] }[] = [];
				for (let i = 0; i < records.length; i++) {
					const r = records[i];
					const customFields = Object.fromEntries(
						Object.entries(r)
							.filter(([k, v]) => k.startsWith("cf_") && v !== "")
							.map(([k, v]) => [k.slice(3), v]),
					);
					const input: Record<string, unknown> = {};
					for (const k of ["name", "email", "phone", "company", "country", "source"]) if (r[k]) input[k] = r[k];
					if (input.country) input.country = String(input.country).toUpperCase();
					if (r.amount || r.currency) input.value = { amount: r.amount === "" || r.amount == null ? undefined : Number(r.amount), currency: r.currency?.toUpperCase() };
					if (Object.keys(customFields).length) input.customFields = customFields;
					const result = check(input);
					if (result !== true) {
						rejected.push({ row: i + 1, errors: (result as { field: string; message: string }[]).map(e => ({ field: e.field, message: e.message })) });
						continue;
					}
					await this.createLead(ctx, { source: "import", ...input }, user.id);
					accepted++;
				}
				return { accepted, rejected };
			},
		},

		// ── internal actions ──────────────────────────────────────────────────────────────────
		assign: {
			visibility: "public",
			summary: "Assign a lead (assignment rules). Idempotent per eventId; onlyIfUnassigned keeps a manual choice.",
			params: {
				id: idParam,
				userId: userIdParam,
				eventId: { type: "string", max: 128, optional: true },
				ruleId: { type: "string", max: 64, optional: true },
				onlyIfUnassigned: { type: "boolean", default: true },
			},
			idempotent: true,
			async handler(this: LeadsThis, ctx: Ctx) {
				const { id, userId, eventId, ruleId, onlyIfUnassigned } = ctx.params;
				return this.assignLead(ctx, id, userId, { eventId, ruleId, onlyIfUnassigned });
			},
		},

		ingest: {
			visibility: "public",
			summary: "A web-form submission: a new lead, or an activity on the lead with the same email/phone created within the dedupe window.",
			params: { ...leadInputParams, message: { type: "string", max: 2000, optional: true }, $$strict: "remove" },
			async handler(this: LeadsThis, ctx: Ctx) {
				const tenantId = tenantOf(ctx);
				const { message, ...input } = ctx.params;
				const keys = [input.email ? `e:${input.email}` : null, phoneKey(input.phone) ? `p:${phoneKey(input.phone)}` : null].filter(Boolean) as string[];
				const work = async () => {
					if (keys.length) {
						const since = new Date(Date.now() - config().CRM_DEDUPE_WINDOW_S * 1000).toISOString();
						const or: Record<string, unknown>[] = [];
						if (input.email) or.push({ emailKey: input.email });
						if (phoneKey(input.phone)) or.push({ phoneKey: phoneKey(input.phone) });
						const existing = await this.scopedFindOne<Raw>(ctx, { $or: or, createdAt: { $gte: since } });
						if (existing) {
							await this.record(ctx, existing._id, "form_submission", message ?? "Submitted the form again.", { ...input });
							return { id: existing._id, duplicate: true };
						}
					}
					const lead = await this.createLead(ctx, { source: "web-form", ...input }, "intake");
					if (message) await this.record(ctx, lead.id, "form_submission", message, {});
					return { id: lead.id, duplicate: false };
				};
				// Same email/phone at once: serialised in this process (README, "Web-form capture": the cluster caveat).
				return keys.length ? this.mutex.run(`${tenantId}|${keys.sort().join("|")}`, work) : work();
			},
		},

		workload: {
			visibility: "public",
			summary: "Per agent: open leads, leads assigned today and this week (UTC, weeks start on Monday).",
			params: { userIds: { type: "array", items: { type: "string", max: 128 }, max: 1000, optional: true } },
			async handler(this: LeadsThis, ctx: Ctx) {
				const now = new Date();
				const day = startOfDay(now).toISOString();
				const week = startOfWeek(now).toISOString();
				const only = ctx.params.userIds as string[] | undefined;
				const scope = only ? { assignedTo: { $in: only } } : { assignedTo: { $ne: null } };
				// One scan of the assigned leads: open ones count as workload, recent assignments as today/this week.
				const open = new Set<string>(OPEN_STATUSES);
				const rows = await this.scopedScan(
					ctx,
					{ ...scope, $or: [{ status: { $in: [...OPEN_STATUSES] } }, { assignedAt: { $gte: week } }] },
					["assignedTo", "assignedAt", "status"],
				);
				const out: Record<string, { openLeads: number; assignedToday: number; assignedThisWeek: number }> = {};
				const row = (u: string) => (out[u] ??= { openLeads: 0, assignedToday: 0, assignedThisWeek: 0 });
				for (const u of only ?? []) row(u);
				for (const l of rows) {
					if (!l.assignedTo) continue;
					const r = row(l.assignedTo);
					if (open.has(l.status)) r.openLeads++;
					if (l.assignedAt && l.assignedAt >= week) {
						r.assignedThisWeek++;
						if (l.assignedAt >= day) r.assignedToday++;
					}
				}
				return out;
			},
		},

		pipelineStats: {
			visibility: "public",
			cache: { keys: ["#user.tenantId"], ttl: 30 },
			summary: "Aggregates of a tenant's leads, computed inside this service (only the aggregate leaves it).",
			params: {},
			async handler(this: LeadsThis, ctx: Ctx) {
				const rows = await this.scopedScan(ctx, {}, ["status", "source", "createdAt", "wonAt", "value", "assignedTo"]);
				const byStatus: Record<string, number> = Object.fromEntries(STATUSES.map(s => [s, 0]));
				const bySource: Record<string, number> = {};
				const wonByMonth: Record<string, Record<string, number>> = {};
				const perAgent: Record<string, { open: number; won: number; lost: number }> = {};
				let winMs = 0;
				let wins = 0;
				for (const r of rows) {
					byStatus[r.status] = (byStatus[r.status] ?? 0) + 1;
					bySource[r.source] = (bySource[r.source] ?? 0) + 1;
					if (r.assignedTo) {
						const a = (perAgent[r.assignedTo] ??= { open: 0, won: 0, lost: 0 });
						if (r.status === "won") a.won++;
						else if (r.status === "lost") a.lost++;
						else a.open++;
					}
					if (r.status === "won" && r.wonAt) {
						wins++;
						winMs += Date.parse(r.wonAt) - Date.parse(r.createdAt);
						if (r.value) {
							const month = (wonByMonth[r.wonAt.slice(0, 7)] ??= {});
							month[r.value.currency] = (month[r.value.currency] ?? 0) + r.value.amount;
						}
					}
				}
				const closed = byStatus.won + byStatus.lost;
				return {
					total: rows.length,
					byStatus,
					bySource,
					conversion: {
						// won / (won + lost), and won / all leads; null when there is nothing to divide.
						winRate: closed ? byStatus.won / closed : null,
						overall: rows.length ? byStatus.won / rows.length : null,
					},
					averageTimeToWinHours: wins ? Math.round(winMs / wins / 36_000) / 100 : null,
					valueWonByMonth: Object.entries(wonByMonth)
						.sort(([a], [b]) => a.localeCompare(b))
						.map(([month, totals]) => ({ month, totals: Object.entries(totals).map(([currency, amount]) => ({ currency, amount })) })),
					perAgent,
				};
			},
		},
	},

	methods: {
		async loadRaw(this: LeadsThis, ctx: Ctx, id: string): Promise<Raw> {
			const doc = await this.scopedFindById<Raw>(ctx, id);
			if (!doc) throw notFound(id);
			return doc;
		},

		/** Compare-and-set: applies `set` only if the row is still exactly as read. */
		async cas(this: LeadsThis, ctx: Ctx, current: Raw, set: Record<string, unknown>): Promise<Lead> {
			const n = await this.scopedUpdateWhere(
				ctx,
				{ _id: current._id, status: current.status, assignedTo: current.assignedTo ?? null, updatedAt: current.updatedAt },
				set,
			);
			if (n === 0) {
				await this.loadRaw(ctx, current._id); // 404 if it was deleted meanwhile
				throw clientError("The lead changed meanwhile: read it again and retry.", 409, "CONCURRENT_UPDATE");
			}
			return this.toEntity(await this.loadRaw(ctx, current._id));
		},

		/** Through the outbox (mixins/outbox.mixin.ts): stored, then sent, re-sent by the relay until it is. */
		publish(this: LeadsThis, name: string, payload: object) {
			return this.publishEvent(name, payload as Record<string, unknown>);
		},

		async record(this: LeadsThis, ctx: Ctx, leadId: string, type: string, summary: string, data?: Record<string, unknown>, key?: string) {
			await ctx.call("activities.record", { leadId, type, summary, actorId: ctx.meta.user?.id ?? "system", data, key });
		},

		async createLead(this: LeadsThis, ctx: Ctx, input: Record<string, any>, createdBy: string): Promise<Lead> {
			const { tenantId, id: actorId } = userOf(ctx);
			const lead: Lead = await this._create(ctx, {
				name: input.name,
				email: input.email ?? null,
				phone: input.phone ?? null,
				company: input.company ?? null,
				country: input.country ?? null,
				source: input.source ?? "manual",
				value: input.value ?? null,
				customFields: input.customFields ?? {},
				status: "new",
				assignedTo: null,
				assignedAt: null,
				assignedByEvent: null,
				wonAt: null,
				lostAt: null,
				wonCount: 0,
				createdBy,
				emailKey: input.email ?? null,
				phoneKey: phoneKey(input.phone) ?? null,
			});
			const event = envelope(lead, tenantId, actorId);
			await this.record(ctx, lead.id, "created", `Lead created (${lead.source}).`, { source: lead.source }, `${event.eventId}:created`);
			await this.publish("leads.created", event);
			return lead;
		},

		async assignLead(this: LeadsThis, ctx: Ctx, id: string, userId: string, opts: { eventId?: string; ruleId?: string; onlyIfUnassigned?: boolean }) {
			const { tenantId, id: actorId } = userOf(ctx);
			const current = await this.loadRaw(ctx, id);
			const unchanged = async () => ({ changed: false, lead: this.toEntity<Lead>(current) });
			if (opts.eventId && current.assignedByEvent === opts.eventId) return unchanged(); // redelivery
			if (opts.onlyIfUnassigned && current.assignedTo) return unchanged();
			if (!opts.eventId && current.assignedTo === userId) return unchanged();
			const lead = await this.cas(ctx, current, { assignedTo: userId, assignedAt: new Date().toISOString(), assignedByEvent: opts.eventId ?? null });
			const event = envelope(lead, tenantId, actorId, { previousAssignee: current.assignedTo ?? null, ruleId: opts.ruleId ?? null, causeEventId: opts.eventId ?? null });
			await this.record(ctx, id, "assigned", `Assigned to ${userId}${opts.ruleId ? ` by rule ${opts.ruleId}` : ""}.`, { userId, previous: current.assignedTo ?? null, ruleId: opts.ruleId ?? null }, `${event.eventId}:assigned`);
			await this.publish("leads.assigned", event);
			return { changed: true, lead };
		},
	},

	created(this: LeadsThis) {
		this.mutex = new KeyedMutex();
	},
};

export default LeadsService;
