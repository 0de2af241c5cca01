/** A service schema whose handlers see `this` as the service plus its own methods and fields. */
import type { Service, ServiceSchema } from "moleculer";

type Loose = Record<string, any>;

export type Schema<TVars extends object = Loose> = ServiceSchema<Loose, Loose, Loose, Service<Loose> & TVars>;
/** Mixins may carry extra top-level keys (moleculer-db's `adapter`, `model`, …). */
export type MixinSchema<TVars extends object = Loose> = Partial<Schema<TVars>> & Loose;
