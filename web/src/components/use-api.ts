/**
 * Data for a screen: `const { data, problem, loading, reload } = useApi(() => get("/api/…"), [deps])`.
 * `useAction` runs a change (a submit, a button) and keeps its problem for the banner and the fields:
 *
 *   const save = useAction((name: string) => post("/api/teams", { name }));
 *   const r = await save.run(name); // never throws
 *   if (r.ok) …; <ProblemBanner problem={save.problem} />
 */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { asProblem, type ApiProblem } from "../api";

export function useApi<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[] = [], opts: { pollMs?: number } = {}) {
	const [data, setData] = useState<T | undefined>(undefined);
	const [problem, setProblem] = useState<ApiProblem | null>(null);
	const [loading, setLoading] = useState(true);
	const [tick, setTick] = useState(0);
	const loadRef = useRef(load);
	const polled = useRef(false);
	loadRef.current = load;
	useEffect(() => {
		const ctl = new AbortController();
		// a poll keeps showing the data it has; a change of deps shows the spinner
		if (!polled.current) setLoading(true);
		polled.current = false;
		loadRef.current(ctl.signal).then(
			d => {
				if (ctl.signal.aborted) return;
				setData(d);
				setProblem(null);
				setLoading(false);
			},
			e => {
				if (ctl.signal.aborted) return;
				setProblem(asProblem(e));
				setLoading(false);
			},
		);
		const timer = opts.pollMs
			? setTimeout(() => {
					polled.current = true;
					setTick(t => t + 1);
				}, opts.pollMs)
			: undefined;
		return () => {
			ctl.abort();
			clearTimeout(timer);
		};
	}, [...deps, tick]);
	const reload = useCallback(() => setTick(t => t + 1), []);
	return { data, problem, loading, reload };
}

export type ActionResult<R> = { ok: true; value: R } | { ok: false; problem: ApiProblem };

export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
	const [problem, setProblem] = useState<ApiProblem | null>(null);
	const [busy, setBusy] = useState(false);
	const run = useCallback(
		async (...args: A): Promise<ActionResult<R>> => {
			setBusy(true);
			setProblem(null);
			try {
				return { ok: true, value: await fn(...args) };
			} catch (e) {
				const problem = asProblem(e);
				setProblem(problem);
				return { ok: false, problem };
			} finally {
				setBusy(false);
			}
		},
		[fn],
	);
	return { run, problem, busy, setProblem };
}
