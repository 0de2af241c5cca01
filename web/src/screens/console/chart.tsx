/**
 * A time-series line chart (uPlot). The canvas is a picture: the figure's caption names it, and the latest
 * values are written out in text beside it for screen readers and for the keyboard-only reader.
 */
import { useEffect } from "preact/hooks";
import type uPlot from "uplot";
import { useUplot } from "../../components/use-uplot";

export interface Series {
	label: string;
	color: string;
	/** how a value reads in the caption ("12.5 req/s") */
	format(v: number | null): string;
}

/** `windowS`: the x axis always shows the last this many seconds (a live chart slides; its first points do not spread over years). */
export function LineChart({
	title,
	series,
	data,
	windowS,
}: {
	title: string;
	series: Series[];
	data: [number[], ...(number | null)[][]];
	windowS: number;
}) {
	const { box, plot } = useUplot(
		() => ({
			series: [
				{},
				...series.map(s => ({
					label: s.label,
					stroke: s.color,
					width: 2,
					spanGaps: false,
					value: (_u: uPlot, v: number | null) => s.format(v),
				})),
			],
			axes: [{}, { size: 56 }],
			scales: { x: { time: true } },
			cursor: { drag: { x: false, y: false } },
			legend: { show: true, live: false },
		}),
		data as uPlot.AlignedData,
		{ height: 180, minWidth: 280, inset: 8 },
		[],
	);
	useEffect(() => {
		const u = plot.current;
		if (!u) return;
		u.setData(data as uPlot.AlignedData, false);
		const xs = data[0];
		const end = xs.length ? xs[xs.length - 1] : Date.now() / 1000;
		u.setScale("x", { min: end - windowS, max: end });
	}, [data]);
	const last = data[0].length - 1;
	return (
		<figure class="chart">
			<figcaption>
				<h3>{title}</h3>
				<p class="hint">
					{last < 0
						? "Waiting for the second sample…"
						: series.map((s, i) => `${s.label}: ${s.format((data[i + 1][last] as number | null) ?? null)}`).join(" · ")}
				</p>
			</figcaption>
			<div ref={box} aria-hidden="true" />
		</figure>
	);
}
