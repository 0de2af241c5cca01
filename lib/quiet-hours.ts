/**
 * Quiet hours in a user's own time zone (README, "Platform: notifications" → "Preferences"): a window of
 * local wall-clock time, e.g. 22:00–07:00, during which e-mail and push wait. Computed with the IANA
 * time-zone data the runtime carries (Intl), so daylight-saving changes are honoured: the window ends at
 * 07:00 local time whatever the UTC offset is that day.
 */

export interface QuietHours {
	/** "HH:MM", 24-hour local time */
	start: string;
	end: string;
}

export const TIME_OF_DAY = /^([01]\d|2[0-3]):[0-5]\d$/;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
	let f = formatters.get(timeZone);
	if (!f) {
		f = new Intl.DateTimeFormat("en-US", { timeZone, hourCycle: "h23", hour: "2-digit", minute: "2-digit" });
		formatters.set(timeZone, f);
	}
	return f;
}

/** True for a time zone the runtime knows (an IANA name such as "Europe/Paris", or "UTC"). */
export function isTimeZone(value: string): boolean {
	if (typeof value !== "string" || !value || value.length > 64) return false;
	try {
		formatter(value);
		return true;
	} catch {
		return false;
	}
}

const minutesOf = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

/** Minutes since local midnight at `ms` in `timeZone`. */
export function localMinutes(ms: number, timeZone: string): number {
	let hour = 0;
	let minute = 0;
	for (const part of formatter(timeZone).formatToParts(ms)) {
		if (part.type === "hour") hour = Number(part.value) % 24;
		else if (part.type === "minute") minute = Number(part.value);
	}
	return hour * 60 + minute;
}

function inside(minutes: number, start: number, end: number): boolean {
	if (start === end) return false; // an empty window: no quiet hours
	return start < end ? minutes >= start && minutes < end : minutes >= start || minutes < end;
}

/** True when `ms` falls in the quiet hours (local time in `timeZone`). */
export function isQuiet(ms: number, quiet: QuietHours | null | undefined, timeZone: string): boolean {
	if (!quiet) return false;
	return inside(localMinutes(ms, timeZone), minutesOf(quiet.start), minutesOf(quiet.end));
}

/**
 * When the quiet hours that `now` falls in end (epoch ms), or null when `now` is not in quiet hours.
 * The end is the first instant whose local time is `quiet.end`; on a day where that time does not exist
 * (clocks jump over it) the first instant after the jump.
 */
export function quietUntil(now: number, quiet: QuietHours | null | undefined, timeZone: string): number | null {
	if (!quiet) return null;
	const start = minutesOf(quiet.start);
	const end = minutesOf(quiet.end);
	const here = localMinutes(now, timeZone);
	if (!inside(here, start, end)) return null;
	// Walk the wall clock forward to the end, then correct for an offset change on the way.
	let at = now - (now % 60_000) + ((end - here + 1440) % 1440) * 60_000;
	for (let i = 0; i < 3; i++) {
		const local = localMinutes(at, timeZone);
		if (local === end) break;
		let diff = (end - local + 1440) % 1440;
		if (diff > 720) diff -= 1440;
		at += diff * 60_000;
	}
	// The end time did not exist that day, or the correction went back into the window: step out of it.
	for (let i = 0; i < 24 * 60 && (at <= now || inside(localMinutes(at, timeZone), start, end)); i++) at += 60_000;
	return at;
}
