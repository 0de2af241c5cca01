/** Waiting states: an indeterminate spinner line, and a progress bar for long work with a percentage. */

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
