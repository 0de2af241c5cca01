/**
 * Loads the entity an action works on before its handler runs, by declaration (as icebob/kantab's
 * find-entity middleware does): an action says `entity: "loadVisible"` and the service method of that
 * name is called with `(ctx, ctx.params.id)`; its answer is in `ctx.locals.entity` for the handler.
 * A method that answers null or undefined means "not there, or not yours": 404 NOT_FOUND, the same
 * answer for both so ids cannot be probed. `{ method, param }` reads the id from another param.
 * The handler reads it with `entityOf<T>(ctx)`.
 *
 * The flag is read once, when the handler is wrapped; actions without it are not wrapped at all.
 * It runs after validation and the access check, so the id it reads is a validated one.
 */
import type { ActionSchema, Context, Middleware, Service } from "moleculer";
import { NotFoundError } from "../lib/errors";

export interface EntityFlag {
	/** the service method that loads the entity: `(ctx, id) => entity | null` */
	method: string;
	/** the param holding the id (default `id`) */
	param?: string;
}

type Loader = (ctx: Context, id: unknown) => Promise<unknown> | unknown;

export const EntityMiddleware: Middleware = {
	name: "Entity",
	localAction(handler, action: ActionSchema) {
		if (!action.entity) return handler;
		const flag: EntityFlag = typeof action.entity === "string" ? { method: action.entity } : action.entity;
		const param = flag.param ?? "id";
		const service = action.service as (Service & Record<string, unknown>) | undefined;
		const load = service?.[flag.method];
		if (typeof load !== "function")
			throw new Error(`${action.name}: "entity" names ${flag.method}, which is not a method of ${service?.name ?? "its service"}`);
		const next = handler as (ctx: Context) => Promise<unknown>;
		return async function loadEntity(ctx: Context) {
			const id = (ctx.params as Record<string, unknown>)[param];
			const entity = await (load as Loader).call(service, ctx, id);
			if (entity == null) throw new NotFoundError("Not found.", typeof id === "string" ? id : undefined);
			(ctx.locals as Record<string, unknown>).entity = entity;
			return next(ctx);
		};
	},
};

/**
 * The entity `entity:` loaded for this call. Typed by the caller: Moleculer types `ctx.locals` as a
 * plain record, and a handler typed with narrower locals would not match its ActionHandler type.
 */
export function entityOf<T>(ctx: Context): T {
	const entity = (ctx.locals as { entity?: T }).entity;
	if (entity === undefined) throw new Error("entityOf: this action declares no `entity:` flag");
	return entity;
}
