/** Cron expressions and time zones of schedules, through croner (5 fields, or 6 with seconds first). */
import { Cron } from "croner";
import { InvalidInputError } from "../../../lib/errors";

/** The IANA zone, or 422 naming `timezone`. */
export function checkTimezone(timezone: string): void {
	try {
		new Intl.DateTimeFormat("en-US", { timeZone: timezone });
	} catch {
		throw new InvalidInputError("The time zone is not valid.", [{ field: "timezone", message: `'${timezone}' is not an IANA time zone` }]);
	}
}

/** A parsed expression, or 422 naming `cron` with croner's reason. */
export function parseCron(expression: string, timezone: string): Cron {
	checkTimezone(timezone);
	try {
		return new Cron(expression, { timezone, paused: true });
	} catch (err) {
		throw new InvalidInputError("The cron expression is not valid.", [{ field: "cron", message: (err as Error).message }]);
	}
}

const parsed = new Map<string, Cron>();
const PARSED_MAX = 1_000;

/**
 * `parseCron` remembered per (expression, zone): every scheduler tick looks at every schedule, and a parse
 * (the zone checked through Intl, croner's parser) costs far more than the look. Croner's `nextRun(date)`
 * depends only on its argument, so one parsed expression serves every schedule that uses it.
 */
export function cachedCron(expression: string, timezone: string): Cron {
	const key = `${timezone} ${expression}`;
	let cron = parsed.get(key);
	if (!cron) {
		cron = parseCron(expression, timezone);
		if (parsed.size >= PARSED_MAX) parsed.delete(parsed.keys().next().value!);
		parsed.set(key, cron);
	}
	return cron;
}

/** The next `n` fire times after `from`. */
export function nextTimes(cron: Cron, n: number, from = new Date()): Date[] {
	return cron.nextRuns(n, from);
}

/** Due times in (after, until], at most `limit` of them (the latest ones are what a misfire policy needs). */
export function dueTimesBetween(cron: Cron, after: number, until: number, limit = 10_000): number[] {
	const out: number[] = [];
	let at = cron.nextRun(new Date(after));
	while (at && at.getTime() <= until) {
		out.push(at.getTime());
		if (out.length > limit) out.shift();
		at = cron.nextRun(at);
	}
	return out;
}
