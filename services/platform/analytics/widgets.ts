/**
 * Dashboard widgets: their validation (on save) and how each is answered from the buckets.
 * series: a time series · counter: one total · funnel: the count of each step's event over the range
 * (event counts, not a per-user conversion) · table: totals by one dimension.
 */
import { EVENT_NAME } from "./events";

const name = { type: "string", min: 1, max: 64, pattern: EVENT_NAME } as const;
const prop = { type: "string", min: 1, max: 64, pattern: /^[A-Za-z_][\w.-]*$/, optional: true } as const;
const rangeDays = { type: "number", integer: true, min: 1, max: 366, default: 30 } as const;

export const widgetRule = {
	type: "object",
	strict: "remove",
	props: {
		type: { type: "enum", values: ["series", "counter", "funnel", "table"] },
		title: { type: "string", max: 200, optional: true },
		query: {
			type: "object",
			strict: "remove",
			props: {
				name: { ...name, optional: true },
				steps: { type: "array", min: 2, max: 10, items: name, optional: true },
				bucket: { type: "enum", values: ["hour", "day"], default: "day" },
				by: prop,
				sum: prop,
				rangeDays,
			},
		},
	},
} as const;

export interface Widget {
	type: "series" | "counter" | "funnel" | "table";
	title?: string;
	query: { name?: string; steps?: string[]; bucket: "hour" | "day"; by?: string; sum?: string; rangeDays: number };
}

/** What fastest-validator cannot say: which query fields each widget type needs. */
export function widgetErrors(widgets: Widget[]): { field: string; message: string }[] {
	const errors: { field: string; message: string }[] = [];
	widgets.forEach((w, i) => {
		const at = `widgets[${i}].query`;
		if (w.type === "funnel") {
			if (!w.query.steps) errors.push({ field: `${at}.steps`, message: "a funnel needs 2 to 10 steps" });
		} else if (!w.query.name) errors.push({ field: `${at}.name`, message: `a ${w.type} needs an event name` });
		if (w.type === "table" && !w.query.by) errors.push({ field: `${at}.by`, message: "a table needs a dimension (by)" });
		if (w.type === "series" && w.query.bucket === "hour" && w.query.rangeDays > 31)
			errors.push({ field: `${at}.rangeDays`, message: "hourly series cover at most 31 days" });
	});
	return errors;
}
