/**
 * The timeline of each lead: activities people log (call, email, meeting, note) and the ones the
 * leads service records itself (created, status_changed, assigned, form_submission). Internal only:
 * the leads service publishes `/api/leads/:id/activities` after checking the lead is the caller's.
 * An optional `key` makes a record idempotent (a redelivered event records its activity once).
 */
import type { Schema } from "../../lib/schema";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import { isDuplicateKeyError } from "../../mixins/db.mixin";
import { idParam, pageOf, pageParams, type Ctx } from "./common";

export const MANUAL_TYPES = ["call", "email", "meeting", "note"] as const;
export const AUTO_TYPES = ["created", "status_changed", "assigned", "form_submission"] as const;

type ActivitiesThis = TenantDbMethods;

const ActivitiesService: Schema<ActivitiesThis> = {
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
			async handler(this: ActivitiesThis, ctx: Ctx) {
				const { at, key, ...rest } = ctx.params;
				const entity = { ...rest, at: (at ? new Date(at) : new Date()).toISOString(), ...(key ? { key } : {}) };
				try {
					return await this._create(ctx, entity);
				} catch (err) {
					// A redelivered event: its activity is already on the timeline.
					if (key && ((err as { code?: number }).code === 409 || isDuplicateKeyError(err))) {
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
			handler(this: ActivitiesThis, ctx: Ctx) {
				const { leadId, page, pageSize, sort } = ctx.params;
				return this._list(ctx, { ...pageOf({ page, pageSize, sort }), query: { leadId } });
			},
		},
		removeForLead: {
			visibility: "public",
			params: { leadId: idParam },
			async handler(this: ActivitiesThis, ctx: Ctx) {
				const removed = await this.scopedRemoveWhere(ctx, { leadId: ctx.params.leadId });
				return { removed };
			},
		},
	},
};

export default ActivitiesService;
