/**
 * What the analytics screens share (README, "Web app" → "Analytics screens"): the API's shapes
 * (README, "Platform: analytics"), a labelled select in the style of `Field`, and a uPlot
 * chart whose figures are a table beside it (the canvas is hidden from screen readers; the table is what
 * they read and what the browser test checks).
 */
import uPlot from "uplot";
import { useEffect, useId } from "preact/hooks";
import type { ApiProblem } from "../../api";
import { useUplot } from "../../components/use-uplot";

export interface Point {
	start: string;
	count: number;
	sum?: number;
}

export interface SeriesAnswer {
	name: string;
	bucket: "hour" | "day";
	from: string;
	to: string;
	by: string | null;
	sum: string | null;
	points?: Point[];
	groups?: { value: string; total: number; points: Point[] }[];
}

export type WidgetType = "series" | "counter" | "funnel" | "table";

export interface WidgetQuery {
	name?: string;
	steps?: string[];
	bucket: "hour" | "day";
	by?: string;
	sum?: string;
	rangeDays: number;
}

export interface Widget {
	type: WidgetType;
	title?: string;
	query: WidgetQuery;
}

export interface Dashboard {
	id: string;
	name: string;
	widgets: Widget[];
	createdAt?: string;
	updatedAt?: string;
}

export type WidgetData =
	| (Widget & { type: "series"; data: SeriesAnswer })
	| (Widget & { type: "counter"; data: { total: number } })
	| (Widget & { type: "funnel"; data: { steps: { name: string; count: number }[] } })
	| (Widget & { type: "table"; data: { rows: { value: string; total: number }[] } });

export const WIDGET_TYPES: { value: WidgetType; label: string }[] = [
	{ value: "series", label: "Time series" },
	{ value: "counter", label: "Counter (one total)" },
	{ value: "funnel", label: "Funnel (steps)" },
	{ value: "table", label: "Table (totals by a dimension)" },
];

/** A bucket's start as the chart's table shows it, in UTC like the buckets: `2026-12-01` or `2026-12-01 14:00`. */
export const bucketLabel = (iso: string, bucket: "hour" | "day") => (bucket === "day" ? iso.slice(0, 10) : iso.slice(0, 16).replace("T", " "));

/** A labelled select, marked like `Field` (its error from the problem the last submit answered). */
export function SelectField<V extends string>(p: {
	label: string;
	name: string;
	value: V;
	options: { value: V; label: string }[];
	onChange(v: V): void;
	problem?: ApiProblem | null;
	error?: string;
}) {
	const id = useId();
	const error = p.error ?? p.problem?.fieldError(p.name);
	return (
		<div class={`field${error ? " field-invalid" : ""}`}>
			<label for={id}>{p.label}</label>
			<select
				id={id}
				name={p.name}
				value={p.value}
				aria-invalid={error ? true : undefined}
				aria-describedby={error ? `${id}-error` : undefined}
				onChange={e => p.onChange((e.currentTarget as HTMLSelectElement).value as V)}
			>
				{p.options.map(o => (
					<option key={o.value} value={o.value}>
						{o.label}
					</option>
				))}
			</select>
			{error ? (
				<p class="field-error" id={`${id}-error`} role="alert">
					{error}
				</p>
			) : null}
		</div>
	);
}

export interface AnSeries {
	label: string;
	values: (number | null)[];
	color: string;
}

/** The API's bucket sizes, as a select's options. */
export const BUCKET_OPTIONS: { value: "day" | "hour"; label: string }[] = [
	{ value: "day", label: "Day" },
	{ value: "hour", label: "Hour" },
];

export const COLORS = ["#2350c8", "#1d6b3a", "#a55a00", "#7a3fb8", "#b02a5b", "#1f6f7a"];

/**
 * A uPlot chart: lines over time (`times`: bucket starts, ISO) or bars over categories, with its figures in
 * a table (`#<id>-data`, each cell `data-x` = its row's label and `data-series` = its column's).
 */
