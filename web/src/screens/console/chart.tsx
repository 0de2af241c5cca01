/**
 * A time-series line chart (uPlot). The canvas is a picture: the figure's caption names it, and the latest
 * values are written out in text beside it for screen readers and for the keyboard-only reader.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

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
	const box = useRef<HTMLDivElement>(null);
	const plot = useRef<uPlot | null>(null);
	useEffect(() => {
		const el = box.current!;
		const width = () => Math.max(280, el.clientWidth - 8);
		plot.current = new uPlot(
			{
				width: width(),
				height: 180,
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
			},
			data as uPlot.AlignedData,
			el,
		);
		const resize = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: 180 }));
		resize.observe(el);
		return () => {
			resize.disconnect();
			plot.current?.destroy();
			plot.current = null;
		};
	}, []);
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
