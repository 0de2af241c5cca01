// Our conventions on top of Moleculer's schemas (README: "Conventions every service follows").
import "moleculer";
import type { AuthMode, Role, RateLimitRule } from "../lib/access";
import type { EntityFlag } from "../middlewares/entity.middleware";
import type { IdempotencyFlag } from "../middlewares/idempotency.middleware";

declare module "moleculer" {
	interface ActionSchema {
		/** Who may call: "required" (default for published actions), "optional" or "public". */
		auth?: AuthMode;
		/** Minimum tenant role (owner > admin > member); any one listed is enough. */
		roles?: Role[];
		/** What an API client's token needs to call (any one listed is enough); without, no client token reaches the action. */
		scopes?: string[];
		/** Safe to retry after a timeout or a lost node. Defaults to the HTTP semantics of `rest`. */
		idempotent?: boolean;
		/**
		 * A stricter limit for this action than the gateway's default (login, register, password reset, intake):
		 * `{ max, windowSec, by?: "ip" | "ip+account" | "user", bucket? }`, counted per client address unless
		 * `by` says otherwise (lib/access.ts).
		 */
		rateLimit?: RateLimitRule;
		/** Short text for the OpenAPI document. */
		summary?: string;
		/**
		 * Largest request body the gateway reads for this action ("16kb"). Default: PUBLIC_BODY_LIMIT for
		 * `auth: "public" | "optional"`, BODY_LIMIT otherwise (README: Security).
		 */
		bodyLimit?: string;
		/**
		 * The gateway hands this action the request body's exact bytes, unparsed, as the param `rawBody`
		 * (base64; "" without a body), within `bodyLimit`: for signatures over the body (lib/body.ts).
		 */
		rawBody?: boolean;
		/**
		 * Load the entity this action works on into `ctx.locals.entity` before the handler: the name of a
		 * service method `(ctx, id) => entity | null` (null: 404), or `{ method, param }` (middlewares/entity.middleware.ts).
		 */
		entity?: string | EntityFlag;
		/** This action's own request timeout (ms), instead of the broker's REQUEST_TIMEOUT_MS (Moleculer reads it). */
		timeout?: number;
		/**
		 * The `Idempotency-Key` header: "required" (400 without it) or "optional"; the first answer is stored
		 * and replayed to retries (middlewares/idempotency.middleware.ts, README "Conventions every service follows").
		 */
		idempotencyKey?: IdempotencyFlag;
		/** Set by the node that runs the action: callers sharing its Redis cache may read its entries (middlewares/caller-cache.middleware.ts). */
		callerCache?: boolean;
	}

	interface CallingOptions {
		/** The caller only serializes the answer: a memory-cache hit may be the frozen cached answer itself (lib/memory-cacher.ts). */
		answerOnlySerialized?: boolean;
	}

	/** @moleculer/channels consumers (its middleware reads `channels` from the schema; see lib/channels.ts). */
	// eslint-disable-next-line @typescript-eslint/no-unused-vars -- an augmentation repeats the type parameters
	interface ServiceSchema<TSettings, TMethods, TVars, TThis> {
		channels?: Record<
			string,
			| ((this: TThis, ...args: any[]) => unknown)
			| {
					group?: string;
					context?: boolean;
					maxRetries?: number;
					maxInFlight?: number;
					deadLettering?: { enabled?: boolean; queueName?: string };
					handler(this: TThis, ...args: any[]): unknown;
					[option: string]: unknown;
			  }
		>;
	}
}
