/**
 * Readiness probes of this process: each dependency a node holds (a database connection, say)
 * registers one; `/health/ready` runs them all with a deadline.
 */
type Probe = () => Promise<void>;

const probes = new Map<string, Probe>();

export function registerReadinessProbe(name: string, probe: Probe): void {
	probes.set(name, probe);
}

export function unregisterReadinessProbe(name: string): void {
	probes.delete(name);
}

export interface ProbeResult {
	name: string;
	ok: boolean;
	error?: string;
}

/** Runs a check with a deadline: a dependency that does not answer is as bad as one that fails. */
export async function withDeadline(name: string, check: () => Promise<unknown>, ms: number): Promise<ProbeResult> {
	let timer: NodeJS.Timeout | undefined;
	try {
		await Promise.race([
			check(),
			new Promise((_, reject) => {
				timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
			}),
		]);
		return { name, ok: true };
	} catch (err) {
		return { name, ok: false, error: (err as Error).message };
	} finally {
		clearTimeout(timer);
	}
}

export function runReadinessProbes(ms: number): Promise<ProbeResult[]> {
	return Promise.all([...probes].map(([name, probe]) => withDeadline(name, probe, ms)));
}
