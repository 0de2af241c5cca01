/** Reading a task and its versions, and the If-Match a write may be based on. */
import { NotFoundError } from "../../../lib/errors";
import type { Task, TaskVersion } from "../task-model";
import type { AnyCtx, TasksMethodsOf } from "./types";

export const storeMethods: TasksMethodsOf<"loadTask" | "ifMatch" | "versionOf"> = {
	async loadTask(ctx: AnyCtx, id: string) {
		const row = await this.scopedFindById(ctx, id);
		return row ? this.toEntity<Task>(row) : null;
	},
	ifMatch(ctx: AnyCtx) {
		const value = ctx.meta.headers?.["if-match"];
		return typeof value === "string" ? value : undefined;
	},
	async versionOf(ctx: AnyCtx, taskId: string, v: number) {
		const found = await ctx.call<TaskVersion | null, { taskId: string; version: number }>("taskversions.get", { taskId, version: v });
		if (!found) throw new NotFoundError("No such version.", String(v));
		return found;
	},
};
