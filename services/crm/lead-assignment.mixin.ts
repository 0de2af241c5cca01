/**
 * Who works a lead: manual (re)assignment by an admin (`POST /api/leads/:id/assign`) and `leads.assign`
 * for the assignment rules, idempotent per event (a redelivered `leads.created` assigns once) and, with
 * `onlyIfUnassigned`, never over a manual choice. A compare-and-set write, then `leads.assigned`.
 * Part of the leads service.
 */
import { currentTenantUser, type Ctx } from "../../lib/context";
import type { DbSettings, MixinSchema } from "../../lib/schema";
import { envelope, idParam, userIdParam } from "./common";
import type { AssignOptions, Lead, LeadsMethods } from "./lead-model";
import { requireMembers } from "./membership";

export const LeadAssignmentMixin: MixinSchema<DbSettings, LeadsMethods> = {
	actions: {
		assignTo: {
			rest: "POST /:id/assign",
			roles: ["admin"],
			summary: "Manual (re)assignment by an admin.",
			params: { id: idParam, userId: userIdParam, $$strict: "remove" },
			async handler(ctx: Ctx<{ id: string; userId: string }>) {
				await requireMembers(this, ctx, currentTenantUser(ctx).tenantId, [ctx.params.userId], "userId");
				const { lead } = await this.assignLead(ctx, ctx.params.id, ctx.params.userId, {});
				return lead;
			},
		},

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
			async handler(ctx: Ctx<{ id: string; userId: string } & AssignOptions>) {
				const { id, userId, eventId, ruleId, onlyIfUnassigned } = ctx.params;
				return this.assignLead(ctx, id, userId, { eventId, ruleId, onlyIfUnassigned });
			},
		},
	},

	methods: {
		async assignLead(ctx: Ctx<unknown>, id: string, userId: string, opts: AssignOptions) {
			const { tenantId, id: actorId } = currentTenantUser(ctx);
			const current = await this.loadRaw(ctx, id);
			const unchanged = async () => ({ changed: false, lead: this.toEntity<Lead>(current) });
			if (opts.eventId && current.assignedByEvent === opts.eventId) return unchanged(); // redelivery
			if (opts.onlyIfUnassigned && current.assignedTo) return unchanged();
			if (!opts.eventId && current.assignedTo === userId) return unchanged();
			const lead = await this.cas(ctx, current, {
				assignedTo: userId,
				assignedAt: new Date().toISOString(),
				assignedByEvent: opts.eventId ?? null,
			});
			const event = envelope(lead, tenantId, actorId, {
				previousAssignee: current.assignedTo ?? null,
				ruleId: opts.ruleId ?? null,
				causeEventId: opts.eventId ?? null,
			});
			await this.record(
				ctx,
				id,
				"assigned",
				`Assigned to ${userId}${opts.ruleId ? ` by rule ${opts.ruleId}` : ""}.`,
				{ userId, previous: current.assignedTo ?? null, ruleId: opts.ruleId ?? null },
				`${event.eventId}:assigned`,
			);
			await this.publish("leads.assigned", event);
			return { changed: true, lead };
		},
	},
};
