/**
 * Errors of the platform itself, one class per failure (like Moleculer's own `src/errors.js`); the
 * gateway turns each into problem details (`lib/problem.ts`).
 */
import { Errors } from "moleculer";

/** The node's services are still starting: nothing is routed yet (503 with Retry-After). */
export class ServiceStartingError extends Errors.MoleculerRetryableError {
	constructor() {
		super("This node is still starting.", 503, "SERVICE_STARTING");
		this.name = "ServiceStartingError";
	}
}
