/** A status as a chip: `class="status status-<status>"` (styles.css colours each) with its words. */
export function StatusChip<S extends string>({ status, words }: { status: S; words: Record<S, string> }) {
	return <span class={`status status-${status}`}>{words[status]}</span>;
}

/** Up or down, yes or no: the words in `status-ok` or `status-bad`. */
export function OkBad({ ok, children }: { ok: boolean; children: preact.ComponentChildren }) {
	return <span class={ok ? "status-ok" : "status-bad"}>{children}</span>;
}
