/**
 * The history of every task: one row per version (who, when, which fields changed, the whole
 * snapshot). Append-only: a restore writes a new version, nothing is ever rewritten. Internal:
 * `tasks` writes and reads it (README, "Engagement domain").
 */
import type { Ctx } from "../../lib/context";
import { pageParams, type Page } from "../../lib/paging";
import type { DbSettings, ServiceSchema } from "../../lib/schema";
import { TenantDbMixin, type TenantDbMethods } from "../../mixins/tenant.mixin";
import type { TaskVersion } from "./task-model";

const id = { type: "string", min: 1, max: 64 } as const;

const TaskVersionsService: ServiceSchema<DbSettings, TenantDbMethods> = {
	name: "taskversions",
	mixins: [
		TenantDbMixin({
			collection: "engagement_task_versions",
			indexes: [{ fields: ["tenantId", "taskId", "version"], unique: true }, { fields: ["taskId"] }],
		}),
	],
	settings: { fields: ["id", "taskId", "version", "by", "at", "changed", "snapshot", "restoredFrom"] },
	actions: {
		record: {
			visibility: "public",
			params: {
				taskId: id,
				version: { type: "number", integer: true, min: 1 },
				by: { type: "string", max: 128 },
				changed: { type: "array", max: 20, items: { type: "string", max: 40 } },
				snapshot: { type: "object" },
				restoredFrom: { type: "number", integer: true, min: 1, optional: true },
				$$strict: "remove",
			},
			handler(ctx: Ctx<Omit<TaskVersion, "id" | "at">>) {
				const { taskId, version, by, changed, snapshot, restoredFrom } = ctx.params;
				return this._create<TaskVersion>(ctx, {
					taskId,
					version,
					by,
					at: new Date().toISOString(),
					changed,
					snapshot,
					...(restoredFrom && { restoredFrom }),
				});
			},
		},
		list: {
			visibility: "public",
			params: { taskId: id, ...pageParams, $$strict: "remove" },
			handler(ctx: Ctx<{ taskId: string; page: number; pageSize: number }>): Promise<Page<TaskVersion>> {
				const { taskId, page, pageSize } = ctx.params;
				return this._list(ctx, { query: { taskId }, sort: ["-version"], page, pageSize });
			},
		},
		get: {
			visibility: "public",
			params: { taskId: id, version: { type: "number", integer: true, min: 1, convert: true }, $$strict: "remove" },
			async handler(ctx: Ctx<{ taskId: string; version: number }>): Promise<TaskVersion | null> {
				const row = await this.scopedFindOne(ctx, { taskId: ctx.params.taskId, version: ctx.params.version });
				return row ? this.toEntity<TaskVersion>(row) : null;
			},
		},
		removeOf: {
			visibility: "public",
			params: { taskId: id, $$strict: "remove" },
			handler(ctx: Ctx<{ taskId: string }>) {
				return this.scopedRemoveWhere(ctx, { taskId: ctx.params.taskId });
			},
		},
	},
};

export default TaskVersionsService;
