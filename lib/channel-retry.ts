/**
 * Which channel-handler failures wait instead of counting (lib/channels.ts): the handler called a service
 * that has no live node right now (restarting, being deployed). Retrying the message later is the fix, and
 * the message is not at fault, so it must not land in the dead letters for it.
 */

/** Moleculer's errors for "no node of that service answers right now", also when they come from a node further down. */
const SERVICE_UNREACHABLE = new Set(["SERVICE_NOT_FOUND", "SERVICE_NOT_AVAILABLE", "REQUEST_TIMEOUT"]);
/** Whether a handler failed because a service it needs is unreachable (then waiting, not counting, is right). */
export function awaitsService(err: unknown): boolean {
	const type = (err as { type?: unknown } | null)?.type;
	return typeof type === "string" && SERVICE_UNREACHABLE.has(type);
}
