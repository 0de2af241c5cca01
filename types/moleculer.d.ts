// Our conventions on top of Moleculer's schemas (see DESIGN.md §3).
import "moleculer";
import type { AuthMode, Role, RateLimitRule } from "../lib/access";

declare module "moleculer" {
	interface ActionSchema {
		/** Who may call: "required" (default for published actions), "optional" or "public". */
		auth?: AuthMode;
		/** Minimum tenant role (owner > admin > member); any one listed is enough. */
		roles?: Role[];
		/** Safe to retry after a timeout or a lost node. Defaults to the HTTP semantics of `rest`. */
		idempotent?: boolean;
		/** A stricter limit for this action than the gateway's default (e.g. login). */
		rateLimit?: RateLimitRule;
		/** Short text for the OpenAPI document. */
		summary?: string;
	}
}
