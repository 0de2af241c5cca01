/**
 * Tenant scoping for records that live outside a db adapter: jobs in their engine (BullMQ on Redis, or
 * the embedded one), schedules in Redis or their collections. The rules are TenantDbMixin's: the tenant
 * comes from the caller (`tenantOf(ctx)`: 403 without one), a record of another tenant answers exactly
 * like a missing one (404, so ids cannot be probed), a new record is stamped with the caller's tenant.
 *
 *   mixins: [TenantRecordsMixin<JobRecord, JobQuery, JobsThis>({ get(id) { … }, list(tenantId, q) { … } })],
 *
 * A service built on it reads its records only through `scopedRecord` / `scopedRecords`, and its
 * store's mutations take a `Scoped` record — one that came through these methods — never a bare id,
 * so a handler cannot act on an id it did not scope: the type checker refuses it. The deliberate ways
 * out (operators' REPL commands, platform records with no tenant) are `unscopedRecord` and
 * `platformRecord`: grep for them to review every cross-tenant access.
 */
import { NotFoundError } from "../lib/errors";
import { defineMixin, type Mixin } from "../lib/schema";
import { tenantOf, type TenantScope } from "./tenant.mixin";

declare const SCOPED: unique symbol;
/** A record that came through the tenant scoping (or through its deliberate way out). */
export type Scoped<R> = R & { readonly [SCOPED]: true };

export interface TenantRecord {
	id: string;
	/** null: a platform record (no tenant) */
	tenantId: string | null;
}

/** Where the records are: the only two reads the scoping needs. `this` is the service. */
export interface RecordSource<R extends TenantRecord, Q> {
	get(id: string): Promise<R | null>;
	/** the tenant's records (null: the platform's) matching `q` */
	list(tenantId: string | null, q: Q): Promise<{ rows: R[]; total: number }>;
}

export interface TenantRecordsMethods<R extends TenantRecord, Q> {
	/** The record with this id if it is the caller's tenant's, else 404 (the same for a missing one). */
	scopedRecord(ctx: TenantScope, id: string): Promise<Scoped<R>>;
	/** The caller's tenant's records matching `q`. */
	scopedRecords(ctx: TenantScope, q: Q): Promise<{ rows: Scoped<R>[]; total: number }>;
	/** A new record of the caller's tenant (`tenantId` stamped from the caller, over whatever `fields` say). */
	scopedNew<T extends object>(ctx: TenantScope, fields: T): Scoped<T & { tenantId: string }>;
	/** THE way out: a record of any tenant, or null (operators, services acting for the platform). */
	unscopedRecord(id: string): Promise<Scoped<R> | null>;
	/** A platform record (no tenant), e.g. a platform schedule declared by a service. */
	platformRecord<T extends object>(fields: T): Scoped<T & { tenantId: null }>;
}

const scoped = <T>(record: T) => record as Scoped<T>;

export function TenantRecordsMixin<R extends TenantRecord, Q, TThis = unknown>(source: RecordSource<R, Q> & ThisType<TThis>): Mixin {
	// `this` in the mixin's methods is the service the source was written for (TThis)
	const get = (svc: unknown, id: string) => source.get.call(svc as TThis, id);
	const list = (svc: unknown, tenantId: string | null, q: Q) => source.list.call(svc as TThis, tenantId, q);
	return defineMixin<object, TenantRecordsMethods<R, Q>>({
		methods: {
			async scopedRecord(ctx, id) {
				const tenantId = tenantOf(ctx);
				const record = await get(this, id);
				if (!record || record.tenantId !== tenantId) throw new NotFoundError("Not found.", id);
				return scoped(record);
			},
			async scopedRecords(ctx, q) {
				const tenantId = tenantOf(ctx);
				const { rows, total } = await list(this, tenantId, q);
				// the source was asked for this tenant's; a row of another would be its bug, never an answer
				return { rows: rows.filter(r => r.tenantId === tenantId).map(scoped), total };
			},
			scopedNew(ctx, fields) {
				return scoped({ ...fields, tenantId: tenantOf(ctx) });
			},
			async unscopedRecord(id) {
				const record = await get(this, id);
				return record ? scoped(record) : null;
			},
			platformRecord(fields) {
				return scoped({ ...fields, tenantId: null });
			},
		},
	});
}
