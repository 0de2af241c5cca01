/**
 * A uPlot chart's life in a component: made in the returned `box` when the component mounts (and made again
 * when `deps` change), kept as wide as its box, destroyed on unmount. The chart's options and how new data is
 * handed to it stay with each chart (`plot.current.setData`).
 */
import type { RefObject } from "preact";
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartSize {
	height: number;
	/** never narrower than this (px) */
	minWidth: number;
	/** px left free inside the box */
	inset?: number;
}

export function useUplot(
	options: () => Omit<uPlot.Options, "width" | "height">,
	data: uPlot.AlignedData,
	size: ChartSize,
	deps: unknown[],
): { box: RefObject<HTMLDivElement | null>; plot: RefObject<uPlot | null> } {
	const box = useRef<HTMLDivElement>(null);
	const plot = useRef<uPlot | null>(null);
	useEffect(() => {
		const el = box.current!;
		const width = () => Math.max(size.minWidth, el.clientWidth - (size.inset ?? 0));
		plot.current = new uPlot({ ...options(), width: width(), height: size.height }, data, el);
		const resize = new ResizeObserver(() => plot.current?.setSize({ width: width(), height: size.height }));
		resize.observe(el);
		return () => {
			resize.disconnect();
			plot.current?.destroy();
			plot.current = null;
		};
	}, deps);
	return { box, plot };
}
