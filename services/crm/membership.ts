/**
 * Assignees must be members of the tenant (rules' pools and fixed users, manual assignment, plan
 * members), checked with identity's internal `tenants.membership`.
 *
 * CRM runs without identity in CRM-only deployments and tests, so the check depends on the
 * `tenants` service:
 * - available → every user id is checked; non-members are a 422 naming the field and the ids;
 * - never seen by this node → skipped, with a warning (at most once a minute per service);
 * - seen before but unavailable now (an identity outage) → 503, fail closed: a transient outage
 *   must not let non-members in.
 */
import { Errors, type Context, type Service } from "moleculer";
import { asSystem, type CallerScope } from "../../lib/context";
import { NotAMemberError } from "../../lib/errors";

/** What can ask another service: an action or channel context. */
type Caller = CallerScope & Pick<Context, "call">;

interface MembershipState {
	tenantsSeen: boolean;
	lastSkipWarning: number;
}
const state = new WeakMap<Service, MembershipState>();

export async function requireMembers(
	svc: Service,
	ctx: Caller,
	tenantId: string,
	userIds: (string | null | undefined)[],
	field: string,
): Promise<void> {
	const ids = [...new Set(userIds.filter((u): u is string => typeof u === "string" && u.length > 0))];
	if (!ids.length) return;
	let s = state.get(svc);
	if (!s) state.set(svc, (s = { tenantsSeen: false, lastSkipWarning: 0 }));
	if (!svc.broker.registry.getActionEndpoints("tenants.membership")?.hasAvailable()) {
		if (s.tenantsSeen) throw new Errors.ServiceNotAvailableError({ action: "tenants.membership", nodeID: svc.broker.nodeID });
		if (Date.now() - s.lastSkipWarning > 60_000) {
			s.lastSkipWarning = Date.now();
			svc.logger.warn("tenant membership of assignees NOT checked: the tenants service is not running", { tenantId, field });
		}
		return;
	}
	s.tenantsSeen = true;
	const results = await Promise.all(ids.map(userId => ctx.call("tenants.membership", { tenantId, userId }, asSystem(tenantId))));
	const outsiders = ids.filter((_, i) => !results[i]);
	if (outsiders.length) throw new NotAMemberError(field, outsiders);
}
