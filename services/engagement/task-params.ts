/** Validation of task fields, shared by create, update and restore. */
import { InvalidInputError } from "../../lib/errors";
import { PRIORITIES, STATUSES } from "./task-model";

export const idParam = { type: "string", min: 1, max: 64 } as const;
export const userIdParam = { type: "string", min: 1, max: 128, trim: true } as const;

export const taskFieldParams = {
	title: { type: "string", min: 1, max: 200, trim: true },
	description: { type: "string", max: 10_000 },
	status: { type: "enum", values: STATUSES },
	priority: { type: "enum", values: PRIORITIES },
	dueAt: { type: "string", max: 40, nullable: true },
	estimateMinutes: { type: "number", integer: true, min: 0, max: 1_000_000, convert: true },
	tags: { type: "array", max: 20, unique: true, items: { type: "string", min: 1, max: 40, trim: true, lowercase: true } },
	assigneeId: { ...userIdParam, nullable: true },
} as const;

/** Every field optional (PATCH). */
export const optionalTaskFieldParams = Object.fromEntries(Object.entries(taskFieldParams).map(([k, v]) => [k, { ...v, optional: true }])) as {
	[K in keyof typeof taskFieldParams]: (typeof taskFieldParams)[K] & { optional: true };
};

/** An ISO 8601 date-time as stored (UTC, milliseconds), or 422 naming the field. */
export function normalizeDueAt(value: string | null | undefined): string | null | undefined {
	if (value === undefined || value === null) return value;
	const t = /^\d{4}-\d{2}-\d{2}/.test(value) ? Date.parse(value) : Number.NaN;
	if (Number.isNaN(t)) throw new InvalidInputError("dueAt is not a date.", [{ field: "dueAt", message: "must be an ISO 8601 date-time" }]);
	return new Date(t).toISOString();
}
