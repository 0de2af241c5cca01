/** Time series answered from buckets: every bucket of the range, zero where nothing happened. */
import { InvalidInputError } from "../../../lib/errors";
import type { Granularity } from "./events";

export interface Point {
	start: string;
	count: number;
	sum?: number;
}

export interface BucketRow {
	start: string;
	value: string;
	count: number;
	sums?: Record<string, number>;
}

const SIZE: Record<Granularity, number> = { hour: 3600_000, day: 86_400_000 };
/** The longest range one query answers (points per series). */
export const MAX_POINTS = 1200;

/** The bucket starts of [from, to): from rounded down to its bucket, to exclusive. */
export function bucketStarts(from: Date, to: Date, g: Granularity): string[] {
	const size = SIZE[g];
	const first = Math.floor(from.getTime() / size) * size;
	const n = Math.ceil((to.getTime() - first) / size);
	if (n <= 0) throw new InvalidInputError("The range is empty.", [{ field: "to", message: "must be after from" }]);
	if (n > MAX_POINTS) throw new InvalidInputError("The range is too long.", [{ field: "to", message: `at most ${MAX_POINTS} ${g} buckets` }]);
	return Array.from({ length: n }, (_, i) => new Date(first + i * size).toISOString());
}

/** Points of one series from its bucket rows. */
export function toPoints(starts: string[], rows: readonly BucketRow[], sum?: string): Point[] {
	const byStart = new Map<string, { count: number; sum: number }>();
	for (const r of rows) {
		const p = byStart.get(r.start) ?? { count: 0, sum: 0 };
		p.count += r.count;
		if (sum) p.sum += r.sums?.[sum] ?? 0;
		byStart.set(r.start, p);
	}
	return starts.map(start => {
		const p = byStart.get(start);
		return sum ? { start, count: p?.count ?? 0, sum: p?.sum ?? 0 } : { start, count: p?.count ?? 0 };
	});
}
