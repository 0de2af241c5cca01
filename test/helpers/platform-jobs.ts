/**
 * Platform jobs in an in-process platform (with `jobs` and `scheduler` among its services): run one as the
 * scheduler would and wait for its outcome, and read a registered platform schedule.
 */
import type { Service, ServiceBroker } from "moleculer";
import type { JobRecord } from "../../services/platform/jobs/types";
import { waitFor } from "./wait";

/** Enqueues a platform job (no tenant) and waits until it completed or is dead. */
export async function runPlatformJob(broker: ServiceBroker, type: string): Promise<JobRecord> {
	const job = (await broker.call("jobs.add", { type, tenantId: null, payload: {} })) as JobRecord;
	return waitFor(
		async () => {
			const now = (await broker.call("jobs.find", { id: job.id })) as JobRecord;
			return now.status === "completed" || now.status === "dead" ? now : null;
		},
		{ what: `job ${type}` },
	) as Promise<JobRecord>;
}

/** The platform schedule with this id, once a service has registered it. */
export function platformSchedule(broker: ServiceBroker, id: string): Promise<{ jobType: string; cron: string }> {
	const store = (broker.getLocalService("scheduler") as Service & { store: { get(id: string): Promise<{ jobType: string; cron: string } | null> } })
		.store;
	return waitFor(() => store.get(id), { what: `schedule ${id}` }) as Promise<{ jobType: string; cron: string }>;
}
