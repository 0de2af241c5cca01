/**
 * The timeline of each lead: activities people log (call, email, meeting, note) and the ones the
 * leads service records itself (created, status_changed, assigned, form_submission). Internal only:
 * the leads service publishes `/api/leads/:id/activities` after checking the lead is the caller's.
 * An optional `key` makes a record idempotent (a redelivered event records its activity once).
 */
import type { Ctx } from "../../lib/context";
import { pageParams } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { idParam } from "./common";
import { ConflictError } from "../../lib/errors";

export const MANUAL_TYPES = ["call", "email", "meeting", "note"] as const;
export const AUTO_TYPES = ["created", "status_changed", "assigned", "form_submission"] as const;

export type ActivityType = (typeof MANUAL_TYPES)[number] | (typeof AUTO_TYPES)[number];

/** What `activities.record` takes (the leads service records its own entries through it). */
export interface RecordParams {
	leadId: string;
	type: ActivityType;
	summary?: string;
	at?: Date | string;
	actorId: string;
	data?: Record<string, unknown>;
	key?: string;
}

const ActivitiesService: ServiceSchema<DbSettings, TenantDbMethods> = {
	name: "activities",
	mixins: [
		TenantDbMixin({
			collection: "lead_activities",
			indexes: [{ fields: ["leadId"] }, { fields: ["tenantId", "key"], unique: true }],
		}),
	],
	settings: {
		fields: ["id", "leadId", "type", "summary", "at", "actorId", "data", "createdAt"],
	},
	actions: {
		record: {
			visibility: "public",
			params: {
				leadId: idParam,
				type: { type: "enum", values: [...MANUAL_TYPES, ...AUTO_TYPES] },
				summary: { type: "string", max: 2000, trim: true, default: "" },
				at: { type: "date", convert: true, optional: true },
				actorId: { type: "string", max: 128 },
				data: { type: "object", optional: true },
				key: { type: "string", max: 200, optional: true },
				$$strict: "remove",
			},
			async handler(ctx: Ctx<RecordParams>) {
				const { at, key, ...rest } = ctx.params;
				const entity = { ...rest, at: (at ? new Date(at) : new Date()).toISOString(), ...(key ? { key } : {}) };
				try {
					return await this._create(ctx, entity);
				} catch (err) {
					// A redelivered event: its activity is already on the timeline.
					if (key && err instanceof ConflictError) {
						const [existing] = await this._find(ctx, { query: { key }, limit: 1 });
						return existing;
					}
					throw err;
				}
			},
		},
		listForLead: {
			visibility: "public",
			cache: { keys: ["#user.tenantId", "leadId", "page", "pageSize", "sort"] },
			params: {
				leadId: idParam,
				...pageParams,
				sort: { type: "enum", values: ["at", "-at"], default: "-at" },
			},
			handler(ctx: Ctx<{ leadId: string; page: number; pageSize: number; sort: string }>) {
				const { leadId, page, pageSize, sort } = ctx.params;
				return this._list(ctx, { page, pageSize, sort, query: { leadId } });
			},
		},
		removeForLead: {
			visibility: "public",
			params: { leadId: idParam },
			async handler(ctx: Ctx<{ leadId: string }>) {
				const removed = await this.scopedRemoveWhere(ctx, { leadId: ctx.params.leadId });
				return { removed };
			},
		},
	},
};

export default ActivitiesService;
