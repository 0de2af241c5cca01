/**
 * Leads that come in bulk or from outside: CSV import (`POST /api/leads/import`) and web-form
 * submissions (`leads.ingest`, called by `intake` once the ingest key is checked), which dedupe on
 * email/phone within CRM_DEDUPE_WINDOW_S. Part of the leads service.
 */
import { bodyLimitBytes } from "../../lib/body";
import { config } from "../../lib/config";
import { currentTenantUser, type Ctx } from "../../lib/context";
import { KeyedMutex } from "../../lib/keyed-mutex";
import type { DbSettings, MixinSchema } from "../../lib/schema";
import { phoneKey } from "./common";
import { IMPORT_MAX_ROWS, leadFromRecord, parseLeadCsv, type FieldError } from "./lead-import";
import { leadInputParams, type LeadInput, type LeadRow, type LeadsMethods } from "./lead-model";

interface CaptureVars {
	/** serialises submissions with the same email/phone in this process */
	mutex: KeyedMutex;
}

export const LeadCaptureMixin: MixinSchema<DbSettings, LeadsMethods, CaptureVars> = {
	actions: {
		importCsv: {
			rest: "POST /import",
			roles: ["member"],
			summary: `Bulk import from CSV text (header row; columns name,email,phone,company,country,source,amount,currency and cf_<key> for custom fields; at most ${IMPORT_MAX_ROWS} rows).`,
			// No longer than the body that carries it can be (README: Security).
			params: { csv: { type: "string", min: 1, max: bodyLimitBytes(config().BODY_LIMIT) }, $$strict: "remove" },
			// Thousands of rows (each a lead, its timeline entry and its event) outlast the default request timeout.
			timeout: 120_000,
			async handler(ctx: Ctx<{ csv: string }>) {
				const user = currentTenantUser(ctx);
				const records = await parseLeadCsv(ctx.params.csv);
				let accepted = 0;
				const rejected: { row: number; errors: FieldError[] }[] = [];
				for (const [i, record] of records.entries()) {
					const lead = leadFromRecord(record);
					if ("errors" in lead) {
						rejected.push({ row: i + 1, errors: lead.errors });
						continue;
					}
					await this.createLead(ctx, { source: "import", ...lead.input }, user.id);
					accepted++;
				}
				return { accepted, rejected };
			},
		},

		ingest: {
			visibility: "public",
			summary: "A web-form submission: a new lead, or an activity on the lead with the same email/phone created within the dedupe window.",
			params: { ...leadInputParams, message: { type: "string", max: 2000, optional: true }, $$strict: "remove" },
			async handler(ctx: Ctx<LeadInput & { message?: string }>) {
				const tenantId = currentTenantUser(ctx).tenantId;
				const { message, ...input } = ctx.params;
				const keys = [input.email ? `e:${input.email}` : null, phoneKey(input.phone) ? `p:${phoneKey(input.phone)}` : null].filter(
					Boolean,
				) as string[];
				const work = async () => {
					if (keys.length) {
						const since = new Date(Date.now() - config().CRM_DEDUPE_WINDOW_S * 1000).toISOString();
						const or: Record<string, unknown>[] = [];
						if (input.email) or.push({ emailKey: input.email });
						if (phoneKey(input.phone)) or.push({ phoneKey: phoneKey(input.phone) });
						const existing = await this.scopedFindOne<LeadRow>(ctx, { $or: or, createdAt: { $gte: since } });
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
	},

	created() {
		this.mutex = new KeyedMutex();
	},
};
