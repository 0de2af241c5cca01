/**
 * A uPlot chart (README, "Web app": charts with uPlot, drawn on a canvas; no hand-drawn SVG) with its
 * figures as a table beside it, which is what a screen reader reads (the canvas is hidden from it) and what
 * the browser tests check. Bars for categories (`categories` names the x positions), lines otherwise.
 */
import uPlot from "uplot";
import { useEffect } from "preact/hooks";
import { useUplot } from "../../components/use-uplot";

export interface ChartSeries {
	label: string;
	values: (number | null)[];
	color: string;
	/** how a value reads in the table and the tooltip */
	format?(v: number): string;
}

export function Chart(p: {
	title: string;
	categoryLabel: string;
	categories: string[];
	series: ChartSeries[];
	kind?: "bars" | "line";
	yMax?: number;
	id: string;
}) {
	const kind = p.kind ?? "bars";
	const data: uPlot.AlignedData = [p.categories.map((_, i) => i), ...p.series.map(s => s.values)];
	const { box, plot } = useUplot(
		() => {
			const bars = uPlot.paths.bars!({ size: [0.6 / Math.max(1, p.series.length), 80], align: 0 });
			return {
				legend: { show: p.series.length > 1 },
				cursor: { drag: { x: false, y: false } },
				scales: {
					x: { time: false, range: [-0.5, p.categories.length - 0.5] },
					y: { range: (_u, _min, max) => [0, p.yMax ?? Math.max(1, max * 1.1)] },
				},
				axes: [
					{
						values: (_u, splits) => splits.map(i => p.categories[i] ?? ""),
						splits: () => p.categories.map((_, i) => i),
						grid: { show: false },
					},
					{
						values: (_u, splits) => splits.map(v => (p.series[0]?.format ? p.series[0].format(v) : String(v))),
						// room for "€12,345.00"; counts step by whole numbers
						size: p.series[0]?.format ? 80 : 50,
						incrs: p.series[0]?.format
							? undefined
							: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 50_000, 100_000],
					},
				],
				series: [
					{},
					...p.series.map(s => ({
						label: s.label,
						stroke: s.color,
						fill: kind === "bars" ? s.color : undefined,
						width: kind === "bars" ? 0 : 2,
						paths: kind === "bars" ? bars : undefined,
						points: { show: kind === "line" },
						value: (_u: uPlot, v: number | null) => (v == null ? "—" : s.format ? s.format(v) : String(v)),
					})),
				],
			};
		},
		data,
		{ height: 220, minWidth: 260 },
		[p.categories.join("|"), p.series.map(s => s.label).join("|"), kind],
	);
	useEffect(() => {
		plot.current?.setData(data);
	}, [JSON.stringify(data)]);
	return (
		<figure class="chart" aria-labelledby={`${p.id}-title`}>
			<h3 id={`${p.id}-title`}>{p.title}</h3>
			<div ref={box} class="chart-canvas" aria-hidden="true" />
			<table class="chart-data" id={`${p.id}-data`}>
				<caption class="sr-only">{p.title}: figures</caption>
				<thead>
					<tr>
						<th scope="col">{p.categoryLabel}</th>
						{p.series.map(s => (
							<th scope="col" key={s.label}>
								{s.label}
							</th>
						))}
					</tr>
				</thead>
				<tbody>
					{p.categories.map((c, i) => (
						<tr key={c}>
							<th scope="row">{c}</th>
							{p.series.map(s => (
								<td key={s.label} class="num" data-category={c}>
									{s.values[i] == null ? "—" : s.format ? s.format(s.values[i]!) : s.values[i]}
								</td>
							))}
						</tr>
					))}
				</tbody>
			</table>
		</figure>
	);
}
