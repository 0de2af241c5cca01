/**
 * What DbMixin adds to `this` in the social services (their collections are global, not tenant-scoped:
 * TenantDbMethods does not apply), typed once for all of them.
 */
import type { Context } from "moleculer";
import type { DbThis } from "../../mixins/db.mixin";

/** The store adapter: the social services query it directly (their own rows, no tenant to scope by). */
export interface SocialDbVars {
	adapter: DbThis["adapter"];
}

export interface SocialDbMethods {
	/** moleculer-db's `_create`: id and timestamps stamped, unique keys enforced (409 CONFLICT on a clash). */
	_create<T = Record<string, unknown>>(ctx: Context | null, entity: Record<string, unknown>): Promise<T>;
}
