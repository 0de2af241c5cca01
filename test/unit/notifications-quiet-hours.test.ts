/**
 * Quiet hours in a user's time zone: inside or outside, across midnight, and the end computed on the
 * wall clock through daylight-saving changes (the expected instants are written out from the zones' rules).
 */
import { isQuiet, isTimeZone, quietUntil } from "../../lib/quiet-hours";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe("quiet hours", () => {
	it("knows IANA time zones and refuses others", () => {
		expect(isTimeZone("Europe/Paris")).toBe(true);
		expect(isTimeZone("UTC")).toBe(true);
		expect(isTimeZone("America/Argentina/Buenos_Aires")).toBe(true);
		expect(isTimeZone("Mars/Olympus")).toBe(false);
		expect(isTimeZone("")).toBe(false);
		expect(isTimeZone("x".repeat(100))).toBe(false);
	});

	it("is not quiet outside the window, nor without one", () => {
		const q = { start: "22:00", end: "07:00" };
		expect(quietUntil(at("2026-06-10T12:00:00Z"), q, "UTC")).toBeNull();
		expect(quietUntil(at("2026-06-10T07:00:00Z"), q, "UTC")).toBeNull(); // the end itself is not quiet
		expect(quietUntil(at("2026-06-10T23:00:00Z"), null, "UTC")).toBeNull();
		expect(isQuiet(at("2026-06-10T21:59:00Z"), q, "UTC")).toBe(false);
		expect(isQuiet(at("2026-06-10T22:00:00Z"), q, "UTC")).toBe(true);
	});

	it("ends the window at the local end time, across midnight, in the user's zone", () => {
		const q = { start: "22:00", end: "07:00" };
		// 23:30 in Paris (summer, UTC+2) → 07:00 Paris next day = 05:00 UTC
		expect(iso(quietUntil(at("2026-06-10T21:30:00Z"), q, "Europe/Paris"))).toBe("2026-06-11T05:00:00.000Z");
		// 03:10 in Paris → 07:00 the same day
		expect(iso(quietUntil(at("2026-06-11T01:10:42Z"), q, "Europe/Paris"))).toBe("2026-06-11T05:00:00.000Z");
		// the same instant is daytime in New York (21:30 UTC = 17:30 EDT): not quiet there
		expect(quietUntil(at("2026-06-10T21:30:00Z"), q, "America/New_York")).toBeNull();
		// a window within one day
		expect(iso(quietUntil(at("2026-06-10T13:15:00Z"), { start: "13:00", end: "14:30" }, "UTC"))).toBe("2026-06-10T14:30:00.000Z");
		// a half-hour zone (India, UTC+5:30): 23:00 IST = 17:30 UTC → 07:00 IST = 01:30 UTC
		expect(iso(quietUntil(at("2026-06-10T17:30:00Z"), q, "Asia/Kolkata"))).toBe("2026-06-11T01:30:00.000Z");
	});

	it("follows daylight-saving changes on the way to the end", () => {
		const q = { start: "22:00", end: "07:00" };
		// Paris springs forward on 2026-03-29 at 02:00 (UTC+1 → UTC+2): 07:00 that morning is 05:00 UTC
		expect(iso(quietUntil(at("2026-03-28T22:30:00Z"), q, "Europe/Paris"))).toBe("2026-03-29T05:00:00.000Z");
		// Paris falls back on 2026-10-25 at 03:00 (UTC+2 → UTC+1): 07:00 that morning is 06:00 UTC
		expect(iso(quietUntil(at("2026-10-24T21:30:00Z"), q, "Europe/Paris"))).toBe("2026-10-25T06:00:00.000Z");
		// an end time that does not exist that day (02:30 is skipped): the first instant after the jump, 03:00 CEST
		expect(iso(quietUntil(at("2026-03-28T22:00:00Z"), { start: "22:00", end: "02:30" }, "Europe/Paris"))).toBe("2026-03-29T01:00:00.000Z");
		// an end time that happens twice (02:30 on the fall-back night): the first one, 02:30 CEST = 00:30 UTC
		expect(iso(quietUntil(at("2026-10-24T21:00:00Z"), { start: "22:00", end: "02:30" }, "Europe/Paris"))).toBe("2026-10-25T00:30:00.000Z");
	});
});