export function AnChart(p: { id: string; title: string; xLabel: string; x: string[]; times?: string[]; series: AnSeries[] }) {
	const time = p.times !== undefined;
	const xs = time ? p.times!.map(t => Date.parse(t) / 1000) : p.x.map((_, i) => i);
	const data: uPlot.AlignedData = [xs, ...p.series.map(s => s.values)];
	const { box, plot } = useUplot(
		() => {
			const bars = uPlot.paths.bars!({ size: [0.6 / Math.max(1, p.series.length), 80], align: 0 });
			return {
				legend: { show: p.series.length > 1 },
				cursor: { drag: { x: false, y: false } },
				scales: {
					x: time ? { time: true } : { time: false, range: [-0.5, p.x.length - 0.5] },
					y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
				},
				axes: [
					time
						? { grid: { show: false } }
						: { values: (_u, splits) => splits.map(i => p.x[i] ?? ""), splits: () => p.x.map((_, i) => i), grid: { show: false } },
					{ size: 50, incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000, 1_000_000] },
				],
				series: [
					{},
					...p.series.map(s => ({
						label: s.label,
						stroke: s.color,
						fill: time ? undefined : s.color,
						width: time ? 2 : 0,
						paths: time ? undefined : bars,
						points: { show: time && xs.length < 60 },
					})),
				],
			};
		},
		data,
		{ height: 220, minWidth: 260 },
		[p.x.join("|"), p.series.map(s => s.label).join("|"), time],
	);
	useEffect(() => {
		plot.current?.setData(data);
	}, [JSON.stringify(data)]);
	return (
		<figure class="chart an-chart" aria-labelledby={`${p.id}-title`}>
			<h3 id={`${p.id}-title`}>{p.title}</h3>
			<div ref={box} class="an-chart-canvas" aria-hidden="true" />
			{/* scrolls when long: focusable so a keyboard can scroll it */}
			<div class="an-chart-figures" tabIndex={0} role="region" aria-label={`${p.title}: figures`}>
				<table class="chart-data" id={`${p.id}-data`}>
					<caption class="sr-only">{p.title}: figures</caption>
					<thead>
						<tr>
							<th scope="col">{p.xLabel}</th>
							{p.series.map(s => (
								<th scope="col" key={s.label} class="num">
									{s.label}
								</th>
							))}
						</tr>
					</thead>
					<tbody>
						{p.x.map((x, i) => (
							<tr key={x}>
								<th scope="row">{x}</th>
								{p.series.map(s => (
									<td key={s.label} class="num" data-x={x} data-series={s.label}>
										{s.values[i] ?? "—"}
									</td>
								))}
							</tr>
						))}
					</tbody>
				</table>
			</div>
		</figure>
	);
}

/** A widget's chart (series, funnel), card (counter) or table (table), from `GET /dashboards/:id/data`. */
export function WidgetView({ w, index }: { w: WidgetData; index: number }) {
	const id = `widget-${index}`;
	const title = w.title || (w.type === "funnel" ? (w.query.steps ?? []).join(" → ") : (w.query.name ?? ""));
	const range = `last ${w.query.rangeDays} days`;
	if (w.type === "counter")
		return (
			<section class="card an-counter" aria-labelledby={`${id}-title`}>
				<h3 id={`${id}-title`} class="label">
					{title} ({range})
				</h3>
				<div class="value" id={`${id}-total`}>
					{w.data.total}
				</div>
			</section>
		);
	if (w.type === "funnel")
		return (
			<AnChart
				id={id}
				title={`${title} (${range})`}
				xLabel="Step"
				x={w.data.steps.map(s => s.name)}
				series={[{ label: "Events", color: COLORS[0], values: w.data.steps.map(s => s.count) }]}
			/>
		);
	if (w.type === "table")
		return (
			<section class="chart an-table" aria-labelledby={`${id}-title`}>
				<h3 id={`${id}-title`}>
					{title} by {w.query.by} ({range})
				</h3>
				<table class="chart-data" id={`${id}-data`}>
					<thead>
						<tr>
							<th scope="col">{w.query.by}</th>
							<th scope="col" class="num">
								Events
							</th>
						</tr>
					</thead>
					<tbody>
						{w.data.rows.length === 0 ? (
							<tr>
								<td colSpan={2} class="empty">
									No events in this range.
								</td>
							</tr>
						) : (
							w.data.rows.map(r => (
								<tr key={r.value}>
									<th scope="row">{r.value}</th>
									<td class="num" data-x={r.value} data-series="Events">
										{r.total}
									</td>
								</tr>
							))
						)}
					</tbody>
				</table>
			</section>
		);
	const a = w.data;
	const base = a.groups?.[0]?.points ?? a.points ?? [];
	const valueOf = (pt: Point) => (a.sum ? (pt.sum ?? 0) : pt.count);
	const series: AnSeries[] = a.groups
		? a.groups.map((g, i) => ({ label: g.value, color: COLORS[i % COLORS.length], values: g.points.map(valueOf) }))
		: [{ label: a.sum ? `Sum of ${a.sum}` : "Events", color: COLORS[0], values: base.map(valueOf) }];
	return (
		<AnChart
			id={id}
			title={`${title}${a.by ? ` by ${a.by}` : ""} (${range}, per ${a.bucket})`}
			xLabel={a.bucket === "day" ? "Day (UTC)" : "Hour (UTC)"}
			x={base.map(pt => bucketLabel(pt.start, a.bucket))}
			times={base.map(pt => pt.start)}
			series={series}
		/>
	);
}
