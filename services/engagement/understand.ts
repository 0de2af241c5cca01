/**
 * Offline task understanding: natural language → a task. The due date is parsed with chrono-node
 * in the caller's time zone (its UTC offset at the reference instant); priority from phrases such
 * as "high priority", "urgent", "asap"; tags from #hashtags and quarter names (Q1–Q4); the title is
 * what remains once those phrases are cut out.
 */
import * as chrono from "chrono-node";
import type { UnderstandInputs, UnderstoodTask } from "./generator";

/** The UTC offset (minutes east) of an IANA zone at an instant; throws RangeError for an unknown zone. */
export function zoneOffsetMinutes(timeZone: string, at: Date): number {
	const parts = new Intl.DateTimeFormat("en-US", {
		timeZone,
		hourCycle: "h23",
		year: "numeric",
		month: "2-digit",
		day: "2-digit",
		hour: "2-digit",
		minute: "2-digit",
		second: "2-digit",
	}).formatToParts(at);
	const n = (type: string) => Number(parts.find(p => p.type === type)!.value);
	const asUtc = Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute"), n("second"));
	return Math.round((asUtc - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

const PRIORITY: [RegExp, UnderstoodTask["priority"]][] = [
	[/\b(urgent(ly)?|asap|as soon as possible|critical)\b/i, "urgent"],
	[/\b(high[- ]priority|important|high prio)\b/i, "high"],
	[/\b(low[- ]priority|low prio|whenever|someday)\b/i, "low"],
	[/\b(medium|normal)[- ]priority\b/i, "medium"],
];

export function understandOffline({ text, now, timeZone }: UnderstandInputs): UnderstoodTask {
	let rest = text;
	const [date] = chrono.parse(text, { instant: now, timezone: zoneOffsetMinutes(timeZone, now) }, { forwardDate: true });
	if (date) rest = rest.slice(0, date.index) + rest.slice(date.index + date.text.length);
	let priority: UnderstoodTask["priority"] = "medium";
	for (const [re, p] of PRIORITY) {
		if (!re.test(rest)) continue;
		priority = p;
		rest = rest.replace(re, "");
		break;
	}
	const tags = new Set<string>();
	for (const m of rest.matchAll(/#([\p{L}\p{N}_-]{1,40})/gu)) tags.add(m[1].toLowerCase());
	for (const m of rest.matchAll(/\b(Q[1-4])\b/gi)) tags.add(m[1].toLowerCase());
	rest = rest.replace(/#([\p{L}\p{N}_-]{1,40})/gu, "");
	const title = rest
		.replace(/\s*[,;]\s*(?=[,;]|$)/g, "")
		.replace(/\s{2,}/g, " ")
		.replace(/^[\s,;:-]+|[\s,;:.-]+$/g, "")
		.slice(0, 200);
	return {
		title: title ? title[0].toUpperCase() + title.slice(1) : text.trim().slice(0, 200),
		dueAt: date ? date.start.date().toISOString() : null,
		priority,
		tags: [...tags].slice(0, 20),
	};
}
