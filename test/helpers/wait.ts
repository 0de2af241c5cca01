/**
 * Polls until `check` returns a truthy value (or stops throwing), with a deadline. For asynchronous
 * effects (channel consumers, node discovery): the test waits for the effect, not for a fixed time.
 */
export async function waitFor<T>(check: () => Promise<T> | T, opts: { timeoutMs?: number; intervalMs?: number; what?: string } = {}): Promise<T> {
	const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
	let lastError: unknown;
	for (;;) {
		try {
			const value = await check();
			if (value) return value;
		} catch (err) {
			lastError = err;
		}
		if (Date.now() > deadline)
			throw new Error(`timed out waiting for ${opts.what ?? "condition"}${lastError ? `: ${(lastError as Error).message}` : ""}`);
		await new Promise(r => setTimeout(r, opts.intervalMs ?? 50));
	}
}
