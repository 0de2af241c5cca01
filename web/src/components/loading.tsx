/** Waiting states: an indeterminate spinner line, and a progress bar for long work with a percentage. */
import type { ComponentChildren } from "preact";

export function Loading({ label = "Loading…" }: { label?: string }) {
	return (
		<p class="loading" role="status" aria-live="polite">
			<span class="spinner" aria-hidden="true" />
			{label}
		</p>
	);
}

/** Long work (an import, a report): `value` 0–100, or undefined while the percentage is unknown. */
export function Progress({ label, value, message }: { label: string; value?: number; message?: string }) {
	return (
		<div class="progress">
			<label>
				{label}
				<progress max={100} value={value} aria-valuetext={value === undefined ? "in progress" : `${Math.round(value)} %`} />
			</label>
			{message ? <p class="hint">{message}</p> : null}
		</div>
	);
}

/**
 * What a `useApi` loaded: the spinner until the first answer, then `children(data)`; nothing after a failed
 * first load (its `ProblemBanner` says why). A reload keeps showing the data it has.
 *
 *   <Loaded api={list}>{data => <Table … rows={data.rows} />}</Loaded>
 */
export function Loaded<T>({
	api,
	label,
	children,
}: {
	api: { data: T | undefined; loading: boolean };
	label?: string;
	children(data: T): ComponentChildren;
}) {
	if (api.loading && !api.data) return <Loading label={label} />;
	return api.data ? <>{children(api.data)}</> : null;
}
