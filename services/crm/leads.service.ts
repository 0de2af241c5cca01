/**
 * Leads: tenant-scoped CRUD, the status workflow and the timeline (through `activities`). Assignment,
 * capture (CSV import, web forms through `intake`) and the reporting aggregates are mixins beside this
 * file (lead-assignment, lead-capture, lead-reports); what a lead is: lead-model.ts.
 *
 * Writes that depend on the current state (status transitions, assignment) are compare-and-set
 * updates on (id, tenantId, status, assignedTo, updatedAt): two concurrent writers cannot both win,
 * the loser gets 409 CONCURRENT_UPDATE. Domain events go through @moleculer/channels after the write.
 */
import { currentTenantUser, type Ctx } from "../../lib/context";
import { ConcurrentUpdateError, InvalidTransitionError, NotFoundError } from "../../lib/errors";
import { pageParams } from "../../lib/paging";
import type { DbSettings, MixinSchema, ServiceSchema } from "../../lib/schema";
import { escapeRegex } from "../../lib/text";
import { entityOf } from "../../middlewares/entity.middleware";
import { OutboxMixin } from "../../mixins/outbox.mixin";
import { TenantDbMixin } from "../../mixins/tenant.mixin";
import { MANUAL_TYPES, type ActivityType, type RecordParams } from "./activities.service";
import { canTransition, customFieldsParam, envelope, idParam, moneyParam, phoneKey, STATUSES, type LeadStatus } from "./common";
import { LeadAssignmentMixin } from "./lead-assignment.mixin";
import { LeadCaptureMixin } from "./lead-capture.mixin";
import { leadInputParams, PUBLIC_FIELDS, type Lead, type LeadInput, type LeadRow, type LeadsMethods, type Money } from "./lead-model";
import { LeadReportsMixin } from "./lead-reports.mixin";

/** What `updateLead` takes: contact fields that may be cleared (null), and the status. */
type LeadPatch = { id: string; status?: LeadStatus; source?: string; name?: string; customFields?: LeadInput["customFields"] } & {
	[K in "email" | "phone" | "company" | "country"]?: string | null;
} & { value?: Money | null };

type ListParams = {
	page: number;
	pageSize: number;
	sort: string;
	status?: LeadStatus | LeadStatus[];
	source?: string;
	assignedTo?: string;
	unassigned?: boolean;
	createdFrom?: Date;
	createdTo?: Date;
	q?: string;
};

