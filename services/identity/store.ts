/** Moved to `mixins/collection.ts` (the outbox mixin uses it too); kept as an alias for existing importers. */
export { Collection } from "../../mixins/collection";
