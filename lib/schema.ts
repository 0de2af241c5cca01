/**
 * Service and mixin schema types. A service is `ServiceSchema<Settings, Methods, Vars>` (Moleculer's
 * own type, as in the moleculer 0.15 TypeScript template): handlers, methods, events and hooks see
 * `this` as `Service<Settings> & Vars & Methods` through `ThisType`, so no handler annotates `this`.
 * A mixin exports the type of the methods it adds (`TenantDbMethods`, `OutboxMethods`, …) and a
 * service lists them in its `Methods`. README: "Conventions every service follows".
 */
import type { Service, ServiceSchema, ServiceSettingSchema } from "moleculer";

export type { ServiceSchema, ServiceSettingSchema };

/** `this` inside a `ServiceSchema<Settings, Methods, Vars>` (what Moleculer's ThisType gives its handlers). */
export type ServiceThis<TSettings = DbSettings, TMethods = object, TVars = object> = Service<TSettings> & TVars & TMethods;

/**
 * A channel consumer written outside the schema literal (a factory for several channels): typed by
 * its service's `this`, so its handler needs no `this` annotation. Its handler gets the channel's
 * context (the broker's channels middleware runs with `context: true`).
 */
export type ChannelSchema<TThis> = {
	group?: string;
	maxRetries?: number;
	deadLettering?: { enabled?: boolean; queueName?: string };
	handler(...args: any[]): unknown;
	[option: string]: unknown;
} & ThisType<TThis>;

/** Settings every db-backed service may carry (moleculer-db reads them). */
export interface DbSettings extends ServiceSettingSchema {
	/** the public fields of an entity, in the order they are answered */
	fields?: string[];
	pageSize?: number;
	maxPageSize?: number;
	maxLimit?: number;
	idField?: string;
}

/**
 * A mixin: part of a service schema, plus the top-level keys moleculer-db and its Mongoose adapter
 * read from the schema (`adapter`, `model`, `schema`, `modelName`), which Moleculer's type lacks.
 */
export type MixinSchema<TSettings = DbSettings, TMethods = object, TVars = object> = Partial<ServiceSchema<TSettings, TMethods, TVars>> & {
	adapter?: unknown;
	model?: unknown;
	schema?: unknown;
	modelName?: string;
};

/**
 * What a mixin factory returns, as a service lists it in `mixins`. Moleculer types `mixins` as
 * `Partial<ServiceSchema>[]`, whose `this` is the untyped Service: a mixin typed with its own
 * `this` (adapter, its methods) is not assignable to it, so `defineMixin` hands it over as this type.
 */
export type Mixin = Partial<ServiceSchema> & Pick<MixinSchema, "adapter" | "model" | "schema" | "modelName">;

/**
 * Types a mixin's schema by its settings, methods and vars (`this` inside it is
 * `Service<Settings> & Vars & Methods`) and answers it as a `Mixin` a service can list.
 */
export function defineMixin<TSettings = DbSettings, TMethods = object, TVars = object>(schema: MixinSchema<TSettings, TMethods, TVars>): Mixin {
	// Moleculer's `mixins: Partial<ServiceSchema>[]` cannot hold a schema typed with its own `this` (see `Mixin`).
	return schema as Mixin;
}
