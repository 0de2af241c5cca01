/**
 * Runs one attempt of a job with its timeout and its cancel signal, for both engines. The handler gets
 * one signal that aborts on either; the attempt ends as soon as it aborts, whether or not the handler
 * honours the signal (its promise is then left to settle on its own: JavaScript cannot stop it).
 */
import { JobCancelledError, JobTimeoutError } from "../../../lib/errors";
import type { JobContext, JobHandler } from "./types";

export async function runAttempt(
	handler: JobHandler,
	job: Omit<JobContext, "signal">,
	opts: { timeoutMs: number; cancel: AbortSignal },
): Promise<unknown> {
	const controller = new AbortController();
	const abort = (reason: Error) => {
		if (!controller.signal.aborted) controller.abort(reason);
	};
	const timer = setTimeout(() => abort(new JobTimeoutError(opts.timeoutMs)), opts.timeoutMs);
	const onCancel = () => abort(new JobCancelledError());
	if (opts.cancel.aborted) onCancel();
	else opts.cancel.addEventListener("abort", onCancel, { once: true });
	const aborted = new Promise<never>((_, reject) => {
		const fail = () => reject(controller.signal.reason);
		if (controller.signal.aborted) fail();
		else controller.signal.addEventListener("abort", fail, { once: true });
	});
	aborted.catch(() => undefined);
	try {
		return await Promise.race([Promise.resolve().then(() => handler({ ...job, signal: controller.signal })), aborted]);
	} finally {
		clearTimeout(timer);
		opts.cancel.removeEventListener("abort", onCancel);
	}
}
