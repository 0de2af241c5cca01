/**
 * A problem in plain words, above the form or list that caused it. Field errors are shown next to their
 * fields (`Field`); the banner lists only those no field on the screen shows (`fields` = the names shown).
 */
import type { ApiProblem } from "../api";

const PLAIN: Record<string, string> = {
	NETWORK_ERROR: "The server did not answer. Check your connection and try again.",
	RATE_LIMITED: "Too many requests. Wait a moment and try again.",
	TOO_MANY_ATTEMPTS: "Too many attempts. Wait a moment and try again.",
	FORBIDDEN: "You are not allowed to do this.",
	TENANT_REQUIRED: "Choose an organisation first (the switcher at the top).",
	SERVICE_UNAVAILABLE: "This part of the platform is not available right now. Try again shortly.",
	TIMEOUT: "The server took too long to answer. Try again.",
};

export function ProblemBanner({
	problem,
	fields = [],
	onDismiss,
}: {
	problem: ApiProblem | null | undefined;
	fields?: string[];
	onDismiss?: () => void;
}) {
	if (!problem) return null;
	const unshown = problem.errors.filter(e => !fields.some(f => e.field === f || e.field.startsWith(`${f}.`)));
	const shownNearFields = problem.errors.length > 0 && unshown.length === 0;
	const wait = problem.retryAfter ? ` (try again in ${problem.retryAfter} s)` : "";
	return (
		<div class="banner banner-error" role="alert" data-code={problem.code}>
			<p>
				<strong>{shownNearFields ? "Please correct the fields marked below." : (PLAIN[problem.code] ?? problem.detail)}</strong>
				{wait}
			</p>
			{unshown.length > 0 ? (
				<ul>
					{unshown.map(e => (
						<li key={e.field}>{e.message}</li>
					))}
				</ul>
			) : null}
			{onDismiss ? (
				<button type="button" class="link" onClick={onDismiss}>
					Dismiss
				</button>
			) : null}
		</div>
	);
}

/** A success or information line (announced politely to screen readers). */
export function Notice({ children, kind = "info" }: { children: preact.ComponentChildren; kind?: "info" | "success" }) {
	return (
		<div class={`banner banner-${kind}`} role="status">
			{children}
		</div>
	);
}
