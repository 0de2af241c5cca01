/**
 * Users named in engagement requests (a task's assignee, a transfer's recipient, a challenge's
 * opponent) must be members of the caller's tenant. Checked with identity's internal
 * `tenants.membership` when that service runs; a node that never saw it (engagement-only
 * deployments and tests) skips the check with a warning once a minute.
 */
import type { Service, ServiceBroker } from "moleculer";
import { asSystem, type CallerScope } from "../../lib/context";
import { NotAMemberError } from "../../lib/errors";

/** the calling service: whose broker asks, whose log warns */
interface Caller {
	broker: ServiceBroker;
	logger: Service["logger"];
}
const lastWarning = new WeakMap<Caller, number>();

export async function requireMembers(
	svc: Caller,
	ctx: CallerScope & { call: ServiceBroker["call"] },
	tenantId: string,
	userIds: (string | null | undefined)[],
	field: string,
): Promise<void> {
	const ids = [...new Set(userIds.filter((u): u is string => typeof u === "string" && u.length > 0))];
	if (!ids.length) return;
	if (!svc.broker.registry.getActionEndpoints("tenants.membership")?.hasAvailable()) {
		if (Date.now() - (lastWarning.get(svc) ?? 0) > 60_000) {
			lastWarning.set(svc, Date.now());
			svc.logger.warn("tenant membership NOT checked: the tenants service is not running", { tenantId, field });
		}
		return;
	}
	const results = await Promise.all(ids.map(userId => ctx.call("tenants.membership", { tenantId, userId }, asSystem(tenantId))));
	const outsiders = ids.filter((_, i) => !results[i]);
	if (outsiders.length) throw new NotAMemberError(field, outsiders);
}
