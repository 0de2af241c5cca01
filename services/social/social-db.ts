/**
 * What DbMixin adds to `this` in the social services (their collections are global, not tenant-scoped:
 * TenantDbMethods does not apply), typed once for all of them.
 */
import { Errors, type Context } from "moleculer";
import { ConflictError } from "../../lib/errors";
import { isDuplicateKeyError, type DbThis } from "../../mixins/db.mixin";

/** The store adapter: the social services query it directly (their own rows, no tenant to scope by). */
export interface SocialDbVars {
	adapter: DbThis["adapter"];
}

export interface SocialDbMethods {
	/** moleculer-db's `_create`: id and timestamps stamped, unique keys enforced (409 CONFLICT on a clash). */
	_create<T = Record<string, unknown>>(ctx: Context | null, entity: Record<string, unknown>): Promise<T>;
}

/**
 * A unique key clash on insert (`_create`). Transitional: db.mixin's `conflict()` still raises a plain
 * MoleculerClientError of type CONFLICT rather than lib/errors' ConflictError, and a raw store error
 * can reach an adapter call; once `conflict()` raises ConflictError, `instanceof` alone decides.
 */
export function isUniqueClash(err: unknown): boolean {
	if (err instanceof ConflictError || isDuplicateKeyError(err)) return true;
	return err instanceof Errors.MoleculerClientError && err.code === 409 && err.type === "CONFLICT";
}