const listQuery = (p: ListParams): Record<string, unknown> => {
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

const LeadsService: ServiceSchema<DbSettings, LeadsMethods> = {
	name: "leads",
	mixins: [
		TenantDbMixin({
			collection: "leads",
			indexes: [{ fields: ["tenantId"] }, { fields: ["emailKey"] }, { fields: ["phoneKey"] }, { fields: ["assignedTo"] }],
		}),
		OutboxMixin({ collection: "leads_outbox" }),
		// Moleculer types `mixins` with its default `this` (any methods): a typed mixin is cast to it.
		LeadAssignmentMixin as MixinSchema,
		LeadCaptureMixin as MixinSchema,
		LeadReportsMixin as MixinSchema,
	],
	settings: { fields: PUBLIC_FIELDS },

	actions: {
		listLeads: {
			rest: "GET /",
			scopes: ["leads:read"],
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
			handler(ctx: Ctx<ListParams>) {
				const { page, pageSize, sort } = ctx.params;
				return this._list(ctx, { page, pageSize, sort, query: listQuery(ctx.params) });
			},
		},

		getLead: {
			rest: "GET /:id",
			scopes: ["leads:read"],
			roles: ["member"],
			cache: { keys: ["#user.tenantId", "id"] },
			params: { id: idParam, $$strict: "remove" },
			handler(ctx: Ctx<{ id: string }>) {
				return this._get(ctx, { id: ctx.params.id });
			},
		},

		createLead: {
			rest: "POST /",
			scopes: ["leads:write"],
			roles: ["member"],
			params: { ...leadInputParams, $$strict: "remove" },
			async handler(ctx: Ctx<LeadInput>) {
				const lead = await this.createLead(ctx, ctx.params, currentTenantUser(ctx).id);
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/leads/${lead.id}`;
				return lead;
			},
		},

		updateLead: {
			rest: "PATCH /:id",
			scopes: ["leads:write"],
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
			entity: "findLead",
			async handler(ctx: Ctx<LeadPatch>) {
				const { id, status, ...fields } = ctx.params;
				const user = currentTenantUser(ctx);
				const current = entityOf<LeadRow>(ctx);
				const set: Record<string, unknown> = { ...fields };
				if ("email" in fields) set.emailKey = fields.email ?? null;
				if ("phone" in fields) set.phoneKey = phoneKey(fields.phone) ?? null;
				const from = current.status;
				const changing = status !== undefined && status !== from;
				if (changing) {
					if (!canTransition(from, status))
						throw new InvalidTransitionError(`A lead cannot go from '${from}' to '${status}'.`, from, status);
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
			async handler(ctx: Ctx<{ id: string }>) {
				await this._remove(ctx, { id: ctx.params.id });
				await ctx.call("activities.removeForLead", { leadId: ctx.params.id });
				ctx.meta.$statusCode = 204;
				return null;
			},
		},

		addActivity: {
			rest: "POST /:id/activities",
			scopes: ["leads:write"],
			roles: ["member"],
			params: {
				id: idParam,
				type: { type: "enum", values: [...MANUAL_TYPES] },
				summary: { type: "string", min: 1, max: 2000, trim: true },
				at: { type: "date", convert: true, optional: true },
				$$strict: "remove",
			},
			// the lead must be the caller's tenant's (404 otherwise)
			entity: "findLead",
			async handler(ctx: Ctx<{ id: string; type: ActivityType; summary: string; at?: Date }>) {
				const { id, type, summary, at } = ctx.params;
				const activity = await ctx.call("activities.record", {
					leadId: id,
					type,
					summary,
					at,
					actorId: currentTenantUser(ctx).id,
				} satisfies RecordParams);
				ctx.meta.$statusCode = 201;
				ctx.meta.$location = `/api/leads/${id}/activities`;
				return activity;
			},
		},

		listActivities: {
			rest: "GET /:id/activities",
			scopes: ["leads:read"],
			roles: ["member"],
			params: { id: idParam, ...pageParams, sort: { type: "enum", values: ["at", "-at"], default: "-at" }, $$strict: "remove" },
			entity: "findLead",
			async handler(ctx: Ctx<{ id: string; page: number; pageSize: number; sort: string }>) {
				const { id, page, pageSize, sort } = ctx.params;
				return ctx.call("activities.listForLead", { leadId: id, page, pageSize, sort });
			},
		},
	},

	methods: {
		findLead(ctx: Ctx<unknown>, id: string) {
			return this.scopedFindById<LeadRow>(ctx, id);
		},

		async loadRaw(ctx: Ctx<unknown>, id: string): Promise<LeadRow> {
			const doc = await this.findLead(ctx, id);
			if (!doc) throw new NotFoundError("Not found.", id);
			return doc;
		},

		/** Compare-and-set: applies `set` only if the row is still exactly as read. */
		async cas(ctx: Ctx<unknown>, current: LeadRow, set: Record<string, unknown>): Promise<Lead> {
			const n = await this.scopedUpdateWhere(
				ctx,
				{ _id: current._id, status: current.status, assignedTo: current.assignedTo ?? null, updatedAt: current.updatedAt },
				set,
			);
			if (n === 0) {
				await this.loadRaw(ctx, current._id); // 404 if it was deleted meanwhile
				throw new ConcurrentUpdateError("The lead changed meanwhile: read it again and retry.");
			}
			return this.toEntity(await this.loadRaw(ctx, current._id));
		},

		/** Through the outbox (mixins/outbox.mixin.ts): stored, then sent, re-sent by the relay until it is. */
		publish(name: string, payload: object) {
			return this.publishEvent(name, payload as Record<string, unknown>);
		},

		async record(ctx: Ctx<unknown>, leadId: string, type: ActivityType, summary: string, data?: Record<string, unknown>, key?: string) {
			await ctx.call("activities.record", { leadId, type, summary, actorId: ctx.meta.user?.id ?? "system", data, key } satisfies RecordParams);
		},

		async createLead(ctx: Ctx<unknown>, input: LeadInput, createdBy: string): Promise<Lead> {
			const { tenantId, id: actorId } = currentTenantUser(ctx);
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
	},
};

export default LeadsService;
